// The replay experiment's files: its metrics before and after (CSV, one row per metric and per
// minute of orders) and a bar chart of the counts.
import type { Row } from "../../common/table.js";
import type { ExperimentResult } from "../../harness/judge/experiment.js";
import { groupedBarSpec, type TopLevelSpec } from "../../harness/show/plots.js";
import type { ObservedMetrics } from "../lab/contract.js";
import { CONTRACT_METRICS } from "../lab/contract.js";
import type { History } from "./history.js";

export interface ReplayData {
  before: ObservedMetrics | null;
  after: ObservedMetrics | null;
  differences: { field: string; before: unknown; after: unknown }[];
  /** Events in both topics when the replay began, and how many the replay read (the lab's own analytics says). */
  log_events: number | null;
  events_read: number | null;
  duplicates: {
    copies: number;
    with_event_id: number;
    total_orders_before_copies: number;
    total_orders_after_copies: number;
    /** After another replay, with the copies in the log (null: no replay call). */
    total_orders_after_replay: number | null;
    answered_twice: string[];
    repeated_answers: number;
  } | null;
  history: History | null;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export const replayFiles = (
  result: ExperimentResult<ReplayData>,
): { data: Record<string, Row[]>; plots: Record<string, TopLevelSpec> } => ({
  data: { "replay.csv": replayRows(result.data) },
  plots: result.data.after
    ? {
        "replay.svg": groupedBarSpec(
          (["total_orders", "total_reservations", "failed_reservations"] as const).flatMap((f) => [
            { group: f, series: "before replay", value: Number(result.data.before?.[f] ?? 0) },
            { group: f, series: "recomputed by the replay", value: Number(result.data.after?.[f] ?? 0) },
          ]),
          `Part C — ${result.target.name}'s metrics before and after a replay`,
          "count",
        ),
      }
    : {},
});

export const show = (v: unknown) => (v === undefined ? "-" : JSON.stringify(v));

/** One row per metric, plus one per minute of orders. */
function replayRows(d: ReplayData): Row[] {
  const rows: Row[] = CONTRACT_METRICS.filter((f) => f !== "orders_per_minute").map((f) => ({
    metric: f,
    before: show(d.before?.[f]),
    after: show(d.after?.[f]),
    equal: d.after ? (same(d.before?.[f], d.after[f]) ? "yes" : "NO") : "-",
  }));
  const perMinute = (m: ObservedMetrics | null) => (m?.orders_per_minute ?? {}) as Record<string, number>;
  for (const m of [...new Set([...Object.keys(perMinute(d.before)), ...Object.keys(perMinute(d.after))])].sort())
    rows.push({
      metric: `orders in ${m}`,
      before: perMinute(d.before)[m] ?? 0,
      after: perMinute(d.after)[m] ?? 0,
      equal: perMinute(d.before)[m] === perMinute(d.after)[m] ? "yes" : "NO",
    });
  return rows;
}
