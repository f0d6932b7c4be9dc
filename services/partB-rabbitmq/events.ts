// What travels between the Part B services: the order a user places, the events about it, and
// the checks that turn bytes from the broker into one of them, or into a reason to dead-letter.
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";

/** Where an order is: placed, stock reserved, user notified (CONFIRMED), or failed with a reason. */
export type OrderState = "PLACED" | "RESERVED" | "CONFIRMED" | "FAILED";
export const FINAL_STATES: readonly OrderState[] = ["CONFIRMED", "FAILED"];

const Id = Type.String({ minLength: 1, maxLength: 200 });
const MAX_SKU = 64;
const Sku = Type.String({ minLength: 1, maxLength: MAX_SKU });
/** Most of one sku an order may ask for: per item line, and in total once the same sku is summed. */
export const MAX_QTY = 1000;
const Qty = Type.Integer({ minimum: 1, maximum: MAX_QTY });

export const Item = Type.Object({ sku: Sku, qty: Qty }, { additionalProperties: true });
export type Item = Static<typeof Item>;

/** The seeds send items both ways: `[{"sku": "burger", "qty": 1}]` and `{"burger": 1}`. */
const ItemList = Type.Array(Item, { minItems: 1, maxItems: 50 });
const ItemMap = Type.Record(Sku, Qty, { minProperties: 1, maxProperties: 50 });
export const Items = Type.Union([ItemList, ItemMap]);
export type ItemsInput = Static<typeof Items>;

/** Body of POST /order. Unknown fields are kept (the contract says add fields freely). */
export const PlaceOrderBody = Type.Object(
  { user_id: Id, restaurant_id: Type.Optional(Id), items: Items },
  { additionalProperties: true },
);
export type PlaceOrderBody = Static<typeof PlaceOrderBody>;

/** One list of items, the same sku summed once: what is reserved is what was asked for in total. */
export function normalizeItems(items: ItemsInput): Item[] {
  const pairs: [string, number][] = Array.isArray(items) ? items.map((i) => [i.sku, i.qty]) : Object.entries(items);
  const totals = new Map<string, number>();
  for (const [sku, qty] of pairs) totals.set(sku, (totals.get(sku) ?? 0) + qty);
  return [...totals].map(([sku, qty]) => ({ sku, qty }));
}

/**
 * The items as they are reserved (same sku summed), or why they cannot be. Every reader of the
 * events checks the list form: two lines of 600 burgers are 1,200, past its limit, and a map's
 * keys are not checked as skus by the schema (a JSON-schema record checks values only). Checked
 * where an order comes in, so that no service publishes an event the next one would refuse.
 */
export function totalItems(items: ItemsInput): Decoded<Item[]> {
  const totals = normalizeItems(items);
  const badSku = totals.filter((i) => i.sku.length < 1 || i.sku.length > MAX_SKU);
  if (badSku.length)
    return {
      ok: false,
      reason: `items: a sku must be 1 to ${MAX_SKU} characters, got ${badSku.map((i) => JSON.stringify(i.sku.slice(0, 80))).join(", ")}`,
    };
  const over = totals.filter((i) => i.qty > MAX_QTY);
  if (over.length)
    return {
      ok: false,
      reason: `items: ${over.map((i) => `${i.sku} totals ${i.qty}`).join(", ")}, more than ${MAX_QTY} of one sku`,
    };
  return { ok: true, event: totals };
}

export const describeItems = (items: Item[]): string => items.map((i) => `${i.sku}: ${i.qty}`).join(", ");

// ---- Events. Each carries its own event id (also the AMQP message-id) and the order id. ----

export interface OrderPlaced {
  event_type: "OrderPlaced";
  event_id: string;
  /** Same as event_id; the seed's field name for the id the consumer deduplicates on. */
  message_id: string;
  order_id: string;
  user_id: string;
  restaurant_id?: string;
  items: Item[];
  /** When the order was placed (ISO 8601). */
  timestamp: string;
}

interface InventoryEventBase {
  event_id: string;
  order_id: string;
  user_id?: string;
  items: Item[];
  /** The OrderPlaced timestamp, carried along so later steps can time the whole workflow. */
  placed_at?: string;
  /** Message id of the OrderPlaced this answers. */
  caused_by: string;
}
export interface InventoryReserved extends InventoryEventBase {
  event_type: "InventoryReserved";
  reserved_at: string;
}
export interface InventoryFailed extends InventoryEventBase {
  event_type: "InventoryFailed";
  failed_at: string;
  reason: string;
}
export type InventoryEvent = InventoryReserved | InventoryFailed;

export interface UserNotified {
  event_type: "UserNotified";
  event_id: string;
  order_id: string;
  user_id?: string;
  placed_at?: string;
  notified_at: string;
  /** From order placed to user notified, the end-to-end time of the workflow. */
  placed_to_notified_ms?: number;
}

/** What OrderService listens to, to move an order along. */
export type OrderStatusEvent = InventoryEvent | UserNotified;

// ---- Reading events from the wire. A failure is a reason, never an exception. ----

export type Decoded<T> = { ok: true; event: T } | { ok: false; reason: string };

/** What a consumer receives: the body and the AMQP message-id property, if any. */
export interface WireMessage {
  content: Buffer;
  messageId?: string;
}

const Timestamp = Type.String({ minLength: 1, maxLength: 64 });

/** OrderPlaced as a consumer accepts it: the seed's hand-published form (map items, message_id, no event_type) too. */
const OrderPlacedWire = Type.Object(
  {
    event_type: Type.Optional(Type.Literal("OrderPlaced")),
    event_id: Type.Optional(Id),
    message_id: Type.Optional(Id),
    order_id: Id,
    user_id: Type.Optional(Id),
    restaurant_id: Type.Optional(Id),
    items: Type.Unknown(),
    timestamp: Type.Optional(Timestamp),
  },
  { additionalProperties: true },
);

const InventoryEventWire = Type.Object(
  {
    event_type: Type.Union([Type.Literal("InventoryReserved"), Type.Literal("InventoryFailed")]),
    event_id: Id,
    order_id: Id,
    user_id: Type.Optional(Id),
    items: Type.Unknown(),
    placed_at: Type.Optional(Timestamp),
    caused_by: Type.Optional(Id),
    reserved_at: Type.Optional(Timestamp),
    failed_at: Type.Optional(Timestamp),
    reason: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: true },
);

const UserNotifiedWire = Type.Object(
  {
    event_type: Type.Literal("UserNotified"),
    event_id: Id,
    order_id: Id,
    user_id: Type.Optional(Id),
    placed_at: Type.Optional(Timestamp),
    notified_at: Timestamp,
    placed_to_notified_ms: Type.Optional(Type.Number()),
  },
  { additionalProperties: true },
);

const checkers = {
  orderPlaced: TypeCompiler.Compile(OrderPlacedWire),
  inventory: TypeCompiler.Compile(InventoryEventWire),
  userNotified: TypeCompiler.Compile(UserNotifiedWire),
  itemList: TypeCompiler.Compile(ItemList),
  itemMap: TypeCompiler.Compile(ItemMap),
};

type Checker<T extends TSchema> = ReturnType<typeof TypeCompiler.Compile<T>>;

function check<T extends TSchema>(checker: Checker<T>, value: unknown, what: string): Decoded<Static<T>> {
  if (checker.Check(value)) return { ok: true, event: value };
  const first = checker.Errors(value).First();
  return {
    ok: false,
    reason: `not a valid ${what}: ${first ? `${first.path || "(root)"} ${first.message}` : "unexpected shape"}`,
  };
}

function checkItems(items: unknown): Decoded<Item[]> {
  const r: Decoded<ItemsInput> = Array.isArray(items)
    ? check(checkers.itemList, items, "item list")
    : items !== null && typeof items === "object"
      ? check(checkers.itemMap, items, "item map")
      : { ok: false, reason: 'items must be a list of {"sku", "qty"} or a map sku → qty' };
  return r.ok ? totalItems(r.event) : r;
}

function parseJson(content: Buffer): Decoded<unknown> {
  try {
    return { ok: true, event: JSON.parse(content.toString("utf8")) };
  } catch (err) {
    return { ok: false, reason: `not valid JSON: ${(err as Error).message}` };
  }
}

/**
 * An OrderPlaced and the id to deduplicate it on: the AMQP message-id, else the body's
 * `message_id` or `event_id`. Without any id a redelivery could not be recognised, so such a
 * message is refused.
 */
export function decodeOrderPlaced(msg: WireMessage): Decoded<{ order: OrderPlaced; messageId: string }> {
  const json = parseJson(msg.content);
  if (!json.ok) return json;
  const shape = check(checkers.orderPlaced, json.event, "OrderPlaced");
  if (!shape.ok) return shape;
  const body = shape.event;
  const items = checkItems(body.items);
  if (!items.ok) return { ok: false, reason: `not a valid OrderPlaced: ${items.reason}` };
  const messageId = msg.messageId || body.message_id || body.event_id;
  if (!messageId)
    return {
      ok: false,
      reason:
        "OrderPlaced without a message id (AMQP message-id, message_id or event_id): a redelivery could not be recognised",
    };
  const order: OrderPlaced = {
    ...body,
    event_type: "OrderPlaced",
    event_id: body.event_id ?? messageId,
    message_id: body.message_id ?? messageId,
    user_id: body.user_id ?? "unknown",
    items: items.event,
    timestamp: body.timestamp ?? new Date().toISOString(),
  };
  return { ok: true, event: { order, messageId } };
}

export function decodeStatusEvent(msg: WireMessage): Decoded<OrderStatusEvent> {
  const json = parseJson(msg.content);
  if (!json.ok) return json;
  const type = (json.event as { event_type?: unknown } | null)?.event_type;
  if (type === "UserNotified") return check(checkers.userNotified, json.event, "UserNotified");
  return decodeInventoryEvent(msg);
}

export function decodeInventoryEvent(msg: WireMessage): Decoded<InventoryEvent> {
  const json = parseJson(msg.content);
  if (!json.ok) return json;
  const shape = check(checkers.inventory, json.event, "inventory event");
  if (!shape.ok) return shape;
  const e = shape.event;
  const items = checkItems(e.items);
  if (!items.ok) return { ok: false, reason: `not a valid ${e.event_type}: ${items.reason}` };
  const base = {
    event_id: e.event_id,
    order_id: e.order_id,
    user_id: e.user_id,
    items: items.event,
    placed_at: e.placed_at,
    caused_by: e.caused_by ?? "",
  };
  if (e.event_type === "InventoryReserved") {
    const reserved_at = e.reserved_at ?? new Date().toISOString();
    return { ok: true, event: { ...e, ...base, event_type: e.event_type, reserved_at } };
  }
  if (!e.reason) return { ok: false, reason: "not a valid InventoryFailed: no reason" };
  const failed_at = e.failed_at ?? new Date().toISOString();
  return { ok: true, event: { ...e, ...base, event_type: e.event_type, reason: e.reason, failed_at } };
}

/** The OrderPlaced event for an order as the order service stores it; republishing sends the very same one. */
export function orderPlacedFor(order: {
  event_id: string;
  order_id: string;
  user_id: string;
  restaurant_id?: string;
  items: Item[];
  placed_at: string;
}): OrderPlaced {
  return {
    event_type: "OrderPlaced",
    event_id: order.event_id,
    message_id: order.event_id,
    order_id: order.order_id,
    user_id: order.user_id,
    ...(order.restaurant_id === undefined ? {} : { restaurant_id: order.restaurant_id }),
    items: order.items,
    timestamp: order.placed_at,
  };
}
