// Benchmark figures, each beside its baseline from the same run, written to results/bench/.
import fs from "node:fs";
import path from "node:path";
import { readJsonResults, resultsDir, writeJsonResult } from "../../common/paths.js";
import { markdownTable } from "../../common/table.js";
import { machineInfo, type MachineInfo } from "../measure/machine.js";

export interface Figure {
  id: string;
  part: "A" | "B" | "C" | "all";
  figure: string;
  unit: string;
  value: number;
  /** Higher is better (throughput) or lower is better (latency, memory). */
  better: "higher" | "lower";
  baseline?: { name: string; value: number; /** When it counts something else (messages for orders). */ unit?: string };
  /** value / baseline, when there is a baseline. */
  ratio?: number;
  target: string;
  /** The target as a multiple of the baseline, when it is one (a plot marks it). */
  targetRatio?: number;
  met: boolean;
  notes?: string;
}

export interface BenchRun {
  name: string;
  quick: boolean;
  machine: MachineInfo;
  figures: Figure[];
  details: Record<string, unknown>;
  at: string;
}

/** What every benchmark is given: a private lab folder, the size, a progress line. */
export interface BenchOptions {
  home: string;
  quick: boolean;
  log: (line: string) => void;
  /** Flags for node when it runs the services, e.g. ["--cpu-prof", "--cpu-prof-dir=…"] to profile them. */
  nodeArgs?: string[];
}

/** What a benchmark hands back: its figures, the raw measurements, and versions for the machine table. */
export interface BenchResult {
  figures: Figure[];
  details: Record<string, unknown>;
  versions?: Record<string, string>;
}

/** "≤ 200 MB" for each service of a part, from the peaks over the whole benchmark. */
export function memoryFigures(part: "A" | "B" | "C", peaks: Record<string, number>, load: string): Figure[] {
  return Object.entries(peaks).map(([role, mb]) => ({
    id: `${part}.memory.${role}`,
    part,
    figure: `peak memory, Part ${part} ${role} (${load})`,
    unit: "MB",
    better: "lower" as const,
    value: mb,
    target: "≤ 200 MB",
    met: mb <= 200,
  }));
}

/**
 * A figure beside its baseline, with a target as a multiple of it: at least `targetRatio` ×
 * the baseline when higher is better (throughput), at most when lower is better (latency).
 * `holds` adds what else must be true for the target to count as met (no errors, say).
 */
export function againstBaseline(
  f: Omit<Figure, "ratio" | "target" | "met" | "baseline"> & {
    baseline: NonNullable<Figure["baseline"]>;
    targetRatio: number;
    holds?: boolean;
  },
): Figure {
  const { holds = true, ...figure } = f;
  const targetRatio = f.targetRatio;
  const ratio = f.value / f.baseline.value;
  const within = f.better === "higher" ? ratio >= targetRatio : ratio <= targetRatio;
  return {
    ...figure,
    ratio: ratioOf(f.value, f.baseline.value),
    target: `${f.better === "higher" ? "≥" : "≤"} ${targetRatio} × baseline`,
    met: within && holds,
  };
}

/** value / baseline to two significant digits (0.031, 0.62, 1.3). */
export const ratioOf = (value: number, baseline: number): number => Number((value / baseline).toPrecision(2));

/** A benchmark's result as a run, on this machine, now: written to results/bench/<name>.json. */
export function writeBenchRun(name: string, quick: boolean, result: BenchResult, dir = resultsDir("bench")): BenchRun {
  const { figures, details, versions } = result;
  const run = { name, quick, machine: machineInfo(versions), figures, details, at: new Date().toISOString() };
  writeJsonResult(dir, name, run);
  return run;
}

export const readBenchRuns = (dir = resultsDir("bench")): BenchRun[] => readJsonResults<BenchRun>(dir);

/** One flat row per figure of the latest runs, for a table or a plot (04-compare plots these). */
export function benchRows(runs: BenchRun[] = readBenchRuns()) {
  return runs.flatMap((r) =>
    r.figures.map((f) => ({
      run: r.name,
      quick: r.quick,
      at: r.at,
      part: f.part,
      id: f.id,
      figure: f.figure,
      unit: f.unit,
      better: f.better,
      value: f.value,
      baseline: f.baseline?.value ?? null,
      baseline_name: f.baseline?.name ?? null,
      ratio: f.ratio ?? null,
      target: f.target,
      target_ratio: f.targetRatio ?? null,
      met: f.met,
    })),
  );
}

const fmt = (v: number) =>
  Math.abs(v) >= 100 ? Math.round(v).toLocaleString("en-US") : String(Math.round(v * 1000) / 1000);

export function figuresTable(figures: Figure[]) {
  return figures.map((f) => ({
    part: f.part,
    figure: f.figure,
    value: `${fmt(f.value)} ${f.unit}`,
    baseline: f.baseline ? `${fmt(f.baseline.value)} ${f.baseline.unit ?? f.unit} (${f.baseline.name})` : "—",
    ratio: f.ratio === undefined ? "—" : String(f.ratio),
    target: f.target,
    met: f.met ? "✔" : "✖",
  }));
}

/** results/bench/README.md: every figure of the latest runs, the machine, and what they teach. */
export function writeBenchReadme(runs: BenchRun[], lessons: string[], dir = resultsDir("bench")): string {
  const figures = runs.flatMap((r) => r.figures);
  // The same machine for every run; each bench adds the versions of what it ran (brokers).
  const machine = runs.length ? Object.assign({}, ...runs.map((r) => r.machine)) : undefined;
  const text = [
    "# Benchmarks",
    "",
    `Each figure is measured beside its baseline in the same run on the same machine (${runs.some((r) => r.quick) ? "quick mode: smaller counts, a smoke test more than a measurement" : "full sizes"}).`,
    "Latency percentiles come from an HDR histogram; latency is measured under load at a fixed rate, from each request's intended start time, so a stall counts against every request it delayed (coordinated omission corrected).",
    "",
    markdownTable(figuresTable(figures)),
    "",
    "![Each figure against its baseline](ratios.svg)",
    "",
    "![Peak memory of each service](memory.svg)",
    "",
    ...(figures.some((f) => f.notes)
      ? ["## Notes", "", ...figures.filter((f) => f.notes).map((f) => `- **${f.figure}** — ${f.notes}`), ""]
      : []),
    "## Machine",
    "",
    machine ? markdownTable(Object.entries(machine).map(([k, v]) => ({ what: k, value: String(v) }))) : "",
    "",
    "## What the numbers teach",
    "",
    ...lessons.map((l) => `- ${l}`),
    "",
  ].join("\n");
  const file = path.join(dir, "README.md");
  fs.writeFileSync(file, text);
  return file;
}

type Details = Record<string, any>;

/** What a lesson reads: the figures by id, each bench's details, the machine. */
interface LessonRun {
  f: Map<string, Figure>;
  details: (name: string) => Details | undefined;
  cores: number;
}

/** Part A: what the framework and the client cost against the bare chain. */
function partALesson({ f, details }: LessonRun): string | undefined {
  const [p50, rate, cost] = [f.get("A.latency.p50"), f.get("A.throughput"), details("partA")?.client_cost_ms_per_call];
  if (!p50?.baseline || !rate?.baseline || !cost) return undefined;
  const extra = Math.round((cost.axios_with_policy - cost.node_http) * 1000) / 1000;
  // The order service makes two calls per order: what they add, against what the order's latency adds.
  const most = 2 * extra >= (p50.value - p50.baseline.value) / 2;
  return (
    `A synchronous order costs two network hops: ${p50.value} ms at the median here against ${p50.baseline.value} ms for the bare node:http chain, and ${Math.round((rate.ratio ?? 0) * 100)} % of its throughput (${fmt(rate.value)} vs ${fmt(rate.baseline.value)} orders/s). ` +
    `${most ? "Most of the difference is the client, not the framework" : "Part of the difference is the client"}: one call through axios costs its caller ${cost.axios} ms of CPU (${cost.axios_with_policy} ms with timeout, retries and deadline) against ${cost.node_http} ms with node:http, and the order service, one thread, makes two per order. ` +
    `Convenience has a price that can be measured: here ${extra} ms per call. Connecting can cost far more: Part A's connection experiment (lab-scripts/partA-connections.mjs) measures it per hop.`
  );
}

/** Part B: what an order costs the broker and the machine, end to end. */
function partBCostLesson({ f, details, cores }: LessonRun): string | undefined {
  const [rate, b] = [f.get("B.throughput"), details("partB")];
  const cpu = b?.sustained?.cpu_ms_per_order as Record<string, number> | undefined;
  if (!rate?.baseline || !b?.message_flow || !cpu) return undefined;
  return (
    `Asynchronous is not free: an order in Part B is 3 confirmed publishes, 4 deliveries and 8 disk commits (shared by a batch where batches form). It sustains ${fmt(rate.value)} orders/s from POST to user notified, ${rate.ratio} × a bare publish-and-consume of one message (${fmt(rate.baseline.value)}/s) and ${ratioOf(rate.value, b.message_flow.orders_per_s)} × the same message flow without the services (${fmt(b.message_flow.orders_per_s)}/s). ` +
    `It costs ${cpu.total} ms of CPU per order over all processes, ${cpu.rabbitmq ?? "?"} ms of it in RabbitMQ: on ${cores} cores that is the ceiling of this design, before any code is slow.`
  );
}

/** Part B: what batching shares, against batch size 1 in the same run. */
function partBBatchingLesson({ f, details }: LessonRun): string | undefined {
  const [rate, drain, b] = [f.get("B.throughput"), f.get("B.drain"), details("partB")];
  const one = b?.batch_size_1 as { orders_per_s: number; drain_per_s: number } | undefined;
  if (!rate || !drain || !one) return undefined;
  return (
    `Batching shares what a group of messages can share — one store transaction, one confirm wait, one ack — and nothing else: in batches of up to ${fmt(b!.batch_max)} Part B sustained ${fmt(rate.value)} orders/s and drained ${fmt(drain.value)}/s, ` +
    `against ${fmt(one.orders_per_s)} and ${fmt(one.drain_per_s)}/s with every service at batch size 1 in the same run (${ratioOf(rate.value, one.orders_per_s)} × and ${ratioOf(drain.value, one.drain_per_s)} ×). ` +
    "What is left is per message — parsing and checking it, its log line, its publish, RabbitMQ's deliveries — and per request on the order service's one thread, which batching does not touch; batches only fill where messages wait (lab-scripts/partB-batching.mjs shows how full they were)."
  );
}

/** Part B: the 202 and the backlog, decoupled in time but not in CPU. */
function partBBacklogLesson({ f, details }: LessonRun): string | undefined {
  const [p99, drain, b] = [f.get("B.accept.p99"), f.get("B.drain"), details("partB")];
  const alone = b?.backlog?.accept_while_inventory_down?.p99_ms as number | undefined;
  if (!p99 || !drain?.baseline || !b?.accept || alone === undefined) return undefined;
  return (
    `The client never waits for inventory, but it shares the machine with it: at half that rate the 202 comes back in ${fmt(b.accept.p50_ms)} ms at the median and ${fmt(p99.value)} ms at p99 (one disk commit and one broker confirm), ` +
    `and in ${fmt(alone)} ms at p99 at the same rate while inventory is stopped${alone < p99.value ? ": asynchronous work is decoupled in time, not in CPU" : ""}. ` +
    `After an outage, inventory works through a backlog of ${fmt(b.backlog?.backlog ?? 0)} at ${fmt(drain.value)} orders/s, ${drain.ratio} × a consumer that only acks: each message is a reservation on disk, a confirmed answer, then the ack.`
  );
}

/** Part C: writing a log against reading it. */
function partCLesson({ f }: LessonRun): string | undefined {
  const [load, catchUp, replay] = [f.get("C.load"), f.get("C.catchup"), f.get("C.replay")];
  if (!load?.baseline || !catchUp?.baseline || !replay?.baseline) return undefined;
  return (
    `A log takes writes at the producer's pace, whoever reads it: /load-test appended ${fmt(load.value)} events/s with acks=all (Kafka's own producer perf tool, at its default batching: ${fmt(load.baseline.value)}/s). ` +
    `Reading is where the work is: analytics catches up at ${fmt(catchUp.value)} events/s and replays ${replay.figure.replace(/^replay events\/s, /, "")} at ${fmt(replay.value)} events/s, ${Math.min(catchUp.ratio!, replay.ratio!)}–${Math.max(catchUp.ratio!, replay.ratio!)} × Kafka's own consumer, the price of parsing and validating every event and counting each eventId once.`
  );
}

/** Parts B and C: the largest service's peak memory. */
function memoryLesson({ f }: LessonRun): string | undefined {
  const memory = [...f.values()].filter((x) => /^[BC]\.memory\./.test(x.id));
  if (!memory.length) return undefined;
  const worst = memory.reduce((a, m) => (m.value > a.value ? m : a));
  return (
    `Memory follows what a service keeps and how fast it makes garbage: the largest Part B or C service peaked at ${worst.value} MB (${worst.figure.replace(/^peak memory, /, "").replace(/ \(.*\)$/, "")}). ` +
    "Analytics keeps one eventId per event it counted, packed in 16 bytes; the Kafka services run with a heap budget, or V8 would let a heap fed this fast grow to several times what is alive."
  );
}

const LESSONS = [partALesson, partBCostLesson, partBBatchingLesson, partBBacklogLesson, partCLesson, memoryLesson];

/** The short lessons of a run, read off its own numbers. */
export function lessons(runs: BenchRun[]): string[] {
  const run: LessonRun = {
    f: new Map(runs.flatMap((r) => r.figures).map((x) => [x.id, x])),
    details: (name) => runs.find((r) => r.name === name)?.details,
    cores: runs[0]?.machine.cores ?? 0,
  };
  return LESSONS.map((lesson) => lesson(run)).filter((l): l is string => l !== undefined);
}
