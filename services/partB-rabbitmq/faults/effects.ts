// Part B's effects, counted from the services themselves: where every acknowledged order ended
// up, how much stock was taken against what the reserved orders asked for, how many OrderPlaced
// ids inventory processed and how many users were notified. "Exactly once" is these numbers
// equal to a single delivery of each order; anything above is a duplicated effect.
import fc from "fast-check";
import type { Answer } from "../../harness/implementation.js";
import type { OrderRecord, PlaceOrderBody } from "../lab/client.js";
import type { PartB } from "../lab/implementation.js";
import { sleep } from "../../common/wait.js";
import type { Check } from "../../harness/check.js";

const SKUS = ["burger", "fries", "pizza", "soda", "salad"] as const;
/** The sku with too little stock for its orders, so some orders fail (and a double reservation would show). */
export const SCARCE = "pizza";

export interface PlannedOrder {
  body: { user_id: string; restaurant_id: string; items: unknown };
  sku: string;
  qty: number;
}

/** n orders drawn from the seed: one sku each (pizza always one), both item shapes of the seeds. */
export function plannedOrders(seed: number, n: number, user: string): PlannedOrder[] {
  const arb = fc.tuple(fc.constantFrom(...SKUS), fc.integer({ min: 1, max: 3 }), fc.boolean());
  return fc.sample(arb, { seed, numRuns: n }).map(([sku, q, asMap]) => {
    const qty = sku === SCARCE ? 1 : q;
    return {
      sku,
      qty,
      body: { user_id: user, restaurant_id: "r-faults", items: asMap ? { [sku]: qty } : [{ sku, qty }] },
    };
  });
}

/** Stock for a plan: plenty of everything but the scarce sku, which covers half of its orders. */
export async function stockFor(impl: PartB, plan: PlannedOrder[]): Promise<Record<string, number>> {
  const demand: Record<string, number> = Object.fromEntries(SKUS.map((s) => [s, 0]));
  for (const o of plan) demand[o.sku] += o.qty;
  const stock = Object.fromEntries(SKUS.map((s) => [s, s === SCARCE ? Math.floor(demand[s] / 2) : demand[s] + 10]));
  await impl.faults.stock(stock);
  return stock;
}

/** One planned order placed: the answer, the order id it got (if any) and its plan. */
export type PlacedPlan = Answer<PlaceOrderBody> & { order_id?: string; plan: PlannedOrder };

/** POST /order for every planned order, a few at a time; each answer kept with its plan. */
export async function placeAll(impl: PartB, plan: PlannedOrder[], concurrency = 16): Promise<PlacedPlan[]> {
  const out: PlacedPlan[] = new Array(plan.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < plan.length; i = next++) {
      const answer = await impl.placeOrder(plan[i].body);
      out[i] = { ...answer, order_id: answer.body?.order_id, plan: plan[i] };
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

const isFinal = (r: OrderRecord | undefined) => r?.status === "CONFIRMED" || r?.status === "FAILED";

/**
 * Wait until every order is CONFIRMED or FAILED, the time is up, or no order has become final for
 * `quietMs` (a lost order never will: without a safeguard that is the expected end, and waiting
 * out the whole timeout would only make the run slower); returns what each one is.
 */
export async function waitAllFinal(
  impl: PartB,
  ids: string[],
  timeoutMs: number,
  quietMs = 20_000,
): Promise<Map<string, OrderRecord | undefined>> {
  const deadline = Date.now() + timeoutMs;
  const records = new Map<string, OrderRecord | undefined>();
  let pending = ids;
  let progressAt = Date.now();
  for (;;) {
    for (const [id, r] of await impl.orders(pending)) records.set(id, r);
    const still = pending.filter((id) => !isFinal(records.get(id)));
    if (still.length < pending.length) progressAt = Date.now();
    pending = still;
    if (pending.length === 0 || Date.now() > deadline || Date.now() - progressAt > quietMs) return records;
    await sleep(200);
  }
}

export interface Snapshot {
  stock: Record<string, number>;
  processed: number;
  notified: number;
  inventory: Record<string, any>;
  notification: Record<string, any>;
  order: Record<string, any>;
}

export async function snapshot(impl: PartB): Promise<Snapshot> {
  const [inventory, notification, order] = [
    await impl.stats("inventory"),
    await impl.stats("notification"),
    await impl.stats("order"),
  ];
  return {
    stock: inventory.stock,
    processed: inventory.processed_total,
    notified: notification.notified_total,
    inventory,
    notification,
    order,
  };
}

export interface Effects {
  final_states: Record<string, number>;
  lost: number;
  duplicated_effects: number;
  invariants: Check[];
  details: Record<string, unknown>;
}

/**
 * The exactly-once check: for the acknowledged orders (with their plans) and their final records,
 * compare stock taken, processed ids and notifications with what one delivery of each would do.
 */
export function effectsOf(
  acked: { order_id?: string; plan: PlannedOrder }[],
  records: Map<string, OrderRecord | undefined>,
  before: Snapshot,
  after: Snapshot,
  scarceStock: number,
): Effects {
  const final_states: Record<string, number> = {};
  const expectedTaken: Record<string, number> = {};
  let confirmed = 0;
  let scarceReserved = 0;
  let scarceOrders = 0;
  for (const o of acked) {
    const status = records.get(o.order_id!)?.status ?? "UNKNOWN";
    final_states[status] = (final_states[status] ?? 0) + 1;
    if (o.plan.sku === SCARCE) scarceOrders++;
    if (status === "CONFIRMED") {
      confirmed++;
      expectedTaken[o.plan.sku] = (expectedTaken[o.plan.sku] ?? 0) + o.plan.qty;
      if (o.plan.sku === SCARCE) scarceReserved++;
    }
  }
  const lost = acked.length - (final_states.CONFIRMED ?? 0) - (final_states.FAILED ?? 0);
  const skus = [...new Set([...Object.keys(before.stock), ...Object.keys(after.stock)])];
  const taken = Object.fromEntries(skus.map((s) => [s, (before.stock[s] ?? 0) - (after.stock[s] ?? 0)]));
  const stockOff = skus.filter((s) => taken[s] !== (expectedTaken[s] ?? 0));
  const extraStock = skus.reduce((n, s) => n + Math.max(0, taken[s] - (expectedTaken[s] ?? 0)), 0);
  const processed = after.processed - before.processed;
  const notified = after.notified - before.notified;
  const expectedScarce = Math.min(scarceStock, scarceOrders);
  const duplicated_effects = extraStock + Math.max(0, processed - acked.length) + Math.max(0, notified - confirmed);
  return {
    final_states,
    lost,
    duplicated_effects,
    invariants: [
      {
        check: "every acknowledged order reached CONFIRMED or FAILED",
        passed: lost === 0,
        observed: `${acked.length - lost}/${acked.length} final`,
      },
      {
        check: "stock taken = items of the confirmed orders, per sku",
        passed: stockOff.length === 0,
        observed: stockOff.length
          ? stockOff.map((s) => `${s}: took ${taken[s]}, confirmed orders asked ${expectedTaken[s] ?? 0}`).join("; ")
          : skus.map((s) => `${s} −${taken[s]}`).join(", "),
      },
      {
        check: `${SCARCE} sold out exactly: min(stock, orders) confirmed, the rest FAILED`,
        passed: scarceReserved === expectedScarce,
        observed: `${scarceReserved} of ${scarceOrders} ${SCARCE} orders confirmed with stock ${scarceStock}`,
      },
      {
        check: "inventory processed each OrderPlaced id once",
        passed: processed === acked.length,
        observed: `+${processed} processed ids for ${acked.length} orders`,
      },
      {
        check: "each confirmed order notified its user once",
        passed: notified === confirmed,
        observed: `+${notified} notifications for ${confirmed} confirmed orders`,
      },
    ],
    details: {
      stock_before: before.stock,
      stock_after: after.stock,
      taken,
      expected_taken: expectedTaken,
      processed_ids: processed,
      notified,
    },
  };
}
