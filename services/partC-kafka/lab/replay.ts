// Part C replay experiment: metrics before, POST /replay (analytics goes back to the start of
// the log and counts everything again), metrics after — side by side, and a check that they
// are equal. They must be: the metrics depend only on the events in the log. If they differ,
// the log itself grew during the replay (new events arrived), and the report says by how much.
import { resultsDir } from "../../common/paths.js";
import { groupedBarSpec } from "../../harness/plots.js";
import { markdownTable, toCsv, type Row } from "../../common/table.js";
import type { LabOptions } from "../../harness/lifecycle.js";
import { allPassed, check, type Check } from "../../harness/check.js";
import { writeResultFiles } from "../../harness/results.js";
import { REPLAYABLE_FIELDS, differences, logSize, type AnalyticsMetrics } from "./client.js";
import { requireSafeguardOff, withPartC, withoutSafeguard } from "./implementation.js";
import { sleep } from "../../common/wait.js";

export interface ReplayExperimentResult {
  before: AnalyticsMetrics;
  after: AnalyticsMetrics;
  /** Events in both topics before and after: equal unless events were appended meanwhile. */
  log_events_before: number;
  log_events_after: number;
  equal: boolean;
  differences: { field: string; before: unknown; after: unknown }[];
  /** Why the metrics differ, when they do. */
  reason: string | null;
  replay_ms: number | null;
  events_replayed: number;
  reports: { before: { json: string; markdown: string }; after: { json: string; markdown: string } };
  checks: Check[];
  passed: boolean;
}

export interface ReplayExperimentOptions extends LabOptions {
  /** Produce this many orders first when the log is empty (something to replay). */
  seedCount?: number;
  timeoutMs?: number;
  onPhase?: (phase: string) => void;
  /** A Part C safeguard switched off in the services this starts (see switches.ts). */
  without?: string;
  /**
   * Replay only once the clock's minute differs from the minute the metrics were read in (waits
   * up to a minute): what a replay at another time would change shows (e.g. without event-time).
   */
  replayInAnotherMinute?: boolean;
}

/** Wait until the clock shows another minute than `iso`'s. */
export async function untilAnotherMinute(iso: string): Promise<void> {
  const next = (Math.floor(Date.parse(iso) / 60_000) + 1) * 60_000;
  await sleep(Math.max(0, next - Date.now()) + 200);
}

export async function runReplayExperiment(opts: ReplayExperimentOptions = {}): Promise<ReplayExperimentResult> {
  const timeoutMs = opts.timeoutMs ?? 300_000;
  return withPartC(withoutSafeguard(opts, opts.without), async (impl) => {
    if (opts.without) await requireSafeguardOff(impl, opts.without);
    let before = await impl.waitForQuiet(timeoutMs);
    if (before.total_orders === 0 && (opts.seedCount ?? 1000) > 0) {
      opts.onPhase?.(`the log is empty: producing ${opts.seedCount ?? 1000} orders to replay`);
      await impl.loadTest(opts.seedCount ?? 1000);
      before = await impl.waitForQuiet(timeoutMs);
    }
    const logBefore = logSize(await impl.lag());
    const reportBefore = (await impl.report("replay-before")).files;
    if (opts.replayInAnotherMinute) {
      opts.onPhase?.("waiting for the clock's minute to turn, so the replay reads the log at another time");
      await untilAnotherMinute(before.computed_at);
    }

    opts.onPhase?.("replaying: analytics resets its offsets to the start of both topics and recomputes");
    const trigger = await impl.replay();
    const after = await impl.waitForMetrics(
      (m) => m.replay.started_at === trigger.started_at && !m.replay.running,
      "the replay to finish",
      timeoutMs,
    );
    const logAfter = logSize(await impl.lag());
    const reportAfter = (await impl.report("replay-after")).files;

    const diffs = differences(before, after);
    const grew = logAfter - logBefore;
    const reason =
      diffs.length === 0
        ? null
        : grew > 0
          ? `${grew} event(s) were appended to the log during the replay; the replay counted them too`
          : "the log did not change, yet the metrics differ";
    const checks = [
      check(
        "the replay read the whole log again",
        after.replay.events_read >= logBefore,
        `${after.replay.events_read} events read in ${after.replay.duration_ms} ms`,
      ),
      diffs.length === 0
        ? check("metrics after the replay equal the metrics before", true, `${REPLAYABLE_FIELDS.length} fields equal`)
        : check(
            "metrics after the replay equal the metrics before (or the log grew meanwhile)",
            grew > 0,
            `${diffs.map((d) => d.field).join(", ")} differ: ${reason}`,
          ),
    ];
    return {
      before,
      after,
      log_events_before: logBefore,
      log_events_after: logAfter,
      equal: diffs.length === 0,
      differences: diffs,
      reason,
      replay_ms: after.replay.duration_ms,
      events_replayed: after.replay.events_read,
      reports: { before: reportBefore, after: reportAfter },
      checks,
      passed: allPassed(checks),
    };
  });
}

// eslint-disable-next-line @typescript-eslint/no-base-to-string -- only primitives reach String(): objects (and null) go to JSON.stringify
const show = (v: unknown) => (typeof v === "object" ? JSON.stringify(v) : String(v));

/** The side-by-side table: one row per metric, plus one per minute of orders. */
export function replayTable(r: ReplayExperimentResult): Row[] {
  const rows: Row[] = REPLAYABLE_FIELDS.filter((f) => f !== "orders_per_minute").map((f) => ({
    metric: f,
    before: show(r.before[f]),
    after: show(r.after[f]),
    equal: show(r.before[f]) === show(r.after[f]) ? "yes" : "NO",
  }));
  const minutes = [
    ...new Set([...Object.keys(r.before.orders_per_minute), ...Object.keys(r.after.orders_per_minute)]),
  ].sort();
  for (const m of minutes) {
    const [b, a] = [r.before.orders_per_minute[m] ?? 0, r.after.orders_per_minute[m] ?? 0];
    rows.push({ metric: `orders in ${m}`, before: b, after: a, equal: a === b ? "yes" : "NO" });
  }
  return rows;
}

export const replayPlot = (r: ReplayExperimentResult) =>
  groupedBarSpec(
    [
      ...(["total_orders", "total_reservations", "failed_reservations"] as const).flatMap((f) => [
        { group: f, series: "before replay", value: r.before[f] },
        { group: f, series: "recomputed by the replay", value: r.after[f] },
      ]),
      ...Object.keys({ ...r.before.orders_per_minute, ...r.after.orders_per_minute })
        .sort()
        .flatMap((m) => [
          { group: `orders ${m.slice(11)}`, series: "before replay", value: r.before.orders_per_minute[m] ?? 0 },
          {
            group: `orders ${m.slice(11)}`,
            series: "recomputed by the replay",
            value: r.after.orders_per_minute[m] ?? 0,
          },
        ]),
    ],
    "Part C — analytics metrics before and after a replay",
    "count",
  );

/** replay.json, replay.csv, replay.svg and summary.md in results/partC/replay/. */
export function writeReplayResults(r: ReplayExperimentResult, dir = resultsDir("partC", "replay")): Promise<string[]> {
  return writeResultFiles(dir, {
    data: { "replay.json": JSON.stringify(r, null, 2) + "\n", "replay.csv": toCsv(replayTable(r)) },
    plots: { "replay.svg": replayPlot(r) },
    summary: {
      title: "Part C — replay: metrics before and after",
      sections: [
        markdownTable(replayTable(r)),
        r.equal
          ? `Equal. The replay read ${r.events_replayed} events in ${r.replay_ms} ms. Every metric depends only on the events (minutes come from each event's createdAt; an eventId counts once), so reading the same log again gives the same numbers.`
          : `Not equal: ${r.reason}.`,
        `Metrics reports: \`${r.reports.before.markdown}\` and \`${r.reports.after.markdown}\`.`,
      ],
      checks: r.checks,
    },
  });
}
