// The same workload through the three models, side by side: what the client waits for (the
// response) and when the user is actually told their order is confirmed (end to end) — with a
// healthy inventory, with a 2 s inventory delay, and with inventory down for a while. Each model
// is driven through the compare adapter its part's lab exports (lab/compare-model.ts); this
// module only loops over the models, schedules the orders, measures, checks and plots.
import { fixedRateLoad } from "../harness/measure/fixed-rate.js";
import type { ComparisonModel, ModelPlaced, Outcome } from "../harness/measure/implementation.js";
import { usePart, type LabOptions, type RunningPart } from "../harness/run/lifecycle.js";
import { type PartId } from "../harness/run/parts.js";
import { resultsDir } from "../common/paths.js";
import { groupedBarSpec, latencyDistributionSpec, type TopLevelSpec } from "../harness/show/plots.js";
import type { Check } from "../harness/judge/check.js";
import { ResultFiles } from "../harness/show/results.js";
import { summarize, type LatencySummary } from "../harness/measure/stats.js";
import { markdownTable, toCsv, type Row } from "../common/table.js";
import { sleep, waitUntil } from "../common/wait.js";
import { compareModel as partACompareModel } from "../partA-sync-rest/lab/compare-model.js";
import { compareModel as partBCompareModel } from "../partB-rabbitmq/lab/compare-model.js";
import { compareModel as partCCompareModel } from "../partC-kafka/lab/compare-model.js";

export type ModelId = "A" | "B" | "C";
export type ConditionId = "healthy" | "delay_2s" | "outage";

const MODELS: Record<ModelId, { part: PartId; title: string }> = {
  A: { part: "partA", title: "A · sync REST" },
  B: { part: "partB", title: "B · RabbitMQ" },
  C: { part: "partC", title: "C · Kafka" },
};
const CONDITIONS: Record<ConditionId, string> = {
  healthy: "inventory healthy",
  delay_2s: "inventory takes 2 s per order",
  outage: "inventory down while the orders arrive",
};

export type { Outcome };

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

export interface CompareOptions extends LabOptions {
  models?: ModelId[];
  conditions?: ConditionId[];
  /** Orders per condition (healthy and delay); the outage sends rate × outageSeconds. */
  orders: number;
  /** Orders per second, the same for every model. */
  rate: number;
  outageSeconds: number;
  /** How long to wait for the last answers after the last order. */
  answerTimeoutMs?: number;
  onProgress?: (line: string) => void;
}

export interface CompareResult {
  params: { orders: number; rate: number; outage_s: number; delay_s: number };
  orders: CompareOrder[];
  summaries: CompareSummary[];
  checks: CompareCheck[];
  passed: boolean;
}

/** Inventory's delay in the delay condition, in seconds (the notebook reads it from here). */
export const DELAY_S = 2;

/** How the comparison opens each model on its running part: each part's lab exports its own. */
const ADAPTERS: Record<ModelId, (running: RunningPart, opts: LabOptions, runTag: string) => Promise<ComparisonModel>> =
  {
    A: partACompareModel,
    B: partBCompareModel,
    C: partCCompareModel,
  };

/** One condition through one model: the orders at the fixed rate, then waiting for every answer. */
async function runCondition(
  id: ModelId,
  model: ComparisonModel,
  condition: ConditionId,
  opts: CompareOptions,
): Promise<CompareOrder[]> {
  const progress = opts.onProgress ?? (() => {});
  const count = condition === "outage" ? Math.max(1, Math.round(opts.rate * opts.outageSeconds)) : opts.orders;
  await model.prepare(count);
  if (condition === "delay_2s") await model.setDelay(DELAY_S);
  let inventoryDown = false;
  if (condition === "outage") {
    await model.stopInventory();
    inventoryDown = true;
  }
  const t0 = performance.now();
  const placed: (ModelPlaced & { seq: number; sent_s: number })[] = [];
  try {
    progress(`${MODELS[id].title}, ${CONDITIONS[condition]}: ${count} orders at ${opts.rate}/s`);
    const sending = fixedRateLoad({
      rate: opts.rate,
      count,
      connections: Math.max(4, Math.ceil(opts.rate * 6)),
      send: async (seq) => {
        const sent_s = Math.round(performance.now() - t0) / 1000;
        const r = await model.place(seq, `${condition}-${seq}`);
        placed.push({ ...r, seq, sent_s });
        return r.accepted;
      },
    });
    if (condition === "outage") {
      // Inventory comes back once the outage is over, whether or not every order has been answered.
      await sleep(Math.max(0, opts.outageSeconds * 1000 - (performance.now() - t0)));
      await sending;
      await model.startInventory();
      inventoryDown = false;
      progress(`  inventory back after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } else await sending;
  } finally {
    if (condition === "delay_2s") await model.setDelay(0);
    if (inventoryDown) await model.startInventory().catch(() => {}); // never leave it down
  }

  // Wait for the answers of the accepted orders that have none yet.
  const pending = () => placed.filter((p) => p.accepted && !p.outcome && p.id).map((p) => p.id!);
  const found = new Map<string, { outcome: Outcome; at?: number }>();
  await waitUntil(
    async () => {
      const ids = pending().filter((i) => !found.has(i));
      if (ids.length) for (const [k, v] of await model.answers(ids)) found.set(k, v);
      return pending().every((i) => found.has(i));
    },
    "every accepted order to be answered",
    opts.answerTimeoutMs ?? 120_000,
    200,
  ).catch(() => progress(`  gave up waiting for ${pending().filter((i) => !found.has(i)).length} answer(s)`));

  const orders = placed
    .sort((a, b) => a.seq - b.seq)
    .map((p): CompareOrder => {
      const answer = p.id ? found.get(p.id) : undefined;
      const outcome: Outcome = p.outcome ?? answer?.outcome ?? (p.accepted ? "no answer" : "failed");
      const confirmed_ms =
        p.confirmed_ms ??
        (answer?.outcome === "confirmed" && answer.at !== undefined ? Math.max(0, answer.at - p.sentAt) : undefined);
      return {
        model: id,
        condition,
        seq: p.seq,
        sent_s: p.sent_s,
        http_status: p.http_status,
        accepted: p.accepted,
        response_ms: p.response_ms,
        outcome,
        confirmed_ms,
      };
    });
  const s = summarizeOrders(orders)[0];
  progress(
    `  response median ${fmt(s.response.median)}, confirmed ${s.confirmed}/${s.orders}` +
      (s.confirmed ? `, user told after median ${fmt(s.end_to_end.median)} (max ${fmt(s.end_to_end.max)})` : ""),
  );
  return orders;
}

const fmt = (ms: number) =>
  Number.isNaN(ms) ? "–" : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;

export async function runComparison(opts: CompareOptions): Promise<CompareResult> {
  const models = opts.models ?? (["A", "B", "C"] as ModelId[]);
  const conditions = opts.conditions ?? (["healthy", "delay_2s", "outage"] as ConditionId[]);
  const runTag = Date.now().toString(36);
  const orders: CompareOrder[] = [];
  for (const id of models) {
    await usePart(MODELS[id].part, opts, async (running) => {
      const model = await ADAPTERS[id](running, opts, runTag);
      try {
        for (const condition of conditions) orders.push(...(await runCondition(id, model, condition, opts)));
      } finally {
        await model.close();
      }
    });
  }
  const summaries = summarizeOrders(orders);
  const checks = checkModels(summaries, opts.outageSeconds);
  return {
    params: { orders: opts.orders, rate: opts.rate, outage_s: opts.outageSeconds, delay_s: DELAY_S },
    orders,
    summaries,
    checks,
    passed: checks.every((c) => c.passed),
  };
}

export function summarizeOrders(orders: CompareOrder[]): CompareSummary[] {
  const keys = [...new Set(orders.map((o) => `${o.model}|${o.condition}`))];
  return keys.map((key) => {
    const [model, condition] = key.split("|") as [ModelId, ConditionId];
    const mine = orders.filter((o) => o.model === model && o.condition === condition);
    return {
      model,
      condition,
      orders: mine.length,
      accepted: mine.filter((o) => o.accepted).length,
      confirmed: mine.filter((o) => o.outcome === "confirmed").length,
      failed: mine.filter((o) => o.outcome === "failed").length,
      no_answer: mine.filter((o) => o.outcome === "no answer").length,
      response: summarize(mine.map((o) => o.response_ms)),
      end_to_end: summarize(mine.filter((o) => o.confirmed_ms !== undefined).map((o) => o.confirmed_ms!)),
    };
  });
}

/** The behaviour each model should show; loose bounds, as the story states them. */
export function checkModels(summaries: CompareSummary[], outageSeconds: number): CompareCheck[] {
  const get = (m: ModelId, c: ConditionId) => summaries.find((s) => s.model === m && s.condition === c);
  const checks: CompareCheck[] = [];
  const add = (scenario: string, check: string, passed: boolean, observed: string) =>
    checks.push({ scenario, check, passed, observed });
  for (const m of ["A", "B", "C"] as ModelId[]) {
    const healthy = get(m, "healthy");
    if (healthy)
      add(
        `${m} healthy`,
        "every order confirmed",
        healthy.confirmed === healthy.orders,
        `${healthy.confirmed}/${healthy.orders}`,
      );
    const slow = get(m, "delay_2s");
    if (slow && m === "A") {
      const added = slow.response.median - (healthy?.response.median ?? 0);
      add(
        "A delay_2s",
        "the client waits the 2 s too (response median +1.8 s or more)",
        added >= 1800,
        `+${(added / 1000).toFixed(2)} s`,
      );
    }
    if (slow && m !== "A") {
      add(
        `${m} delay_2s`,
        "the client does not wait for inventory (response p95 < 250 ms)",
        slow.response.p95 < 250,
        `p95 ${slow.response.p95.toFixed(1)} ms`,
      );
      add(
        `${m} delay_2s`,
        "the user still waits (end-to-end median ≥ 1.9 s), and every order is confirmed",
        slow.end_to_end.median >= 1900 && slow.confirmed === slow.orders,
        `median ${fmt(slow.end_to_end.median)}, ${slow.confirmed}/${slow.orders} confirmed`,
      );
    }
    const outage = get(m, "outage");
    if (outage && m === "A")
      add(
        "A outage",
        "no order goes through while inventory is down: the user gets an error",
        outage.confirmed === 0 && outage.failed === outage.orders,
        `${outage.failed}/${outage.orders} failed, ${outage.confirmed} confirmed`,
      );
    if (outage && m !== "A") {
      add(
        `${m} outage`,
        "every order accepted and, once inventory is back, confirmed: none lost",
        outage.accepted === outage.orders && outage.confirmed === outage.orders,
        `${outage.accepted} accepted, ${outage.confirmed} confirmed, ${outage.no_answer} without answer`,
      );
      add(
        `${m} outage`,
        "the first orders waited most of the outage to be confirmed",
        outage.end_to_end.max >= 0.5 * outageSeconds * 1000,
        `max ${fmt(outage.end_to_end.max)} for a ${outageSeconds} s outage`,
      );
    }
  }
  return checks;
}

/** The side-by-side table, in milliseconds. */
export function table(summaries: CompareSummary[]): Row[] {
  return summaries.map((s) => ({
    model: MODELS[s.model].title,
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
      series: MODELS[s.model].title,
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
  out.write("orders.csv", toCsv(result.orders as unknown as Row[]));
  out.write(
    "summary.json",
    JSON.stringify(
      { params: result.params, summaries: result.summaries, checks: result.checks, passed: result.passed },
      null,
      2,
    ) + "\n",
  );
  out.summary(
    `The three models side by side (${result.params.orders} orders per condition at ${result.params.rate}/s; outage ${result.params.outage_s} s)`,
    [
      "Response: until the client's HTTP answer. Confirmed after: until the user is told the order is confirmed " +
        "(A: the answer itself; B: the notification service's UserNotified; C: inventory's InventoryReserved on `inventory-events`).",
      markdownTable(table(result.summaries)),
    ],
    result.checks,
  );
  for (const condition of [...new Set(result.orders.map((o) => o.condition))])
    await out.plot(`latency-${condition}.svg`, latencyPlot(result.orders, condition));
  await out.plot("confirmed.svg", confirmedPlot(result.summaries));
  return out.files;
}
