// Part C's lag experiment: inventory stopped, a burst of N orders produced, inventory started
// again with a pause per message (the contract's CONSUMER_THROTTLE_MS), and its group's lag
// (committed vs end offsets, read with an admin: nothing of the implementation's is committed or
// reset) sampled per partition throughout. The producer does not wait for the consumer: the log
// absorbs the burst, the lag grows by exactly the burst and falls at the consumer's pace; the
// lab's tap then checks every order got exactly one inventory event. Inventory is left running
// as it was found (restarted without the pause). With `kill`, inventory is also killed (kill -9)
// once mid-drain between an answer and its commit (kill.ts): the consumer crash, at-least-once.
import type { Row } from "../../common/table.js";
import { sleep } from "../../common/wait.js";
import { check } from "../../harness/judge/check.js";
import type { Experiment, ExperimentOptions, Run } from "../../harness/judge/experiment.js";
import { timeSeriesSpec, type TopLevelSpec } from "../../harness/show/plots.js";
import { sampleEvery, type Sampler } from "../../harness/measure/sampler.js";
import type { GroupLag, PartitionLag } from "../lag.js";
import { accountingFaults, type Accounting, type PartCTap } from "../lab/kafka-tap.js";
import type { Produced } from "../lab/contract.js";
import type { PartC } from "../lab/implementation.js";
import { killBaseline, killBetweenAnswerAndCommit, type Kill, type KillBaseline } from "./kill.js";

export interface LagOptions extends ExperimentOptions {
  count: number;
  /** Inventory's pause per message once started again (ms; 0: none). */
  throttleMs: number;
  sampleMs?: number;
  timeoutMs?: number;
  /** After the lag is back to 0, wait at most this long for the last answers. */
  quietMs?: number;
  onSample?: (t_s: number, inventory: GroupLag) => void;
  /** Kill inventory (kill -9) once mid-drain, between an answer and its commit, and start it again. */
  kill?: boolean;
}

export type LagSample = PartitionLag & { t_s: number };

export interface LagData {
  count: number;
  throttle_ms: number;
  group: string;
  produced: Produced | null;
  samples: LagSample[];
  lag_before: number | null;
  /** The group's lag just before inventory was started again. */
  lag_while_stopped: number | null;
  stopped_s: { from_s: number; to_s: number } | null;
  drained_at_s: number | null;
  drain_rate_per_s: number | null;
  accounting: Accounting | null;
  kill: Kill | null;
}

interface LagRun extends Run<PartC, LagOptions> {
  tap?: PartCTap;
  sampler?: Sampler;
  latest: number;
  /** Inventory as the experiment left it so far: cleanup puts it back. */
  inventory: "running" | "stopped" | "throttled";
  from_s: number;
  killFrom?: KillBaseline;
  data: LagData;
}

async function sample(r: LagRun): Promise<number> {
  const g = await r.impl.lag("inventory");
  const t_s = r.now();
  for (const p of g.partitions) r.data.samples.push({ t_s, ...p });
  r.latest = g.total_lag;
  r.opts.onSample?.(t_s, g);
  return r.latest;
}

/** Until the lag is back to 0, then until every order is answered (or quietMs passed). */
async function watchTheDrain(r: LagRun): Promise<void> {
  const d = r.data;
  const deadline = Date.now() + (r.opts.timeoutMs ?? 600_000);
  while (r.latest > 0 && Date.now() < deadline) await sleep(100);
  if (r.latest === 0) d.drained_at_s = r.now();
  const restarted = d.stopped_s!.to_s;
  if (d.drained_at_s !== null && d.drained_at_s > restarted)
    d.drain_rate_per_s = Math.round((d.lag_while_stopped ?? 0) / (d.drained_at_s - restarted));
  // The answers follow the commits by a moment.
  const quietUntil = Date.now() + (r.opts.quietMs ?? 10_000);
  while (r.tap!.accounting().lost.length && Date.now() < quietUntil) await sleep(250);
  await sleep(1000);
  d.accounting = r.tap!.accounting();
}

/** Orders accepted, and those the tap saw lost or answered twice (different eventIds). */
const lagTally = (d: LagData) => ({
  sent: d.produced?.accepted ?? 0,
  acknowledged: d.produced?.accepted ?? 0,
  anomalies: { lost: d.accounting?.lost.length ?? 0, "answered twice": d.accounting?.duplicated.length ?? 0 },
});

const KILLED = "inventory killed (kill -9) mid-drain with answers sent but not committed";

const partitionsOf = (d: LagData) => [...new Set(d.samples.map((s) => `${s.topic}/${s.partition}`))];
const peakOf = (d: LagData, tp: string) =>
  Math.max(...d.samples.filter((s) => `${s.topic}/${s.partition}` === tp).map((s) => s.lag));

export const lagExperiment: Experiment<PartC, LagOptions, LagRun, LagData> = {
  name: "lag",
  part: "partC",
  title: "Part C — consumer lag: inventory stopped, a burst, inventory back (throttled)",
  lesson: "Lag is a backlog you can see per partition: nothing is lost while a consumer is away or slow.",
  needs: ["inventory lag", "stop inventory", "start inventory"],
  safeguards: ["commit-after-ack"],
  begin: (run) => ({
    ...run,
    latest: -1,
    inventory: "running",
    from_s: 0,
    data: {
      count: run.opts.count,
      throttle_ms: run.opts.throttleMs,
      group: run.impl.target.partC?.broker?.groups?.inventory ?? "inventory",
      produced: null,
      samples: [],
      lag_before: null,
      lag_while_stopped: null,
      stopped_s: null,
      drained_at_s: null,
      drain_rate_per_s: null,
      accounting: null,
      kill: null,
    },
  }),
  steps: [
    {
      name: "wait until inventory caught up",
      run: async (r) => {
        if (!(await r.impl.caughtUp(["inventory"], r.opts.timeoutMs, 0)))
          throw new Error(`${r.data.group} did not catch up`);
        r.tap = await r.impl.tap();
        r.data.lag_before = await sample(r);
        r.sampler = sampleEvery(r.opts.sampleMs ?? 250, () => sample(r));
      },
    },
    {
      name: "stop inventory",
      run: async (r) => {
        r.from_s = r.now();
        await r.impl.stop("inventory");
        r.inventory = "stopped";
        if (r.opts.kill) r.killFrom = await killBaseline(r.impl);
      },
    },
    {
      name: "produce a burst",
      run: async (r) => {
        r.data.produced = await r.impl.produce(r.data.count);
        await sleep(1000); // the lag is read from offsets: give the samples a moment to see the whole burst
        r.data.lag_while_stopped = await sample(r);
      },
    },
    {
      name: "start inventory",
      run: async (r) => {
        const pause = r.data.throttle_ms;
        await r.impl.start("inventory", pause ? { CONSUMER_THROTTLE_MS: String(pause) } : {});
        r.inventory = pause ? "throttled" : "running";
        r.data.stopped_s = { from_s: r.from_s, to_s: r.now() };
      },
    },
    {
      name: "kill inventory mid-drain",
      run: async (r) => {
        if (!r.opts.kill) return;
        const backlog = r.data.lag_while_stopped ?? r.data.count;
        const kill = await r.unless(KILLED, () => killBetweenAnswerAndCommit(r.impl, r.killFrom!, backlog));
        if (!kill) return;
        r.data.kill = kill;
        r.progress(`kill -9 of inventory with ${kill.answered} answered, ${kill.uncommitted} of them not committed`);
        await r.impl.start("inventory"); // without the pause: it rejoins once the dead member's session expires
        r.inventory = "running";
      },
    },
    { name: "watch the lag drain", run: watchTheDrain },
  ],
  cleanup: async (r) => {
    await r.sampler?.stop();
    await r.tap?.close();
    if (r.inventory === "running") return;
    r.progress("starting inventory as it was found");
    if (r.inventory === "throttled") await r.impl.stop("inventory");
    await r.impl.start("inventory").catch((err: Error) => r.progress(`could not start inventory: ${err.message}`));
  },
  judge: (r) => {
    const d = r.data;
    const grew = (d.lag_while_stopped ?? 0) - (d.lag_before ?? 0);
    const partitions = partitionsOf(d);
    const a = d.accounting;
    const topic = r.impl.target.partC?.broker?.topics.inventory_events;
    const checks = [
      check(
        `${d.group}'s lag grew by the ${d.count} orders produced while inventory was stopped`,
        grew >= d.count,
        `lag ${d.lag_before} → ${d.lag_while_stopped} (${d.produced?.accepted ?? 0} orders accepted through ${d.produced?.via ?? "-"})`,
      ),
      check(
        "every partition had a backlog (orders are spread by key)",
        partitions.length > 1 && partitions.every((p) => peakOf(d, p) > 0),
        partitions.map((p) => `${p}: ${peakOf(d, p)}`).join(", "),
      ),
      check(
        "the lag returned to 0 on every partition after inventory started again",
        d.drained_at_s !== null,
        d.drained_at_s === null
          ? `still ${r.latest} when the wait ended`
          : `0 at ${d.drained_at_s.toFixed(1)} s, ${(d.drained_at_s - d.stopped_s!.to_s).toFixed(1)} s after the start`,
      ),
      check(
        `after the outage every order got exactly one inventory event on ${topic}`,
        a !== null && a.orders === d.count && a.lost.length === 0 && a.duplicated.length === 0,
        a ? `${a.one} of ${a.orders} orders answered once${accountingFaults(a)}` : "not accounted",
      ),
    ];
    const k = d.kill;
    if (k)
      checks.push(
        check(
          KILLED,
          k.answered > 0 && k.uncommitted > 0,
          `${k.answered} answered, ${k.uncommitted} uncommitted (after ${k.tries} freeze(s))`,
        ),
      );
    return {
      params: { count: d.count, throttle_ms: d.throttle_ms, sample_ms: r.opts.sampleMs ?? 250, kill: !!r.opts.kill },
      checks,
      tally: lagTally(d),
      figures: {
        "consumer group watched": d.group,
        "orders produced while inventory was stopped": d.produced?.accepted ?? "-",
        "lag before / while stopped": `${d.lag_before ?? "-"} / ${d.lag_while_stopped ?? "-"}`,
        "inventory stopped (s)": d.stopped_s
          ? `${d.stopped_s.from_s.toFixed(1)} – ${d.stopped_s.to_s.toFixed(1)}`
          : "-",
        "pause per message once back (ms)": d.throttle_ms,
        "lag back to 0 at (s)": d.drained_at_s?.toFixed(1) ?? "-",
        "drain rate (events/s)": d.drain_rate_per_s ?? "-",
        "at most: partitions × 1000 / pause (events/s)": d.throttle_ms
          ? Math.round((partitions.length * 1000) / d.throttle_ms)
          : "-",
      },
      data: d,
    };
  },
  files: (result): { data: Record<string, Row[]>; plots: Record<string, TopLevelSpec> } => ({
    data: { "lag-samples.csv": result.data.samples as unknown as Row[] },
    plots: result.data.samples.length
      ? {
          "lag.svg": timeSeriesSpec({
            rows: result.data.samples.map((s) => ({
              t_s: s.t_s,
              value: s.lag,
              series: `${s.topic} partition ${s.partition}`,
            })),
            title: `Part C — ${result.data.group} lag per partition (${result.target.name})`,
            yTitle: "lag (events)",
            marks: result.data.stopped_s ? [{ ...result.data.stopped_s, label: "inventory stopped" }] : [],
          }),
        }
      : {},
  }),
};
