// What Part C's fault experiments share: inventory fails a seeded share of orders (which ones is
// known in advance from their ids), and analytics' numbers before and after a run give its
// effects: every acknowledged order counted once, answered once, failed as the seed decides.
import type { AnalyticsMetrics } from "../lab/client.js";
import type { Check } from "../../harness/judge/check.js";
import type { ExperimentOptions } from "../../harness/judge/experiment.js";
import { drawFor } from "../reserve.js";

/** The share of orders inventory fails in a fault experiment (INVENTORY_FAIL_RATE, drawn from FAIL_SEED). */
export const FAIL_RATE = 0.2;

export interface SeededOptions extends ExperimentOptions {
  /** The order ids, and so which orders fail, are the same in every run with this seed. */
  seed: number;
}

/** The services' env for a seeded run: inventory fails FAIL_RATE of the orders, by the seed. */
export const seededEnv = (seed: number) => ({ INVENTORY_FAIL_RATE: String(FAIL_RATE), FAIL_SEED: String(seed) });

export const expectedFailures = (orderIds: string[], seed: number) =>
  orderIds.filter((id) => drawFor(id, seed) < FAIL_RATE).length;

/** What analytics counted between two readings: the effects of the run. */
export function counted(m0: AnalyticsMetrics, m1: AnalyticsMetrics) {
  return {
    orders: m1.total_orders - m0.total_orders,
    answers: m1.total_reservations - m0.total_reservations,
    failed: m1.failed_reservations - m0.failed_reservations,
  };
}
export type Counted = ReturnType<typeof counted>;

/** The exactly-once checks on analytics' numbers for `n` orders whose ids are known. */
export function metricChecks(c: Counted, n: number, expectedFailed: number): Check[] {
  return [
    {
      check: "analytics counted every acknowledged order once",
      passed: c.orders === n,
      observed: `+${c.orders} orders for ${n}`,
    },
    {
      check: "every order answered by inventory and counted once",
      passed: c.answers === n,
      observed: `+${c.answers} answers for ${n}`,
    },
    {
      check: `failed = the orders the seed fails (rate ${FAIL_RATE})`,
      passed: c.failed === expectedFailed,
      observed: `${c.failed} failed, ${expectedFailed} expected`,
    },
  ];
}
