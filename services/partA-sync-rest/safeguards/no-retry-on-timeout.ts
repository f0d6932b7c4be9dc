// Part A · no-retry-on-timeout. Inventory is slower than the per-call timeout. With the safeguard,
// a reserve that timed out is not asked again: inventory gets one request per order. Without it,
// the order service asks again, up to 1 + RETRIES times — more load on the one service that is
// already too slow — and the client waits for every attempt.
import { safeguardRun, type SafeguardExperiment, type SafeguardRun } from "../../harness/safeguards.js";
import type { Answer } from "../../harness/implementation.js";
import { burst } from "../faults/stack.js";
import { PARTA_SAFEGUARDS } from "../switches.js";
import { onPartA, secs, waits } from "./on-part-a.js";

const NAME = "no-retry-on-timeout";
/** 0.5 s per attempt and short backoffs keep all 1 + 2 attempts inside the 6 s deadline. */
const POLICY = { INVENTORY_TIMEOUT_MS: "500", BACKOFF_BASE_MS: "100" };
const DELAY_S = 2;

/** The checker: reserve requests inventory received beyond one per order, and the client's wait. */
export function countExtraReserves(
  answers: Answer[],
  inventory: Record<string, number>,
  retries: number,
): SafeguardRun {
  const counts = {
    orders: answers.length,
    reserve_requests: inventory.requests,
    extra_reserve_requests: Math.max(0, inventory.requests - answers.length),
    timed_out_504: answers.filter((a) => a.status === 504).length,
    ...waits(answers),
  };
  return safeguardRun(
    counts,
    ["extra_reserve_requests"],
    `inventory got ${counts.reserve_requests} reserve requests for ${counts.orders} orders (${counts.extra_reserve_requests} extra; at most 1 + ${retries} each); the client waited ${secs(counts.wait_median_ms)} (median), up to ${secs(counts.wait_max_ms)}`,
  );
}

export const noRetryOnTimeout: SafeguardExperiment = {
  safeguard: NAME,
  part: "A",
  scenario: `orders at once while inventory takes ${DELAY_S} s, longer than the ${POLICY.INVENTORY_TIMEOUT_MS} ms per-call timeout`,
  prevents: PARTA_SAFEGUARDS[NAME].prevents,
  run: (opts, on) =>
    onPartA(opts, NAME, on, POLICY, async (impl) => {
      const { reserve } = await impl.policy();
      await impl.faults.inventoryDelay(DELAY_S);
      const answers = await burst(impl, opts.quick ? 4 : 16, "no-retry");
      return countExtraReserves(answers, (await impl.health("inventory")).body, reserve.retries);
    }),
};
