// The inventory's decision for one order: reserve it, or fail it. Failures are injected with a
// probability (INVENTORY_FAIL_RATE) and drawn from a seed *and the order id*, not from a running
// sequence: partitions are read in no fixed order, and an order processed twice (after a crash)
// must get the same answer both times. The same seed fails the same orders in every run.
import { createHash } from "node:crypto";
import { seededRandom } from "../common/random.js";
import { inventoryFailed, inventoryReserved, type InventoryEvent, type OrderPlaced } from "./events.js";

export interface FailurePolicy {
  failRate: number;
  seed: number;
}

export function reserve(order: OrderPlaced, policy: FailurePolicy): InventoryEvent {
  if (policy.failRate > 0 && drawFor(order.orderId, policy.seed) < policy.failRate) {
    return inventoryFailed(order, `inventory failure injected (INVENTORY_FAIL_RATE=${policy.failRate})`);
  }
  return inventoryReserved(order);
}

/** A number in [0, 1) that depends only on the seed and the order id. */
export function drawFor(orderId: string, seed: number): number {
  const key = createHash("sha256").update(`${seed}:${orderId}`).digest().readUInt32BE(0);
  return seededRandom(key)();
}
