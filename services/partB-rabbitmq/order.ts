// Part B OrderService (:8001). POST /order validates, stores the order durably, publishes a
// persistent OrderPlaced with a publisher confirm, and answers 202 at once: the reservation and
// the notification happen later, through RabbitMQ. It follows every order's outcome from the
// inventory and notification events, so GET /orders/:id tells where an order is.
//
// Broker down? The order is already on disk, in the outbox: the answer is still 202, with
// "published": false, and the relay publishes it as soon as RabbitMQ is back. Nothing is lost
// and nothing is 500. (A client that sees 202 must not resend: that would be a second order.)
import path from "node:path";
import type { ConsumeMessage } from "amqplib";
import { Type, loadConfig, serviceBase } from "../common/config.js";
import { newEventId, newOrderId } from "../common/ids.js";
import { safeguardSwitches } from "../common/safeguards.js";
import { createService, HttpError, runService } from "../common/server.js";
import type { OutgoingMessage, RabbitLink } from "./connection.js";
import { decodeStatusEvent, orderPlacedFor, PlaceOrderBody, totalItems, type Item, type OrderState } from "./events.js";
import { Outbox } from "./outbox.js";
import { OrderStore, type OrderRecord } from "./order-store.js";
import {
  brokerNotReady,
  connectAndConsume,
  decodeEach,
  effectivePrefetch,
  rabbitEnv,
  runMain,
  type Verdict,
} from "./rabbit.js";
import { BatchStats, DeadLetterLog } from "./stats.js";
import { PARTB_SAFEGUARDS } from "./switches.js";
import { EXCHANGES, QUEUES, ROUTING_KEYS } from "./topology.js";

const config = loadConfig(
  Type.Object({
    ...serviceBase,
    ...rabbitEnv,
    PORT: Type.Integer({ default: 8001 }),
    /** How often the relay looks for orders whose OrderPlaced is not confirmed yet. */
    RELAY_INTERVAL_MS: Type.Integer({ default: 1000, minimum: 10 }),
  }),
);

const safeguards = safeguardSwitches(PARTB_SAFEGUARDS, "order", config.SAFEGUARDS_OFF);

/** The orders, the broker and who is publishing what: the service's state, in one object (outbox.ts). */
let outbox!: Outbox;
const stats = { status_events: 0, unknown_order_events: 0, dead_lettered: 0 };
const deadLetters = new DeadLetterLog();
const batchStats = new BatchStats();

const app = createService({
  name: "order",
  logLevel: config.LOG_LEVEL,
  bodyLimitBytes: config.BODY_LIMIT_BYTES,
  ready: () => brokerNotReady(outbox?.broker),
  health: () => ({
    safeguards: safeguards.health(),
    broker: outbox.broker?.connected ? "connected" : "reconnecting",
    outbox_pending: outbox.orders.unpublishedCount(),
    prefetch: effectivePrefetch(config),
    ...batchStats.report(config),
    ...outbox.stats,
    ...stats,
    orders: outbox.orders.list({ limit: 0 }).by_status,
    recent_dead_letters: deadLetters.recent(),
  }),
});

// ---- Placing an order ----

/**
 * An order id is 32 random bits (`o-` + 8 hex, the seed's format): among tens of thousands of
 * orders two draws can meet (≈ 1 % at 10,000 orders, ≈ 35 % at 60,000). A taken id is drawn
 * again, never written over another user's order.
 */
const ID_ATTEMPTS = 5;

app.post("/order", { schema: { body: PlaceOrderBody } }, async (req, reply) => {
  const items = totalItems(req.body.items);
  if (!items.ok) throw new HttpError(400, "invalid-request", items.reason);
  const { order, published } = await placeWithFreeId(req.body, items.event);
  req.log.info(
    { order_id: order.order_id, published },
    published ? "order placed and published" : "order placed; kept in the outbox until RabbitMQ confirms it",
  );
  return reply.code(202).send({
    order_id: order.order_id,
    status: "PLACED" satisfies OrderState,
    published,
    ...(published
      ? {}
      : { message: "RabbitMQ is not reachable: the order is stored and will be published as soon as it is back" }),
  });
});

/** Place a new order under a fresh id (drawn again while taken): published, or kept in the outbox. */
async function placeWithFreeId(
  body: PlaceOrderBody,
  items: Item[],
): Promise<{ order: OrderRecord; published: boolean }> {
  for (let attempt = 1; attempt <= ID_ATTEMPTS; attempt++) {
    const order: OrderRecord = {
      order_id: newOrderId(),
      event_id: newEventId(),
      user_id: body.user_id,
      ...(body.restaurant_id === undefined ? {} : { restaurant_id: body.restaurant_id }),
      items,
      status: "PLACED",
      placed_at: new Date().toISOString(),
    };
    let published: boolean | undefined;
    try {
      published = await outbox.place(order);
    } catch (err) {
      app.log.error({ err }, "could not store the order");
      throw new HttpError(503, "store-unavailable", "the order could not be stored; nothing was placed, try again");
    }
    if (published !== undefined) return { order, published };
  }
  throw new HttpError(503, "store-unavailable", "no free order id; nothing was placed, try again");
}

/**
 * How an OrderPlaced goes out, for a request and for the relay alike: true once the broker
 * confirmed every one, false if they stay in the outbox (the relay sends them once RabbitMQ is back).
 */
async function send(link: RabbitLink, orders: OrderRecord[]): Promise<boolean> {
  const messages = orders.map((o) => ({
    exchange: EXCHANGES.orders,
    routingKey: ROUTING_KEYS.orderPlaced,
    event: orderPlacedFor(o),
  }));
  if (!safeguards.on("confirms")) return sendUnconfirmed(link, messages);
  // #region safeguard:confirms
  try {
    await link.publishAll(messages); // resolves on the broker's confirms
  } catch (err) {
    // Not connected, refused, not confirmed in time, or not routed (PublishError): the broker does not have it.
    app.log.warn(
      { orders: orders.length, err: (err as Error).message },
      "OrderPlaced not confirmed yet; kept in the outbox",
    );
    return false; // not confirmed: it stays in the outbox, and the relay publishes it once RabbitMQ is back
  }
  // #endregion
  return true;
}

/**
 * Without the `confirms` safeguard: OrderPlaced written to the socket and forgotten, out of the
 * outbox at once. An order placed while RabbitMQ is away, or whose message dies with a
 * connection, is answered 202 and never published.
 */
function sendUnconfirmed(link: RabbitLink, messages: OutgoingMessage[]): boolean {
  for (const m of messages)
    if (!link.publishUnconfirmed(m))
      app.log.warn({ event_id: m.event.event_id }, "OrderPlaced dropped: not connected (confirms safeguard off)");
  return true;
}

// ---- Following orders ----

/** A batch of status events: every order moved in one store transaction; the consumer acks them together. */
async function handleStatusBatch(msgs: ConsumeMessage[]): Promise<Verdict[]> {
  const { verdicts, decoded: events } = decodeEach(msgs, decodeStatusEvent);
  stats.status_events += events.length;
  const results = await outbox.orders.applyAll(events);
  results.forEach((result, k) => {
    const event = events[k];
    if (!result.known) {
      stats.unknown_order_events++;
      app.log.warn(
        { order_id: event.order_id, event_type: event.event_type },
        "event for an order this service did not place (published by hand?); acked and ignored",
      );
    } else if (result.changed) {
      app.log.info(
        { order_id: event.order_id, reason: result.order.reason },
        `order ${result.from} → ${result.order.status}`,
      );
    }
  });
  return verdicts;
}

app.get(
  "/orders/:order_id",
  { schema: { params: Type.Object({ order_id: Type.String({ minLength: 1, maxLength: 200 }) }) } },
  async (req) => {
    const order = outbox.orders.get(req.params.order_id);
    if (!order) throw new HttpError(404, "not-found", `no order ${req.params.order_id}`);
    return order;
  },
);

const States = Type.Union([
  Type.Literal("PLACED"),
  Type.Literal("RESERVED"),
  Type.Literal("CONFIRMED"),
  Type.Literal("FAILED"),
]);
app.get(
  "/orders",
  {
    schema: {
      querystring: Type.Object({
        status: Type.Optional(States),
        limit: Type.Integer({ default: 100, minimum: 0, maximum: 100_000 }),
      }),
    },
  },
  async (req) => outbox.orders.list({ status: req.query.status, limit: req.query.limit }),
);

async function main(): Promise<void> {
  const orders = OrderStore.open(path.join(config.DATA_DIR, "order"));
  outbox = new Outbox(orders, send, {
    batchMax: config.BATCH_MAX,
    relayIntervalMs: config.RELAY_INTERVAL_MS,
    log: app.log,
  });
  const { link, close: closeConsumer } = await connectAndConsume(config, {
    log: app.log,
    queue: QUEUES.orderStatus.name,
    handleBatch: handleStatusBatch,
    batchStats,
    stats,
    deadLetters,
    safeguards,
  });
  await outbox.start(link);
  await runService(app, config.PORT, config.HOST, async () => {
    await outbox.stop();
    await closeConsumer();
    await orders.close();
  });
}

runMain(main);
