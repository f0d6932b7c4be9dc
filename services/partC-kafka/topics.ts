// The names Part C's services, scripts and tests share (CONTRACTS.md, Part C). The topics the
// lab creates are declared in common/kafka-topics.ts; the names are read from there.
import { KAFKA_TOPICS } from "../common/kafka-topics.js";

function declared(name: string): string {
  if (!KAFKA_TOPICS.some((t) => t.name === name))
    throw new Error(`topic ${name} is not declared in common/kafka-topics.ts`);
  return name;
}

export const TOPICS = {
  orders: declared("orders"),
  inventoryEvents: declared("inventory-events"),
  /** Orders the inventory consumer could not read, each with the reason in a header. Created by the consumer. */
  ordersDeadLetter: "orders.dlq",
} as const;

export const GROUPS = {
  inventory: "inventory-service-group",
  analytics: "analytics-group",
} as const;

/** Which topics each consumer group reads: what its lag is measured against. */
export const GROUP_TOPICS: Record<string, string[]> = {
  [GROUPS.inventory]: [TOPICS.orders],
  [GROUPS.analytics]: [TOPICS.orders, TOPICS.inventoryEvents],
};
