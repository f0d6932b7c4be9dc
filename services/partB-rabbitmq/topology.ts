// Every exchange, queue, binding and dead-letter route of Part B, declared in this one place.
// All services and scripts declare the same topology on connect (declaring is idempotent), so it
// does not matter who starts first. Redeclaring a queue with *other* arguments is an error that
// closes the channel (PRECONDITION_FAILED): one module is how the arguments stay identical.
import type { Channel } from "amqplib";

export const EXCHANGES = {
  /** OrderService publishes OrderPlaced here (contract name). */
  orders: "orders-ex",
  /** InventoryService publishes InventoryReserved / InventoryFailed here (contract name). */
  inventory: "inventory-ex",
  /** NotificationService publishes UserNotified here, so the order service can show CONFIRMED. */
  notification: "notification-ex",
} as const;

export const ROUTING_KEYS = {
  orderPlaced: "order.placed",
  inventoryReserved: "inventory.reserved",
  inventoryFailed: "inventory.failed",
  userNotified: "notification.sent",
} as const;

export interface QueueDef {
  name: string;
  bindings: { exchange: string; routingKey: string }[];
  /** A message rejected without requeue goes through this exchange (fanout) to `dlq`. */
  deadLetter: { exchange: string; queue: string };
}

export const QUEUES = {
  /** InventoryService's work queue (contract names: queue, DLX and DLQ). */
  orderPlaced: {
    name: "order.placed.q",
    bindings: [{ exchange: EXCHANGES.orders, routingKey: ROUTING_KEYS.orderPlaced }],
    deadLetter: { exchange: "orders-dlx", queue: "order.placed.dlq" },
  },
  /** NotificationService: the reserved orders, to confirm to the user. */
  notification: {
    name: "notification.reserved.q",
    bindings: [{ exchange: EXCHANGES.inventory, routingKey: ROUTING_KEYS.inventoryReserved }],
    deadLetter: { exchange: "notification-dlx", queue: "notification.reserved.dlq" },
  },
  /** OrderService: every outcome of an order, to keep GET /orders/:id up to date. */
  orderStatus: {
    name: "order.status.q",
    bindings: [
      { exchange: EXCHANGES.inventory, routingKey: ROUTING_KEYS.inventoryReserved },
      { exchange: EXCHANGES.inventory, routingKey: ROUTING_KEYS.inventoryFailed },
      { exchange: EXCHANGES.notification, routingKey: ROUTING_KEYS.userNotified },
    ],
    deadLetter: { exchange: "order-status-dlx", queue: "order.status.dlq" },
  },
} as const satisfies Record<string, QueueDef>;

/** The arguments of a work queue. Change them only here (see the redeclare note above). */
export const queueArguments = (q: QueueDef): Record<string, unknown> => ({
  "x-queue-type": "classic",
  "x-dead-letter-exchange": q.deadLetter.exchange,
});

/**
 * Declare everything: durable exchanges and queues, so they and persistent messages survive a
 * broker restart. `durable` false (the `durability` safeguard off) declares the queues transient:
 * a restart deletes them with their messages. A queue already declared the other way refuses the
 * declaration (PRECONDITION_FAILED), so a run without it starts on queues deleted first.
 */
export async function declareTopology(ch: Channel, durable = true): Promise<void> {
  for (const name of Object.values(EXCHANGES)) await ch.assertExchange(name, "direct", { durable: true });
  for (const q of Object.values(QUEUES) as QueueDef[]) {
    await ch.assertExchange(q.deadLetter.exchange, "fanout", { durable: true });
    // #region safeguard:durability
    await ch.assertQueue(q.deadLetter.queue, { durable, arguments: { "x-queue-type": "classic" } });
    await ch.bindQueue(q.deadLetter.queue, q.deadLetter.exchange, "");
    await ch.assertQueue(q.name, { durable, arguments: queueArguments(q) });
    // #endregion
    for (const b of q.bindings) await ch.bindQueue(q.name, b.exchange, b.routingKey);
  }
}

/** Every queue name, work queues and dead-letter queues, e.g. for a status table. */
export const allQueueNames = (): string[] =>
  (Object.values(QUEUES) as QueueDef[]).flatMap((q) => [q.name, q.deadLetter.queue]);
