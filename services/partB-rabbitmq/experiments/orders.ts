// The orders Part B's experiments place, and what they read of them the same way: accepted or
// not, the inventory events the tap saw for each, and the check that each got exactly one.
import type { Run, Tally } from "../../harness/judge/experiment.js";
import { sleep } from "../../common/wait.js";
import { check, type Check } from "../../harness/judge/check.js";
import type { PartB } from "../lab/implementation.js";
import type { Tapped, WireTap } from "../lab/tap.js";

/** One order placed by an experiment, and what became of it. */
export interface Answered {
  http_status: number;
  accept_ms: number;
  order_id: string;
  /** InventoryReserved/InventoryFailed seen on the wire for it (absent: the events cannot be seen). */
  events?: number;
  kinds?: string;
  /** Its state at the order service (absent: no order status capability). */
  status?: string;
  placed_to_final_ms?: number;
}

export const is2xx = (status: number): boolean => status >= 200 && status < 300;
export const accepted2xx = (o: { http_status: number }): boolean => is2xx(o.http_status);

/** `InventoryReserved ×1, InventoryFailed ×1`, or "none". */
export const kindsOf = (events: Tapped[]): string => {
  const counts = new Map<string, number>();
  for (const e of events) counts.set(e.kind, (counts.get(e.kind) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k} ×${n}`).join(", ") || "none";
};

/** The inventory events of an order, where they can be seen. */
export const eventKinds = (
  tap: WireTap | undefined,
  orderId: string,
  impl: PartB,
): Pick<Answered, "events" | "kinds"> => {
  if (!tap || !orderId || !impl.capabilities.has("inventory events")) return {};
  const events = tap.inventoryEvents(orderId);
  return { events: events.length, kinds: events.map((e) => e.kind).join(" ") };
};

/** Why the inventory events of a run cannot be counted, or undefined when they can. */
const unseen = (r: Run<PartB>, ok: Answered[]): string | undefined => {
  const reason = r.impl.capabilities.reason("inventory events");
  if (reason) return reason;
  if (ok.some((o) => o.events === undefined && o.order_id)) return "the wire could not be tapped";
  const untraceable = ok.filter((o) => !o.order_id).length;
  if (untraceable)
    return `${untraceable} accepted answer(s) carry no order_id, so their orders cannot be matched to their events`;
  return undefined;
};

/** "every accepted order got exactly one InventoryReserved/InventoryFailed on the wire", or its skip. */
export function answeredOnce(r: Run<PartB>, ok: Answered[], when: string): Check[] {
  const name = `${when} every accepted order got exactly one InventoryReserved/InventoryFailed on the wire`;
  const reason = unseen(r, ok);
  if (reason) {
    r.skipped.push({ check: name, reason });
    return [];
  }
  const lost = ok.filter((o) => o.events === 0);
  const doubled = ok.filter((o) => o.events! > 1);
  const count = (k: string) => ok.filter((o) => o.kinds?.split(" ").includes(k)).length;
  const some = (os: Answered[], f: (o: Answered) => string) =>
    os.slice(0, 3).map(f).join(", ") + (os.length > 3 ? ", …" : "");
  return [
    check(
      name,
      lost.length === 0 && doubled.length === 0 && ok.length > 0,
      `lost ${lost.length}, duplicated ${doubled.length} of ${ok.length} accepted (reserved ${count("InventoryReserved")}, failed ${count("InventoryFailed")})` +
        (lost.length ? `; no event for ${some(lost, (o) => o.order_id)}` : "") +
        (doubled.length ? `; more than one for ${some(doubled, (o) => `${o.order_id} (${o.kinds})`)}` : ""),
    ),
  ];
}

const SKUS = ["burger", "fries", "pizza", "soda", "salad"];

/** Order n: one item, skus in turn, both item shapes of the seeds in turn. */
export function experimentOrder(n: number, user = "u-backlog"): Record<string, unknown> {
  const sku = SKUS[n % SKUS.length];
  return { user_id: user, restaurant_id: "r-lab", items: n % 2 === 0 ? [{ sku, qty: 1 }] : { [sku]: 1 } };
}

/** Enough stock for `orders` orders of experimentOrder, without lowering anything (capability "stock"). */
export async function ensureStockFor(impl: PartB, orders: number): Promise<void> {
  const stock = (await impl.stats("inventory")).stock as Record<string, number>;
  const need = Math.ceil(orders / SKUS.length) + 10;
  const raise = Object.fromEntries(SKUS.filter((s) => (stock[s] ?? 0) < need).map((s) => [s, need]));
  if (Object.keys(raise).length) await impl.faults.stock(raise);
}

/**
 * Each order's state and placed → final time (capability "order status"), until all are final,
 * `deadline` passes, or none became final for `quietMs` (a lost order never will).
 */
export async function awaitFinal(impl: PartB, orders: Answered[], deadline: number, quietMs = 20_000): Promise<void> {
  let pending = orders;
  let progressAt = Date.now();
  for (;;) {
    const records = await impl.orders(pending.map((o) => o.order_id));
    for (const o of pending) {
      const rec = records.get(o.order_id);
      const end = rec?.notified_at ?? rec?.failed_at;
      o.status = rec?.status ?? "unknown";
      if (end) o.placed_to_final_ms = Date.parse(end) - Date.parse(rec!.placed_at);
    }
    const still = pending.filter((o) => o.placed_to_final_ms === undefined);
    if (still.length < pending.length) progressAt = Date.now();
    pending = still;
    if (!pending.length || Date.now() > deadline || Date.now() - progressAt > quietMs) return;
    await sleep(200);
  }
}

/**
 * What the checker counts of the accepted orders: where they ended (where their state can be
 * read), lost (not final; else no answer on the wire) and duplicated (more than one answer).
 */
export function ordersTally(sent: number, ok: Answered[]): Tally {
  const final_states: Record<string, number> = {};
  for (const o of ok) if (o.status !== undefined) final_states[o.status] = (final_states[o.status] ?? 0) + 1;
  const byState = ok.some((o) => o.status !== undefined);
  const onWire = ok.some((o) => o.events !== undefined);
  const lost = byState
    ? ok.filter((o) => o.status !== "CONFIRMED" && o.status !== "FAILED").length
    : ok.filter((o) => o.events === 0).length;
  return {
    sent,
    acknowledged: ok.length,
    final_states,
    anomalies: {
      ...(byState || onWire ? { lost } : {}),
      ...(onWire ? { duplicated: ok.filter((o) => o.events! > 1).length } : {}),
    },
  };
}
