// A day-old history for the replay experiment (event-time): orders placed a day ago over a few
// minutes, appended to the orders topic as the producer would have — what a new analytics, or a
// replay the next day, finds. Analytics must count each in the minute it was placed (its
// createdAt), not the minute it reads it; and a replay in another minute must change no minute.
import type { Tally } from "../../harness/judge/experiment.js";
import { orderPlaced, toMessage } from "../events.js";
import { minuteOf } from "../metrics.js";
import { DEFAULT_ITEMS } from "../produce-orders.js";
import { countBy } from "../../harness/run/stack.js";
import { produceRaw } from "../lab/kafka-tap.js";
import type { ObservedMetrics } from "../lab/contract.js";
import type { PartC } from "../lab/implementation.js";

/** The history's length: its orders are spread evenly over these minutes. */
export const HISTORY_MINUTES = 5;

export interface History {
  orders: number;
  /** Orders per minute of their own createdAt. */
  own: Record<string, number>;
  /** Orders per minute before the history was appended. */
  before: Record<string, number>;
}

const perMinute = (m: ObservedMetrics | null | undefined) => (m?.orders_per_minute ?? {}) as Record<string, number>;

/** `n` orders placed a day ago, appended to the orders topic. */
export async function appendHistory(impl: PartC, n: number, seed: number, before: ObservedMetrics): Promise<History> {
  const start = (Math.floor(Date.now() / 60_000) - 24 * 60) * 60_000;
  const history = Array.from({ length: n }, (_, i) =>
    orderPlaced(`evt-${seed}-${i}`, DEFAULT_ITEMS, new Date(start + Math.floor((i * HISTORY_MINUTES * 60_000) / n))),
  );
  const w = await impl.kafka();
  await produceRaw(w.kafka, w.topics.orders, history.map(toMessage));
  return { orders: n, own: countBy(history, (e) => minuteOf(e.createdAt)), before: perMinute(before) };
}

/** Orders per minute that `after` has more than `before`. */
function added(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const d = (after[m] ?? 0) - (before[m] ?? 0);
    if (d !== 0) out[m] = d;
  }
  return out;
}

/** The minutes where two per-minute counts disagree. */
const minutesThatDiffer = (a: Record<string, number>, b: Record<string, number>): string[] =>
  [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((m) => (a[m] ?? 0) !== (b[m] ?? 0)).sort();

const at = (minutes: Record<string, number>) =>
  Object.entries(minutes)
    .map(([m, k]) => `${m.slice(5).replace("T", " ")} ${k}`)
    .join(", ");

/** The minutes the first reading counted wrong and those the replay changed: what event-time keeps at 0. */
export function historyTally(h: History, read: ObservedMetrics | null, replayed: ObservedMetrics | null) {
  const counted = added(h.before, perMinute(read));
  const wrong = minutesThatDiffer(h.own, counted);
  const moved = replayed ? minutesThatDiffer(perMinute(read), perMinute(replayed)) : [];
  const tally: Tally = {
    sent: h.orders,
    acknowledged: h.orders,
    anomalies: { "minutes counted wrong": wrong.length, "minutes changed by the replay": moved.length },
  };
  const observed = `${h.orders} orders placed in ${at(h.own)} (a day ago) were counted in ${at(counted)}; the replay changed ${moved.length} minute(s)`;
  return { tally, observed, passed: wrong.length === 0 && moved.length === 0 };
}
