// What the comparison's orders say, side by side: a summary per model and condition, the
// behaviour each model should show, the table, the plots, and the files in results/compare/.
import { resultsDir } from "../common/paths.js";
import { markdownTable, toCsv, type Row } from "../common/table.js";
import type { Check } from "../harness/judge/check.js";
import type { Outcome } from "../harness/measure/implementation.js";
import { summarize, type LatencySummary } from "../harness/measure/stats.js";
import { groupedBarSpec, latencyDistributionSpec, type TopLevelSpec } from "../harness/show/plots.js";
import { ResultFiles } from "../harness/show/results.js";

export type ModelId = "A" | "B" | "C";
export type ConditionId = "healthy" | "delay_2s" | "outage";

export const MODEL_TITLES: Record<ModelId, string> = { A: "A · sync REST", B: "B · RabbitMQ", C: "C · Kafka" };
/** Inventory's delay in the delay condition, in seconds (the notebook reads it from here). */
export const DELAY_S = 2;
export const CONDITIONS: Record<ConditionId, string> = {
  healthy: "inventory healthy",
  delay_2s: `inventory takes ${DELAY_S} s per order`,
  outage: "inventory down while the orders arrive",
};

export interface CompareOrder {
  model: ModelId;
  condition: ConditionId;
  seq: number;
  /** When it was sent, from the start of its condition's run. */
  sent_s: number;
  http_status: number;
  /** The service took the order (A: 200 confirmed; B: 202; C: 200 produced). */
  accepted: boolean;
  /** What the client waited for: until the HTTP answer. */
  response_ms: number;
  outcome: Outcome;
  /** From sending until the user was told the order is confirmed (A: the answer itself). */
  confirmed_ms?: number;
}

export interface CompareSummary {
  model: ModelId;
  condition: ConditionId;
  orders: number;
  accepted: number;
  confirmed: number;
  failed: number;
  no_answer: number;
  response: LatencySummary;
  end_to_end: LatencySummary;
}

/** A check of the comparison: `scenario` says which model under which condition. */
export type CompareCheck = Check & { scenario: string };

export interface CompareResult {
  params: { orders: number; rate: number; outage_s: number; delay_s: number };
  orders: CompareOrder[];
  summaries: CompareSummary[];
  checks: CompareCheck[];
  passed: boolean;
}

export const fmt = (ms: number): string =>
  Number.isNaN(ms) ? "–" : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;

export function summarizeOrders(orders: CompareOrder[]): CompareSummary[] {
  const keys = [...new Set(orders.map((o) => `${o.model}|${o.condition}`))];
  return keys.map((key) => {
    const [model, condition] = key.split("|") as [ModelId, ConditionId];
    const mine = orders.filter((o) => o.model === model && o.condition === condition);
    const count = (outcome: Outcome) => mine.filter((o) => o.outcome === outcome).length;
    return {
      model,
      condition,
      orders: mine.length,
      accepted: mine.filter((o) => o.accepted).length,
      confirmed: count("confirmed"),
      failed: count("failed"),
      no_answer: count("no answer"),
      response: summarize(mine.map((o) => o.response_ms)),
      end_to_end: summarize(mine.filter((o) => o.confirmed_ms !== undefined).map((o) => o.confirmed_ms!)),
    };
  });
}

/** One expectation of a model under a condition: whether it held, and what was seen. */
type Expect = (c: ConditionId, check: string, judge: (s: CompareSummary) => [boolean, string]) => void;

/** A's client waits for inventory's delay; an outage is an error to every order. */
function syncChecks(expect: Expect, healthy?: CompareSummary) {
  const added = (s: CompareSummary) => s.response.median - (healthy?.response.median ?? 0);
  const waits = `the client waits the ${DELAY_S} s too (response median +${0.9 * DELAY_S} s or more)`;
  expect("delay_2s", waits, (s) => [added(s) >= 900 * DELAY_S, `+${(added(s) / 1000).toFixed(2)} s`]);
  expect("outage", "no order goes through while inventory is down: the user gets an error", (s) => [
    s.confirmed === 0 && s.failed === s.orders,
    `${s.failed}/${s.orders} failed, ${s.confirmed} confirmed`,
  ]);
}

/** B's and C's client does not wait; the user does, and an outage loses no order. */
function asyncChecks(expect: Expect, outageSeconds: number) {
  expect("delay_2s", "the client does not wait for inventory (response p95 < 250 ms)", (s) => [
    s.response.p95 < 250,
    `p95 ${s.response.p95.toFixed(1)} ms`,
  ]);
  const userWaits = `the user still waits (end-to-end median ≥ ${0.95 * DELAY_S} s), and every order is confirmed`;
  expect("delay_2s", userWaits, (s) => [
    s.end_to_end.median >= 950 * DELAY_S && s.confirmed === s.orders,
    `median ${fmt(s.end_to_end.median)}, ${s.confirmed}/${s.orders} confirmed`,
  ]);
  expect("outage", "every order accepted and, once inventory is back, confirmed: none lost", (s) => [
    s.accepted === s.orders && s.confirmed === s.orders,
    `${s.accepted} accepted, ${s.confirmed} confirmed, ${s.no_answer} without answer`,
  ]);
  expect("outage", "the first orders waited most of the outage to be confirmed", (s) => [
    s.end_to_end.max >= 0.5 * outageSeconds * 1000,
    `max ${fmt(s.end_to_end.max)} for a ${outageSeconds} s outage`,
  ]);
}

/** The behaviour each model should show, where it ran that condition; loose bounds, as the story states them. */
export function checkModels(summaries: CompareSummary[], outageSeconds: number): CompareCheck[] {
  const checks: CompareCheck[] = [];
  for (const m of Object.keys(MODEL_TITLES) as ModelId[]) {
    const get = (c: ConditionId) => summaries.find((s) => s.model === m && s.condition === c);
    const expect: Expect = (c, check, judge) => {
      const s = get(c);
      if (!s) return;
      const [passed, observed] = judge(s);
      checks.push({ scenario: `${m} ${c}`, check, passed, observed });
    };
    expect("healthy", "every order confirmed", (s) => [s.confirmed === s.orders, `${s.confirmed}/${s.orders}`]);
    if (m === "A") syncChecks(expect, get("healthy"));
    else asyncChecks(expect, outageSeconds);
  }
  return checks;
}

/** The side-by-side table, in milliseconds. */
export function table(summaries: CompareSummary[]): Row[] {
  return summaries.map((s) => ({
    model: MODEL_TITLES[s.model],
    condition: s.condition,
    orders: s.orders,
    accepted: s.accepted,
    confirmed: s.confirmed,
    "response median (ms)": s.response.median,
    "response p95 (ms)": s.response.p95,
    "confirmed after, median (ms)": s.confirmed ? s.end_to_end.median : "–",
    "p95 (ms)": s.confirmed ? s.end_to_end.p95 : "–",
    "max (ms)": s.confirmed ? s.end_to_end.max : "–",
  }));
}

/** Per condition: each model's response times over its end-to-end times, every order a tick. */
export function latencyPlot(orders: CompareOrder[], condition: ConditionId): TopLevelSpec {
  const rows = orders
    .filter((o) => o.condition === condition)
    .flatMap((o) => [
      { scenario: `${o.model} · response`, latency_ms: Math.max(o.response_ms, 0.1), ok: o.accepted },
      ...(o.confirmed_ms !== undefined
        ? [{ scenario: `${o.model} · user told`, latency_ms: Math.max(o.confirmed_ms, 0.1), ok: true }]
        : []),
    ]);
  return latencyDistributionSpec(rows, `${CONDITIONS[condition]}: what the client waits for vs when the user is told`);
}

export function confirmedPlot(summaries: CompareSummary[]): TopLevelSpec {
  const spec = groupedBarSpec(
    summaries.map((s) => ({
      group: s.condition,
      series: MODEL_TITLES[s.model],
      value: Math.round((100 * s.confirmed) / Math.max(1, s.orders)),
    })),
    "Orders confirmed to the user, by the end of each run (%)",
    "% confirmed",
  ) as TopLevelSpec & { encoding: { x: Record<string, unknown> } };
  spec.encoding.x.sort = Object.keys(CONDITIONS); // healthy, delay, outage: the story's order
  return spec;
}

/** orders.csv, summary.json, summary.md and the plots in results/compare/. */
export async function writeResults(result: CompareResult, dir = resultsDir("compare")): Promise<string[]> {
  const out = new ResultFiles(dir);
  const { params: p, summaries, checks, passed } = result;
  out.write("orders.csv", toCsv(result.orders as unknown as Row[]));
  out.write("summary.json", JSON.stringify({ params: p, summaries, checks, passed }, null, 2) + "\n");
  out.summary(
    `The three models side by side (${p.orders} orders per condition at ${p.rate}/s; outage ${p.outage_s} s)`,
    [
      "Response: until the client's HTTP answer. Confirmed after: until the user is told the order is confirmed " +
        "(A: the answer itself; B: the notification service's UserNotified; C: inventory's InventoryReserved on `inventory-events`).",
      markdownTable(table(summaries)),
    ],
    checks,
  );
  for (const condition of [...new Set(result.orders.map((o) => o.condition))])
    await out.plot(`latency-${condition}.svg`, latencyPlot(result.orders, condition));
  await out.plot("confirmed.svg", confirmedPlot(summaries));
  return out.files;
}
