// Part C lag experiment: restart inventory with a pause per message (CONSUMER_THROTTLE_MS),
// produce a burst of orders, and sample the consumer lag of every partition until it has
// drained. The producer does not wait for the consumer: the log absorbs the burst, the lag
// rises at once and falls at the consumer's pace. Inventory is restarted as it was afterwards.
import { resultsDir } from "../../common/paths.js";
import { timeSeriesSpec } from "../../harness/plots.js";
import { markdownTable, toCsv, type Row } from "../../common/table.js";
import type { LabOptions } from "../../harness/lifecycle.js";
import { allPassed, check, type Check } from "../../harness/check.js";
import { writeResultFiles } from "../../harness/results.js";
import { GROUPS, lagOf, type GroupLag, type LoadResult } from "./client.js";
import { withPartC, type PartCImplementation } from "./implementation.js";

export interface LagSample {
  t_s: number;
  group: string;
  topic: string;
  partition: number;
  committed: number | null;
  end: number;
  lag: number;
}

export interface LagExperimentResult {
  count: number;
  throttle_ms: number;
  produce: LoadResult;
  produce_window_s: { from_s: number; to_s: number };
  samples: LagSample[];
  peak_lag: number;
  peak_at_s: number;
  /** When the inventory group's lag was back to 0 (null: not within the timeout). */
  drained_at_s: number | null;
  /** Events per second the throttled consumer worked off, from the peak to 0. */
  drain_rate_per_s: number | null;
  checks: Check[];
  passed: boolean;
}

export interface LagExperimentOptions extends LabOptions {
  count: number;
  throttleMs: number;
  sampleMs?: number;
  timeoutMs?: number;
  onSample?: (t_s: number, inventory: GroupLag) => void;
}

export async function runLagExperiment(opts: LagExperimentOptions): Promise<LagExperimentResult> {
  return withPartC(opts, (impl) => lagRun(impl, opts));
}

async function lagRun(impl: PartCImplementation, opts: LagExperimentOptions): Promise<LagExperimentResult> {
  try {
    opts.log?.(`restarting inventory with CONSUMER_THROTTLE_MS=${opts.throttleMs}`);
    await impl.faults.consumerDelay(opts.throttleMs / 1000);

    const samples: LagSample[] = [];
    const totals: { t_s: number; lag: number }[] = [];
    const t0 = performance.now();
    const elapsed = () => Math.round(performance.now() - t0) / 1000;
    const sample = async () => {
      const groups = await impl.lag();
      const t_s = elapsed();
      for (const g of groups) for (const p of g.partitions) samples.push({ t_s, group: g.group, ...p });
      const inventory = lagOf(groups, GROUPS.inventory);
      totals.push({ t_s, lag: inventory.total_lag });
      opts.onSample?.(t_s, inventory);
      return inventory.total_lag;
    };

    await sample();
    const from_s = elapsed();
    let produced: LoadResult | undefined;
    const producing = impl.loadTest(opts.count).then((r) => {
      produced = r;
      return elapsed();
    });
    const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
    let drained_at_s: number | null = null;
    for (;;) {
      await new Promise((r) => setTimeout(r, opts.sampleMs ?? 250));
      const lag = await sample();
      if (produced && lag === 0) {
        drained_at_s = totals[totals.length - 1].t_s;
        break;
      }
      if (Date.now() > deadline) break;
    }
    const to_s = await producing;

    const peak = totals.reduce((a, b) => (b.lag > a.lag ? b : a));
    const drain_rate_per_s =
      drained_at_s === null || drained_at_s <= peak.t_s ? null : Math.round(peak.lag / (drained_at_s - peak.t_s));
    const partitions = [...new Set(samples.filter((s) => s.group === GROUPS.inventory).map((s) => s.partition))];
    const peakOf = (p: number) =>
      Math.max(...samples.filter((s) => s.group === GROUPS.inventory && s.partition === p).map((s) => s.lag));
    const lastOf = (p: number) =>
      samples.filter((s) => s.group === GROUPS.inventory && s.partition === p).at(-1)?.lag ?? -1;
    const checks = [
      check(
        "lag built up while the consumer was throttled (peak ≥ 10 % of the burst)",
        peak.lag >= opts.count * 0.1,
        `peak ${peak.lag} at ${peak.t_s.toFixed(1)} s`,
      ),
      check(
        "every partition had a backlog (orders are spread by key)",
        partitions.length > 1 && partitions.every((p) => peakOf(p) > 0),
        partitions.map((p) => `p${p}: ${peakOf(p)}`).join(", "),
      ),
      check(
        "the backlog drained to 0 on every partition",
        drained_at_s !== null && partitions.every((p) => lastOf(p) === 0),
        drained_at_s === null ? "timed out" : `0 at ${drained_at_s.toFixed(1)} s`,
      ),
    ];
    return {
      count: opts.count,
      throttle_ms: opts.throttleMs,
      produce: produced!,
      produce_window_s: { from_s, to_s },
      samples,
      peak_lag: peak.lag,
      peak_at_s: peak.t_s,
      drained_at_s,
      drain_rate_per_s,
      checks,
      passed: allPassed(checks),
    };
  } finally {
    opts.log?.("restarting inventory as it was");
    await impl.restartConsumer().catch((err: Error) => opts.log?.(`could not restart inventory: ${err.message}`));
  }
}

export function lagTable(r: LagExperimentResult): Row[] {
  return [
    { measure: "events produced", value: r.produce.produced },
    { measure: "produced in (s)", value: (r.produce.elapsed_ms / 1000).toFixed(2) },
    { measure: "consumer pause per message (ms)", value: r.throttle_ms },
    { measure: "peak lag (events, all partitions)", value: r.peak_lag },
    { measure: "peak at (s)", value: r.peak_at_s.toFixed(1) },
    { measure: "lag back to 0 at (s)", value: r.drained_at_s?.toFixed(1) ?? "timed out" },
    { measure: "drain rate (events/s)", value: r.drain_rate_per_s ?? "-" },
    {
      measure: "expected drain rate: 3 partitions × 1000 / pause",
      value: Math.round((3 * 1000) / Math.max(1, r.throttle_ms)),
    },
  ];
}

export const lagPlot = (r: LagExperimentResult) =>
  timeSeriesSpec({
    rows: r.samples
      .filter((s) => s.group === GROUPS.inventory)
      .map((s) => ({ t_s: s.t_s, value: s.lag, series: `${s.topic} partition ${s.partition}` })),
    title: `Part C — ${GROUPS.inventory} lag per partition (pause ${r.throttle_ms} ms per message)`,
    yTitle: "lag (events)",
    marks: [
      {
        from_s: r.produce_window_s.from_s,
        to_s: Math.max(r.produce_window_s.to_s, r.produce_window_s.from_s + 0.2),
        label: "burst produced",
      },
    ],
  });

/** lag.json, lag-samples.csv, lag.svg and summary.md in results/partC/lag/. */
export function writeLagResults(r: LagExperimentResult, dir = resultsDir("partC", "lag")): Promise<string[]> {
  const { samples, ...rest } = r;
  return writeResultFiles(dir, {
    data: { "lag.json": JSON.stringify(rest, null, 2) + "\n", "lag-samples.csv": toCsv(samples as unknown as Row[]) },
    plots: { "lag.svg": lagPlot(r) },
    summary: {
      title: `Part C — consumer lag under throttling (${r.count} events, ${r.throttle_ms} ms per message)`,
      sections: [
        markdownTable(lagTable(r)),
        "Lag = log end offset − committed offset, per partition. The burst lands in the log at once; " +
          "the throttled inventory consumer commits after each acknowledged chunk, so the lag steps down at its pace. " +
          "Nothing is lost while it lags: the events wait in the log.",
      ],
      checks: r.checks,
    },
  });
}
