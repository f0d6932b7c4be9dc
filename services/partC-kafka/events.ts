// The events on Part C's topics, their schemas, and how a consumer reads one off the wire.
// An event carries everything its consumers need, including when it happened (`createdAt`):
// analytics counts by that time, not by the time it reads the event, so a replay of the same
// log gives the same numbers.
import { createHash } from "node:crypto";
import { Type, type Static } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { newEventId } from "../common/ids.js";

export const OrderItemSchema = Type.Object(
  {
    sku: Type.String({ minLength: 1, maxLength: 100 }),
    qty: Type.Integer({ minimum: 1, maximum: 1000 }),
  },
  { additionalProperties: true },
);
export const ItemsSchema = Type.Array(OrderItemSchema, { minItems: 1, maxItems: 100 });
export type OrderItem = Static<typeof OrderItemSchema>;

const common = {
  eventId: Type.String({ minLength: 1, maxLength: 200 }),
  orderId: Type.String({ minLength: 1, maxLength: 200 }),
  items: ItemsSchema,
  // An ISO-8601 timestamp; checked with Date.parse below (TypeBox has no built-in formats).
  createdAt: Type.String({ minLength: 10, maxLength: 40 }),
};

export const OrderPlacedSchema = Type.Object(
  { ...common, eventType: Type.Literal("OrderPlaced") },
  { additionalProperties: true },
);

/** Inventory events name the OrderPlaced they answer, so a duplicate can be traced to its cause. */
const answering = { ...common, orderEventId: Type.String({ minLength: 1, maxLength: 200 }) };
export const InventoryReservedSchema = Type.Object(
  { ...answering, eventType: Type.Literal("InventoryReserved") },
  { additionalProperties: true },
);
export const InventoryFailedSchema = Type.Object(
  { ...answering, eventType: Type.Literal("InventoryFailed"), reason: Type.String({ minLength: 1 }) },
  { additionalProperties: true },
);

export type OrderPlaced = Static<typeof OrderPlacedSchema>;
export type InventoryReserved = Static<typeof InventoryReservedSchema>;
export type InventoryFailed = Static<typeof InventoryFailedSchema>;
export type InventoryEvent = InventoryReserved | InventoryFailed;
export type LabEvent = OrderPlaced | InventoryEvent;

/** A new OrderPlaced; a client retrying an unacknowledged one passes its eventId, so it is counted once. */
export function orderPlaced(
  orderId: string,
  items: OrderItem[],
  createdAt = new Date(),
  eventId = newEventId(),
): OrderPlaced {
  return { eventId, eventType: "OrderPlaced", orderId, items, createdAt: createdAt.toISOString() };
}

export function inventoryReserved(order: OrderPlaced, createdAt = new Date()): InventoryReserved {
  return { ...answer(order, createdAt), eventType: "InventoryReserved" };
}

export function inventoryFailed(order: OrderPlaced, reason: string, createdAt = new Date()): InventoryFailed {
  return { ...answer(order, createdAt), eventType: "InventoryFailed", reason };
}

function answer(order: OrderPlaced, createdAt: Date) {
  return {
    eventId: answerEventId(order.eventId),
    orderId: order.orderId,
    orderEventId: order.eventId,
    items: order.items,
    createdAt: createdAt.toISOString(),
  };
}

/**
 * The answer to an OrderPlaced always gets the same eventId (a name-based UUID, as in UUID v5),
 * so when a restarted consumer processes an order a second time, the second answer is a
 * recognisable duplicate that analytics counts once.
 */
export function answerEventId(orderEventId: string): string {
  const h = createHash("sha1").update(`inventory-answer:${orderEventId}`).digest("hex");
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

// Reading an event off a topic: JSON, then the schema of its eventType. Anything else is a
// reason, never an exception, so one bad event cannot stop a consumer.

const checkers = {
  OrderPlaced: TypeCompiler.Compile(OrderPlacedSchema),
  InventoryReserved: TypeCompiler.Compile(InventoryReservedSchema),
  InventoryFailed: TypeCompiler.Compile(InventoryFailedSchema),
};
export type EventType = keyof typeof checkers;

export type Parsed<E> = { ok: true; event: E } | { ok: false; reason: string };

export function parseEvent<T extends EventType>(
  value: Buffer | null,
  expected: readonly T[],
): Parsed<Extract<LabEvent, { eventType: T }>> {
  if (value === null || value.length === 0) return { ok: false, reason: "empty message (no value)" };
  let data: unknown;
  try {
    data = JSON.parse(value.toString("utf8"));
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
  const type = (data as { eventType?: unknown } | null)?.eventType;
  if (typeof type !== "string" || !(expected as readonly string[]).includes(type)) {
    return { ok: false, reason: `eventType ${JSON.stringify(type)} is not one of ${expected.join(", ")}` };
  }
  const checker = checkers[type as T];
  if (!checker.Check(data)) {
    const first = checker.Errors(data).First();
    return { ok: false, reason: `${type} ${first?.path || "/"}: ${first?.message ?? "invalid"}` };
  }
  if (Number.isNaN(Date.parse((data as { createdAt: string }).createdAt)))
    return { ok: false, reason: `${type} /createdAt: not a timestamp` };
  return { ok: true, event: data as Extract<LabEvent, { eventType: T }> };
}

/** The Kafka message for an event: keyed by order id, so one order's events stay in order on one partition. */
export function toMessage(event: LabEvent): { key: string; value: string; headers: Record<string, string> } {
  return { key: event.orderId, value: JSON.stringify(event), headers: { eventType: event.eventType } };
}
