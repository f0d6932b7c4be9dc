// Part C's lag experiment on any target. The lab's own services: the usual experiment (lag.ts,
// a throttled inventory). A foreign implementation: its inventory stopped by the file's command,
// N orders produced, its group's lag (committed vs end offsets, read with admin — nothing of
// theirs committed or reset) watched as it grows, inventory started again, the lag watched back
// to 0; the lab's tap then checks every order got exactly one inventory event after the outage.
import path from "node:path";
import { sampleEvery } from "../../harness/sampler.js";
import { toCsv, type Row } from "../../common/table.js";
import { sleep } from "../../common/wait.js";
import { timeSeriesSpec } from "../../harness/plots.js";
import { targetResultsDir, targetSummary, type Target, type TargetSummary } from "../../harness/target.js";
import type { GroupLag } from "../lag.js";
import {
  lagPlot,
  lagTable,
  runLagExperiment,
  writeLagResults,
  type LagExperimentOptions,
  type LagExperimentResult,
} from "./lag.js";
import { caughtUp, outsideRun, settle, writeOutsideResults, type OutsideRun } from "./outside.js";
import { openTargetKafka, partCOf, targetPartC, type Produced, type TargetKafka } from "./target.js";
import { accountOrders, PartCWireTap, someOf, type Accounting } from "./wire-tap.js";

export interface LagOutsideSample {
  t_s: number;
  topic: string;
  partition: number;
  committed: number | null;
  end: number;
  lag: number;
}

export interface LagOutsideResult extends OutsideRun {
  experiment: "lag";
  count: number;
  group: string | null;
  produced: Produced | null;
  samples: LagOutsideSample[];
  lag_before: number | null;
  /** The group's lag just before inventory was started again. */
  lag_while_stopped: number | null;
  stopped_s: { from_s: number; to_s: number } | null;
  drained_at_s: number | null;
  drain_rate_per_s: number | null;
  accounting: Accounting | null;
}

export type LagLabResult = LagExperimentResult & { kind: "lab"; target: TargetSummary };
export type LagThroughResult = LagLabResult | LagOutsideResult;

export interface LagThroughOptions extends LagExperimentOptions {
  /** A foreign target: after the lag is back to 0, wait at most this long for the last answers. */
  quietMs?: number;
}

/** Why the outage cannot be run on this target, or undefined: it needs a group to watch and a way to stop and start inventory. */
export function whyLagNotObservable(target: Target): string | undefined {
  const c = partCOf(target);
  if (!c.broker) return "the target gives no Kafka (partC.broker) to read the lag from";
  if (!c.broker.groups?.inventory)
    return "the target does not name inventory's consumer group (partC.broker.groups.inventory)";
  const ctl = c.control?.inventory;
  if (!ctl?.stop && !ctl?.pid_file)
    return "the target does not say how to stop inventory (partC.control.inventory.stop or pid_file)";
  if (!ctl.start) return "the target does not say how to start inventory again (partC.control.inventory.start)";
  return undefined;
}

export async function runLagThrough(target: Target, opts: LagThroughOptions): Promise<LagThroughResult> {
  if (target.lab) return { kind: "lab", ...(await runLagExperiment(opts)), target: targetSummary(target) };
  const run: LagOutsideResult = {
    ...outsideRun(target, "lag"),
    count: opts.count,
    group: partCOf(target).broker?.groups?.inventory ?? null,
    produced: null,
    samples: [],
    lag_before: null,
    lag_while_stopped: null,
    stopped_s: null,
    drained_at_s: null,
    drain_rate_per_s: null,
    accounting: null,
  };
  const why = whyLagNotObservable(target);
  if (why) {
    run.skipped.push({ scenario: "outage", reason: why });
    opts.log?.(`outage: not observable — ${why}`);
    return settle(run);
  }
  const wire = await openTargetKafka(target);
  try {
    await outage(target, wire, run, opts);
  } finally {
    await wire.close();
  }
  checkLagOutside(run, target);
  return settle(run);
}

async function outage(
  target: Target,
  wire: TargetKafka,
  run: LagOutsideResult,
  opts: LagThroughOptions,
): Promise<void> {
  const impl = targetPartC(target);
  const timeoutMs = opts.timeoutMs ?? 600_000;
  if (!(await caughtUp(wire, ["inventory"], timeoutMs, 0)))
    throw new Error(`${run.group} did not catch up before the outage`);
  const tap = await PartCWireTap.open(wire);
  const t0 = performance.now();
  const elapsed = () => Math.round(performance.now() - t0) / 1000;
  let latest = 0;
  const sample = async () => {
    const g: GroupLag = await wire.lag("inventory");
    const t_s = elapsed();
    for (const p of g.partitions) run.samples.push({ t_s, ...p });
    latest = g.total_lag;
    opts.onSample?.(t_s, g);
    return latest;
  };
  const sampler = sampleEvery(opts.sampleMs ?? 250, sample);
  let stopped = false;
  try {
    run.lag_before = await sample();
    opts.log?.("stopping inventory by the target's command");
    const from_s = elapsed();
    await impl.control("inventory", "stop");
    stopped = true;
    opts.log?.(`producing ${run.count} orders while inventory is stopped`);
    run.produced = await impl.produce(run.count);
    // The lag is read from the committed offsets: give the samples a moment to see the whole burst.
    await sleep(1000);
    run.lag_while_stopped = await sample();
    opts.log?.("starting inventory by the target's command");
    await impl.control("inventory", "start");
    stopped = false;
    run.stopped_s = { from_s, to_s: elapsed() };
    const deadline = Date.now() + timeoutMs;
    while (latest > 0 && Date.now() < deadline) await sleep(100);
    if (latest === 0) run.drained_at_s = elapsed();
    if (run.drained_at_s !== null && run.drained_at_s > run.stopped_s.to_s)
      run.drain_rate_per_s = Math.round(run.lag_while_stopped / (run.drained_at_s - run.stopped_s.to_s));
    // Every order answered once: the answers follow the commits by a moment.
    const orderIds = () => tap.orderPlaced().map((e) => e.orderId ?? "");
    const quietUntil = Date.now() + (opts.quietMs ?? 10_000);
    while (accountOrders(orderIds(), tap.inventoryEvents()).lost.length && Date.now() < quietUntil) await sleep(250);
    await sleep(1000);
    run.accounting = accountOrders(orderIds(), tap.inventoryEvents());
  } finally {
    await sampler.stop();
    if (stopped) {
      opts.log?.("starting inventory again after a failure");
      await impl
        .control("inventory", "start")
        .catch((err: Error) => opts.log?.(`could not start inventory: ${err.message}`));
    }
    await tap.close();
  }
}

function checkLagOutside(r: LagOutsideResult, target: Target): void {
  const add = (check: string, passed: boolean, observed: string) =>
    r.checks.push({ scenario: "outage", check, passed, observed });
  const grew = (r.lag_while_stopped ?? 0) - (r.lag_before ?? 0);
  add(
    `${r.group}'s lag grew by the ${r.count} orders produced while inventory was stopped`,
    grew >= r.count,
    `lag ${r.lag_before} → ${r.lag_while_stopped} (${r.produced?.accepted ?? 0} orders accepted through ${r.produced?.via ?? "-"})`,
  );
  add(
    "the lag returned to 0 after inventory started again",
    r.drained_at_s !== null,
    r.drained_at_s === null
      ? `still ${r.samples.at(-1)?.lag ?? "?"} on the last partition sampled when the wait ended`
      : `0 at ${r.drained_at_s.toFixed(1)} s, ${(r.drained_at_s - r.stopped_s!.to_s).toFixed(1)} s after the start`,
  );
  const a = r.accounting;
  if (a)
    add(
      `after the outage every order got exactly one inventory event on ${target.partC!.broker!.topics.inventory_events}`,
      a.orders === r.count && a.lost.length === 0 && a.duplicated.length === 0,
      `${a.one} of ${a.orders} orders answered once` +
        (a.lost.length ? `; lost: ${a.lost.length} (${someOf(a.lost)})` : "") +
        (a.duplicated.length ? `; duplicated: ${a.duplicated.length} (${someOf(a.duplicated)})` : ""),
    );
}

export function lagOutsideTable(r: LagOutsideResult): Row[] {
  return [
    { measure: "consumer group watched", value: r.group ?? "not observable" },
    { measure: "orders produced while inventory was stopped", value: r.produced?.accepted ?? "-" },
    { measure: "lag before / while stopped", value: `${r.lag_before ?? "-"} / ${r.lag_while_stopped ?? "-"}` },
    {
      measure: "inventory stopped (s)",
      value: r.stopped_s ? `${r.stopped_s.from_s.toFixed(1)} – ${r.stopped_s.to_s.toFixed(1)}` : "-",
    },
    { measure: "lag back to 0 at (s)", value: r.drained_at_s?.toFixed(1) ?? "-" },
    { measure: "drain rate (events/s)", value: r.drain_rate_per_s ?? "-" },
  ];
}

export const lagOutsidePlot = (r: LagOutsideResult) =>
  timeSeriesSpec({
    rows: r.samples.map((s) => ({ t_s: s.t_s, value: s.lag, series: `${s.topic} partition ${s.partition}` })),
    title: `Part C — ${r.group ?? "inventory"} lag per partition, inventory stopped and started (${r.target.name})`,
    yTitle: "lag (events)",
    marks: r.stopped_s ? [{ ...r.stopped_s, label: "inventory stopped" }] : [],
  });

/** Either run's plot. */
export const lagThroughPlot = (r: LagThroughResult) => (r.kind === "lab" ? lagPlot(r) : lagOutsidePlot(r));

/** Either run's table. */
export const lagThroughTable = (r: LagThroughResult): Row[] => (r.kind === "lab" ? lagTable(r) : lagOutsideTable(r));

/** The lag run's files: the lab's own as lag.ts writes them; a foreign target's summary.json/.md naming it. */
export function writeLagThroughResults(r: LagThroughResult, target: Target): Promise<string[]> {
  const dir = path.join(targetResultsDir(target, "partC"), "lag");
  if (r.kind === "lab") return writeLagResults(r, dir);
  const { samples, ...rest } = r;
  return writeOutsideResults(
    dir,
    rest,
    `Part C — consumer lag through an outage of ${r.target.name}'s inventory`,
    lagOutsideTable(r),
    {
      data: { "lag-samples.csv": toCsv(samples as unknown as Row[]) },
      plots: r.samples.length ? { "lag.svg": lagOutsidePlot(r) } : {},
    },
  );
}
