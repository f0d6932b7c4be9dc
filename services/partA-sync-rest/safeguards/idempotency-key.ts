// Part A · idempotency-key. Inventory reserves, then loses half of its answers (a 500 after the
// work is done); the order service retries. With the Idempotency-Key the retry gets the first
// reservation back; without it, the retry reserves again: one order, two units of stock.
import { safeguardRun, type SafeguardExperiment, type SafeguardRun } from "../../harness/safeguards.js";
import type { Answer } from "../../harness/implementation.js";
import { burst } from "../faults/stack.js";
import { PARTA_SAFEGUARDS } from "../switches.js";
import { onPartA } from "./on-part-a.js";

const NAME = "idempotency-key";
const LOST_ANSWERS = 0.5;

/**
 * The checker: every unit of stock taken beyond one per confirmed order. Inventory's /health
 * counts reservations and the orders they were for; the answers say which orders were confirmed.
 */
export function countStockTakenTwice(answers: Answer[], inventory: Record<string, number>): SafeguardRun {
  const confirmed = answers.filter((a) => a.status === 200).length;
  const counts = {
    orders: answers.length,
    confirmed,
    reservations: inventory.reservations,
    answers_lost_after_reserve: inventory.failed_after_reserve,
    units_taken_twice: inventory.reservations - inventory.orders_reserved,
    units_held_for_failed_orders: inventory.orders_reserved - confirmed,
  };
  return safeguardRun(
    counts,
    ["units_taken_twice", "units_held_for_failed_orders"],
    `${counts.orders} orders, ${confirmed} confirmed, ${counts.reservations} units reserved: ${counts.units_taken_twice} taken twice by a retry, ${counts.units_held_for_failed_orders} held for orders answered as failed`,
  );
}

export const idempotencyKey: SafeguardExperiment = {
  safeguard: NAME,
  part: "A",
  scenario: `a burst of orders while inventory reserves and then answers ${LOST_ANSWERS * 100} % of new reservations with a 500; the order service retries`,
  prevents: PARTA_SAFEGUARDS[NAME].prevents,
  run: (opts, on) =>
    onPartA(opts, NAME, on, {}, async (impl) => {
      await impl.faults.inventoryFailAfterReserveRate(LOST_ANSWERS);
      const answers = await burst(impl, opts.quick ? 20 : 200, "idempotency");
      return countStockTakenTwice(answers, (await impl.health("inventory")).body);
    }),
};
