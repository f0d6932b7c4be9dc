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
import { ACK, PublishError, type RabbitLink, type Verdict } from "./connection.js";
import {
  decodeStatusEvent,
  orderPlacedFor,
  PlaceOrderBody,
  totalItems,
  type OrderState,
  type OrderStatusEvent,
} from "./events.js";
import { OrderStore, type OrderRecord } from "./order-store.js";
import {
  BatchStats,
  brokerNotReady,
  connectAndConsume,
  DeadLetterLog,
  effectivePrefetch,
  GroupWriter,
  rabbitEnv,
  runMain,
} from "./service-kit.js";
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

let orders!: OrderStore;
let link!: RabbitLink;
const stats = {
  placed: 0,
  published_at_once: 0,
  published_later: 0,
  publish_deferred: 0,
  status_events: 0,
  unknown_order_events: 0,
  dead_lettered: 0,
};
const deadLetters = new DeadLetterLog();
const batchStats = new BatchStats();
const batched = config.BATCH_MAX > 1;

const app = createService({
  name: "order",
  logLevel: config.LOG_LEVEL,
  bodyLimitBytes: config.BODY_LIMIT_BYTES,
  ready: () => brokerNotReady(link),
  health: () => ({
    safeguards: safeguards.health(),
    broker: link?.connected ? "connected" : "reconnecting",
    outbox_pending: orders.unpublishedCount(),
    prefetch: effectivePrefetch(config),
    ...batchStats.report(config),
    ...stats,
    orders: orders.list({ limit: 0 }).by_status,
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
  let order: OrderRecord = {
    order_id: newOrderId(),
    event_id: newEventId(),
    user_id: req.body.user_id,
    ...(req.body.restaurant_id === undefined ? {} : { restaurant_id: req.body.restaurant_id }),
    items: items.event,
    status: "PLACED",
    placed_at: new Date().toISOString(),
  };
  let published: boolean | undefined;
  for (let attempt = 1; published === undefined; attempt++) {
    if (attempt > ID_ATTEMPTS)
      throw new HttpError(503, "store-unavailable", "no free order id; nothing was placed, try again");
    if (attempt > 1) order = { ...order, order_id: newOrderId() };
    published = await claimed(order.order_id, async () => {
      // 1. On disk first: from here on the order cannot be lost.
      let placed: boolean;
      try {
        placed = await orders.place(order);
      } catch (err) {
        req.log.error({ err }, "could not store the order");
        throw new HttpError(503, "store-unavailable", "the order could not be stored; nothing was placed, try again");
      }
      if (!placed) return undefined; // the id is taken: draw another
      stats.placed++;
      // 2. Published and confirmed by the broker, or left in the outbox for the relay.
      return publish(order);
    });
  }
  if (published) stats.published_at_once++;
  else stats.publish_deferred++;
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

/** Orders a request or the relay is working on right now, so the two never publish the same one at once. */
const inHand = new Set<string>();

async function claimed<T>(orderId: string, work: () => Promise<T>): Promise<T> {
  inHand.add(orderId);
  try {
    return await work();
  } finally {
    inHand.delete(orderId);
  }
}

/** Publish an order's OrderPlaced; true once the broker confirmed it, false if it stays in the outbox. */
async function publish(order: OrderRecord): Promise<boolean> {
  if (!safeguards.on("confirms")) return publishUnconfirmed(order);
  // #region safeguard:confirms
  try {
    await link.publish(EXCHANGES.orders, ROUTING_KEYS.orderPlaced, orderPlacedFor(order)); // resolves on the broker's confirm
  } catch (err) {
    if (!(err instanceof PublishError)) throw err;
    app.log.warn({ order_id: order.order_id, err: err.message }, "OrderPlaced not confirmed yet");
    return false; // not confirmed: it stays in the outbox, and the relay publishes it once RabbitMQ is back
  }
  // #endregion
  // Confirmed: all the client needs to hear. The outbox entry is cleared after the answer, off
  // the request's path (one disk commit less in the 202's latency); meanwhile the relay leaves the
  // order alone. If clearing fails, the relay publishes it again, which inventory ignores.
  const at = new Date().toISOString();
  const note = (batched ? outboxClearer.add({ order, at }) : orders.markPublished(order, at))
    .catch((err) => app.log.error({ err, order_id: order.order_id }, "could not clear the outbox entry"))
    .finally(() => noting.delete(order.order_id));
  noting.set(order.order_id, note);
  return true;
}

/**
 * Without the `confirms` safeguard: OrderPlaced written to the socket and forgotten, out of the
 * outbox at once. An order placed while RabbitMQ is away, or whose message dies with a
 * connection, is answered 202 and never published.
 */
async function publishUnconfirmed(order: OrderRecord): Promise<boolean> {
  const sent = link.publishUnconfirmed({
    exchange: EXCHANGES.orders,
    routingKey: ROUTING_KEYS.orderPlaced,
    event: orderPlacedFor(order),
  });
  if (!sent) app.log.warn({ order_id: order.order_id }, "OrderPlaced dropped: not connected (confirms safeguard off)");
  await orders.markPublished(order, new Date().toISOString());
  return true;
}

/** Confirmed publishes whose outbox entries are being cleared. */
const noting = new Map<string, Promise<void>>();

/** In batches, the outbox entries of confirmed orders are cleared together: the ones confirmed meanwhile share one transaction. */
const outboxClearer = new GroupWriter<{ order: OrderRecord; at: string }>(
  (confirmed) => orders.markPublishedAll(confirmed),
  config.BATCH_MAX,
);

/** The outbox relay: publish, oldest first, every order the broker has not confirmed yet. */
let relaying = false;
async function relayOutbox(): Promise<void> {
  if (relaying || !link?.connected || orders.unpublishedCount() === 0) return;
  relaying = true;
  try {
    if (batched) await relayInBatches();
    else await relayOneByOne();
  } finally {
    relaying = false;
  }
}

async function relayOneByOne(): Promise<void> {
  for (const order of orders.unpublished(500)) {
    if (inHand.has(order.order_id) || noting.has(order.order_id) || orders.get(order.order_id)?.published_at) continue; // its own request has it
    if (!(await claimed(order.order_id, () => publish(order)))) break; // broker gone again: next round
    stats.published_later++;
    app.log.info({ order_id: order.order_id }, "outbox: OrderPlaced published");
  }
}

/**
 * BATCH_MAX orders at a time: published together with one confirm wait, then out of the outbox
 * in one transaction. A batch that is not confirmed stays in the outbox for the next round
 * (inventory ignores the copies of any that did get through).
 */
async function relayInBatches(): Promise<void> {
  const todo = orders
    .unpublished(500)
    .filter((o) => !inHand.has(o.order_id) && !noting.has(o.order_id) && !orders.get(o.order_id)?.published_at); // its own request has the others
  for (let i = 0; i < todo.length; i += config.BATCH_MAX) {
    const batch = todo.slice(i, i + config.BATCH_MAX);
    for (const o of batch) inHand.add(o.order_id);
    try {
      await link.publishAll(
        batch.map((o) => ({
          exchange: EXCHANGES.orders,
          routingKey: ROUTING_KEYS.orderPlaced,
          event: orderPlacedFor(o),
        })),
      );
      await orders.markPublishedAll(batch.map((order) => ({ order, at: new Date().toISOString() })));
    } catch (err) {
      if (!(err instanceof PublishError)) throw err;
      app.log.warn({ orders: batch.length, err: err.message }, "outbox: OrderPlaced not confirmed yet; next round");
      return;
    } finally {
      for (const o of batch) inHand.delete(o.order_id);
    }
    stats.published_later += batch.length;
    for (const o of batch) app.log.info({ order_id: o.order_id }, "outbox: OrderPlaced published");
  }
}

// ---- Following orders ----

/** One status event (BATCH_MAX 1): a batch of one. */
async function handleStatusEvent(msg: ConsumeMessage): Promise<Verdict> {
  return (await handleStatusBatch([msg]))[0];
}

/** A batch of status events: every order moved in one store transaction; the consumer acks them together. */
async function handleStatusBatch(msgs: ConsumeMessage[]): Promise<Verdict[]> {
  const verdicts: Verdict[] = [];
  const events: OrderStatusEvent[] = [];
  msgs.forEach((msg, at) => {
    const decoded = decodeStatusEvent({ content: msg.content, messageId: msg.properties.messageId });
    if (decoded.ok) events.push(decoded.event);
    verdicts[at] = decoded.ok ? ACK : { deadLetter: decoded.reason };
  });
  stats.status_events += events.length;
  const results = await orders.applyAll(events);
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
    const order = orders.get(req.params.order_id);
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
  async (req) => orders.list({ status: req.query.status, limit: req.query.limit }),
);

async function main(): Promise<void> {
  orders = OrderStore.open(path.join(config.DATA_DIR, "order"));
  let closeConsumer: () => Promise<void>;
  ({ link, close: closeConsumer } = await connectAndConsume(config, {
    log: app.log,
    queue: QUEUES.orderStatus.name,
    handle: handleStatusEvent,
    handleBatch: handleStatusBatch,
    batchStats,
    stats,
    deadLetters,
    safeguards,
  }));
  // Orders accepted while the broker was down, or before a crash, go out first.
  const relay = setInterval(
    () => void relayOutbox().catch((err) => app.log.error({ err }, "outbox relay failed")),
    config.RELAY_INTERVAL_MS,
  );
  await relayOutbox();
  await runService(app, config.PORT, config.HOST, async () => {
    clearInterval(relay);
    await closeConsumer();
    await Promise.allSettled(noting.values());
    await orders.close();
  });
}

runMain(main);
