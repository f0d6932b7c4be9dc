// Benchmark figures, each beside its baseline from the same run, written to results/bench/.
import fs from "node:fs";
import path from "node:path";
import { readJsonResults, resultsDir, writeJsonResult } from "../../common/paths.js";
import { markdownTable } from "../../common/table.js";
import type { MachineInfo } from "../measure/machine.js";

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

export const writeBenchRun = (run: BenchRun, dir = resultsDir("bench")): string => writeJsonResult(dir, run.name, run);

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

/** The short lessons of a run, read off its own numbers. */
export function lessons(runs: BenchRun[]): string[] {
  const f = new Map(runs.flatMap((r) => r.figures).map((x) => [x.id, x]));
  const out: string[] = [];
  const a50 = f.get("A.latency.p50");
  const aT = f.get("A.throughput");
  const details = (name: string) => runs.find((r) => r.name === name)?.details as Record<string, any> | undefined;
  const a = details("partA");
  if (a50?.baseline && aT?.baseline && a?.client_cost_ms_per_call) {
    const cost = a.client_cost_ms_per_call as Record<string, number>;
    out.push(
      `A synchronous order costs two network hops: ${a50.value} ms at the median here against ${a50.baseline.value} ms for the bare node:http chain, and ${Math.round((aT.ratio ?? 0) * 100)} % of its throughput (${fmt(aT.value)} vs ${fmt(aT.baseline.value)} orders/s). ` +
        `Most of the difference is the client, not the framework: one call through axios costs its caller ${cost.axios} ms of CPU (${cost.axios_with_policy} ms with timeout, retries and deadline) against ${cost.node_http} ms with node:http, and the order service, one thread, makes two per order. ` +
        `Convenience has a price that can be measured, and here it is a fraction of a millisecond. Connecting can cost far more: the original report's 6.1 s per order was neither this nor sleeps — ` +
        `that team's own services answer in 8.0 ms at the median on the reference machine (300 sequential orders on one keep-alive connection, 10–13 ms with a new connection per request; measured for issue 17), and the report's figures (6.1 s with three new connections per order, 4.1 s with two, 8.1 s with a 2 s delay) fit about 2 s per new connection (6.1 / 3, 4.1 / 2, (8.1 − 2) / 3: arithmetic), ` +
        `the wait for a first address that does not answer before the fallback. Part A's connection experiment (lab-scripts/partA-connections.mjs) measures that per hop; keep-alive agents, an address that answers, and a connect timeout shorter than the fallback avoid it.`,
    );
  }
  const bT = f.get("B.throughput");
  const bP = f.get("B.accept.p99");
  const bD = f.get("B.drain");
  const b = details("partB");
  if (bT?.baseline && b?.message_flow && b?.sustained?.cpu_ms_per_order) {
    const cpu = b.sustained.cpu_ms_per_order as Record<string, number>;
    out.push(
      `Asynchronous is not free: an order in Part B is 3 confirmed publishes, 4 deliveries and 8 disk commits (shared by a batch where batches form). It sustains ${fmt(bT.value)} orders/s from POST to user notified, ${bT.ratio} × a bare publish-and-consume of one message (${fmt(bT.baseline.value)}/s) and ${ratioOf(bT.value, b.message_flow.orders_per_s)} × the same message flow without the services (${fmt(b.message_flow.orders_per_s)}/s). ` +
        `It costs ${cpu.total} ms of CPU per order over all processes, ${cpu.rabbitmq ?? "?"} ms of it in RabbitMQ: on ${runs[0].machine.cores} cores that is the ceiling of this design, before any code is slow.`,
    );
  }
  if (bT && bD && b?.batch_size_1) {
    const one = b.batch_size_1 as { orders_per_s: number; drain_per_s: number };
    out.push(
      `Batching shares what a group of messages can share — one store transaction, one confirm wait, one ack — and nothing else: in batches of up to ${fmt(b.batch_max ?? 64)} Part B sustained ${fmt(bT.value)} orders/s and drained ${fmt(bD.value)}/s, ` +
        `against ${fmt(one.orders_per_s)} and ${fmt(one.drain_per_s)}/s with every service at batch size 1 in the same run (${ratioOf(bT.value, one.orders_per_s)} × and ${ratioOf(bD.value, one.drain_per_s)} ×). ` +
        "What is left is per message — parsing and checking it, its log line, its publish, RabbitMQ's deliveries — and per request on the order service's one thread, which batching does not touch; batches only fill where messages wait (lab-scripts/partB-batching.mjs shows how full they were).",
    );
  }
  if (bP && bD?.baseline && b?.accept) {
    out.push(
      `The client never waits for inventory, but it shares the machine with it: at half that rate the 202 comes back in ${fmt(b.accept.p50_ms)} ms at the median and ${fmt(bP.value)} ms at p99 (one disk commit and one broker confirm), ` +
        `and in ${fmt(b.backlog?.accept_while_inventory_down?.p99_ms ?? NaN)} ms at p99 at the same rate while inventory is stopped: asynchronous work is decoupled in time, not in CPU. ` +
        `After an outage, inventory works through a backlog of ${fmt(b.backlog?.backlog ?? 0)} at ${fmt(bD.value)} orders/s, ${bD.ratio} × a consumer that only acks: each message is a reservation on disk, a confirmed answer, then the ack.`,
    );
  }
  if (bT) {
    out.push(
      "The largest fix was one socket option, found by timing each step of POST /order: amqplib leaves Nagle's algorithm on, so a small publish that followed a consumer's ack on the same connection waited for the broker's delayed TCP ack, up to 40 ms. " +
        "With TCP_NODELAY POST /order went from 43 to 3 ms at the median; with it, a prefetch of 100 instead of 10 and disk flushes outside the write lock, inventory's drain went from 590 to 1,534 orders/s (before and after, one run after the other, on the 2-core reference machine). Measure the steps before changing the design.",
    );
  }
  const cL = f.get("C.load");
  const cC = f.get("C.catchup");
  const cR = f.get("C.replay");
  if (cL?.baseline && cC?.baseline && cR?.baseline) {
    out.push(
      `A log takes writes at the producer's pace, whoever reads it: /load-test appended ${fmt(cL.value)} events/s with acks=all (Kafka's own producer perf tool, at its default batching: ${fmt(cL.baseline.value)}/s). ` +
        `Reading is where the work is: analytics catches up at ${fmt(cC.value)} events/s and replays ${cR.figure.replace(/^replay events\/s, /, "")} at ${fmt(cR.value)} events/s, ${cC.ratio}–${cR.ratio} × Kafka's own consumer, the price of parsing and validating every event and counting each eventId once.`,
    );
  }
  const memory = [...f.values()].filter((x) => /^[BC]\.memory\./.test(x.id));
  if (memory.length) {
    const worst = memory.reduce((a, m) => (m.value > a.value ? m : a));
    out.push(
      `Memory follows what a service keeps and how fast it makes garbage: the largest Part B or C service peaked at ${worst.value} MB (${worst.figure.replace(/^peak memory, /, "").replace(/ \(.*\)$/, "")}). ` +
        `Analytics keeps one eventId per event it counted, packed in 16 bytes; fed a million events, V8 would still let the heap grow to several times what is alive, so the Kafka services run with a heap budget.`,
    );
  }
  return out;
}
