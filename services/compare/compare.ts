// The same workload through the three models, side by side: what the client waits for (the
// response) and when the user is actually told their order is confirmed (end to end) — with a
// healthy inventory, with a slow one, and with inventory down for a while. Each model is driven
// through the compare adapter its part's lab exports (lab/compare-model.ts); this module loops
// over the models and conditions, schedules the orders and waits for their answers. What the
// orders say (summaries, checks, table, plots, files) is summary.ts's.
import { sleep, waitUntil } from "../common/wait.js";
import { fixedRateLoad } from "../harness/measure/fixed-rate.js";
import type { ComparisonModel, ModelPlaced, Outcome } from "../harness/measure/implementation.js";
import { usePart, type LabOptions, type RunningPart } from "../harness/run/lifecycle.js";
import type { PartId } from "../harness/run/parts.js";
import { compareModel as partACompareModel } from "../partA-sync-rest/lab/compare-model.js";
import { compareModel as partBCompareModel } from "../partB-rabbitmq/lab/compare-model.js";
import { compareModel as partCCompareModel } from "../partC-kafka/lab/compare-model.js";
import { checkModels, CONDITIONS, DELAY_S, fmt, MODEL_TITLES, summarizeOrders } from "./summary.js";
import type { CompareOrder, CompareResult, ConditionId, ModelId } from "./summary.js";

export type { Outcome };

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

type Open = (running: RunningPart, opts: LabOptions, runTag: string) => Promise<ComparisonModel>;

/** Each model's part, and how the comparison opens the model on it: each part's lab exports its own. */
const MODELS: Record<ModelId, { part: PartId; open: Open }> = {
  A: { part: "partA", open: partACompareModel },
  B: { part: "partB", open: partBCompareModel },
  C: { part: "partC", open: partCCompareModel },
};

type Placed = ModelPlaced & { seq: number; sent_s: number };
type Answer = { outcome: Outcome; at?: number };
type Progress = (line: string) => void;

/** `count` orders at the fixed rate through `model`, with inventory as `condition` has it: slow, or down for the outage. */
async function placeUnder(
  model: ComparisonModel,
  condition: ConditionId,
  count: number,
  opts: CompareOptions,
  progress: Progress,
): Promise<Placed[]> {
  if (condition === "delay_2s") await model.setDelay(DELAY_S);
  let inventoryDown = condition === "outage";
  if (inventoryDown) await model.stopInventory();
  const placed: Placed[] = [];
  const t0 = performance.now();
  const since = () => performance.now() - t0;
  try {
    const sending = fixedRateLoad({
      rate: opts.rate,
      count,
      connections: Math.max(4, Math.ceil(opts.rate * 6)),
      send: async (seq) => {
        const sent_s = Math.round(since()) / 1000;
        const r = await model.place(seq, `${condition}-${seq}`);
        placed.push({ ...r, seq, sent_s });
        return r.accepted;
      },
    });
    if (!inventoryDown) {
      await sending;
      return placed;
    }
    // Inventory comes back once the outage is over, whether or not every order has been answered.
    await sleep(Math.max(0, opts.outageSeconds * 1000 - since()));
    await sending;
    await model.startInventory();
    inventoryDown = false;
    progress(`  inventory back after ${(since() / 1000).toFixed(1)} s`);
    return placed;
  } finally {
    if (condition === "delay_2s") await model.setDelay(0);
    if (inventoryDown) await model.startInventory().catch(() => {}); // never leave it down
  }
}

/** The fates of the accepted orders not known at once, as the model learns them, until all are known or the time is up. */
async function awaitAnswers(model: ComparisonModel, placed: Placed[], timeoutMs: number, progress: Progress) {
  const found = new Map<string, Answer>();
  const unknown = () => placed.filter((p) => p.accepted && !p.outcome && p.id && !found.has(p.id)).map((p) => p.id!);
  const known = async () => {
    const ids = unknown();
    if (ids.length) for (const [k, v] of await model.answers(ids)) found.set(k, v);
    return unknown().length === 0;
  };
  await waitUntil(known, "every accepted order to be answered", timeoutMs, 200).catch(() =>
    progress(`  gave up waiting for ${unknown().length} answer(s)`),
  );
  return found;
}

function orderOf(model: ModelId, condition: ConditionId, p: Placed, answer?: Answer): CompareOrder {
  const outcome: Outcome = p.outcome ?? answer?.outcome ?? (p.accepted ? "no answer" : "failed");
  const confirmedAt = answer?.outcome === "confirmed" ? answer.at : undefined;
  const confirmed_ms = p.confirmed_ms ?? (confirmedAt !== undefined ? Math.max(0, confirmedAt - p.sentAt) : undefined);
  const { seq, sent_s, http_status, accepted, response_ms } = p;
  return { model, condition, seq, sent_s, http_status, accepted, response_ms, outcome, confirmed_ms };
}

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
  progress(`${MODEL_TITLES[id]}, ${CONDITIONS[condition]}: ${count} orders at ${opts.rate}/s`);
  const placed = (await placeUnder(model, condition, count, opts, progress)).sort((a, b) => a.seq - b.seq);
  const found = await awaitAnswers(model, placed, opts.answerTimeoutMs ?? 120_000, progress);
  const orders = placed.map((p) => orderOf(id, condition, p, p.id ? found.get(p.id) : undefined));
  const [s] = summarizeOrders(orders);
  progress(
    `  response median ${fmt(s.response.median)}, confirmed ${s.confirmed}/${s.orders}` +
      (s.confirmed ? `, user told after median ${fmt(s.end_to_end.median)} (max ${fmt(s.end_to_end.max)})` : ""),
  );
  return orders;
}

export async function runComparison(opts: CompareOptions): Promise<CompareResult> {
  const models = opts.models ?? (Object.keys(MODELS) as ModelId[]);
  const conditions = opts.conditions ?? (Object.keys(CONDITIONS) as ConditionId[]);
  const runTag = Date.now().toString(36);
  const orders: CompareOrder[] = [];
  for (const id of models) {
    await usePart(MODELS[id].part, opts, async (running) => {
      const model = await MODELS[id].open(running, opts, runTag);
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
