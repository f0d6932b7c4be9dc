// Part B NotificationService. Consumes InventoryReserved, sends (logs) the confirmation to the
// user once per order, records how long the whole workflow took (order placed → user notified),
// and publishes UserNotified so the order service can show CONFIRMED. Health and stats on :8012.
import path from "node:path";
import type { ConsumeMessage } from "amqplib";
import { Type, loadConfig, serviceBase } from "../common/config.js";
import { newEventId } from "../common/ids.js";
import { safeguardSwitches } from "../common/safeguards.js";
import { createService, HttpError, runService } from "../common/server.js";
import type { RabbitLink } from "./connection.js";
import {
  decodeInventoryEvent,
  describeItems,
  type Decoded,
  type InventoryReserved,
  type UserNotified,
  type WireMessage,
} from "./events.js";
import { NotificationStore } from "./notification-store.js";
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
    PORT: Type.Integer({ default: 8012 }),
  }),
);

const safeguards = safeguardSwitches(PARTB_SAFEGUARDS, "notification", config.SAFEGUARDS_OFF);

let store!: NotificationStore;
let link!: RabbitLink;
const stats = { received: 0, sent: 0, duplicates_ignored: 0, republished: 0, dead_lettered: 0 };
const deadLetters = new DeadLetterLog();
const batchStats = new BatchStats();

const app = createService({
  name: "notification",
  logLevel: config.LOG_LEVEL,
  bodyLimitBytes: config.BODY_LIMIT_BYTES,
  ready: () => brokerNotReady(link),
  health: () => ({
    safeguards: safeguards.health(),
    broker: link?.connected ? "connected" : "reconnecting",
    queue: QUEUES.notification.name,
    prefetch: effectivePrefetch(config),
    ...batchStats.report(config),
    ...stats,
    notified_total: store.count(),
    placed_to_notified_ms: summary(store.latencies()),
    recent_dead_letters: deadLetters.recent(),
  }),
});

/** n, median, p95 (nearest rank) and max of the placed → notified times. */
function summary(values: number[]): Record<string, number> | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return { n: sorted.length, median: rank(0.5), p95: rank(0.95), max: sorted[sorted.length - 1] };
}

/** Sending the confirmation to the user: in this lab, a log line (the seed's words). */
function sendConfirmation(e: InventoryReserved, n: UserNotified): void {
  app.log.info(
    { order_id: e.order_id, user_id: e.user_id, placed_to_notified_ms: n.placed_to_notified_ms },
    `Order ${e.order_id} confirmed! Reserved items: ${describeItems(e.items)}`,
  );
}

/** This queue takes only InventoryReserved: anything else is dead-lettered with the reason. */
function decodeReserved(msg: WireMessage): Decoded<InventoryReserved> {
  const decoded = decodeInventoryEvent(msg);
  if (!decoded.ok) return decoded;
  const e = decoded.event;
  return e.event_type === "InventoryReserved"
    ? { ok: true, event: e }
    : { ok: false, reason: `expected InventoryReserved, got ${e.event_type}` };
}

/** The UserNotified event for a reservation, stamped now. */
function notificationFor(e: InventoryReserved): UserNotified {
  const now = new Date();
  const placed = e.placed_at ? Date.parse(e.placed_at) : NaN;
  return {
    event_type: "UserNotified",
    event_id: newEventId(),
    order_id: e.order_id,
    user_id: e.user_id,
    placed_at: e.placed_at,
    notified_at: now.toISOString(),
    ...(Number.isFinite(placed) ? { placed_to_notified_ms: now.getTime() - placed } : {}),
  };
}

/**
 * A batch of InventoryReserved (one message: a batch of one): the users not notified yet are
 * notified, and all of them remembered in one store transaction; every UserNotified not confirmed
 * yet is published with one confirm wait and noted in one more transaction; then the consumer
 * acks the batch. The same order twice in a batch is one notification.
 */
async function handleReservedBatch(msgs: ConsumeMessage[]): Promise<Verdict[]> {
  stats.received += msgs.length;
  const { verdicts, decoded } = decodeEach(msgs, decodeReserved);
  const { fresh, again } = sortOut(decoded);
  // Send, then remember. A crash exactly in between sends it again on redelivery: a second
  // confirmation is better than none (at-least-once); every later copy is recognised.
  for (const { reserved, notified } of fresh.values()) {
    sendConfirmation(reserved, notified);
    stats.sent++;
  }
  const remembered = await store.rememberAll([...fresh.values()].map((f) => f.notified));
  for (const { record } of remembered) again.set(record.order_id, record.event);
  await link.publishAll(
    [...again.values()].map((event) => ({
      exchange: EXCHANGES.notification,
      routingKey: ROUTING_KEYS.userNotified,
      event,
    })),
  );
  await store.markPublishedAll([...again.keys()]);
  return verdicts;
}

/** By order id: the users to notify now, and the UserNotified already stored whose publish was not confirmed. */
function sortOut(reservations: InventoryReserved[]): {
  fresh: Map<string, { reserved: InventoryReserved; notified: UserNotified }>;
  again: Map<string, UserNotified>;
} {
  const fresh = new Map<string, { reserved: InventoryReserved; notified: UserNotified }>();
  const again = new Map<string, UserNotified>();
  for (const e of reservations) {
    const seen = fresh.has(e.order_id) || again.has(e.order_id);
    const record = seen ? undefined : store.get(e.order_id);
    if (seen || record?.published) {
      stats.duplicates_ignored++;
      app.log.info({ order_id: e.order_id }, "user already notified about this order, skipping (idempotency)");
    } else if (record) {
      stats.duplicates_ignored++;
      stats.republished++;
      app.log.info(
        { order_id: e.order_id },
        "user already notified, but UserNotified was not confirmed; publishing it again",
      );
      again.set(e.order_id, record.event);
    } else {
      fresh.set(e.order_id, { reserved: e, notified: notificationFor(e) });
    }
  }
  return { fresh, again };
}

app.get(
  "/notifications/:order_id",
  { schema: { params: Type.Object({ order_id: Type.String({ minLength: 1, maxLength: 200 }) }) } },
  async (req) => {
    const record = store.get(req.params.order_id);
    if (!record) throw new HttpError(404, "not-found", `no notification for order ${req.params.order_id}`);
    return record;
  },
);

async function main(): Promise<void> {
  store = NotificationStore.open(path.join(config.DATA_DIR, "notification"));
  let closeConsumer: () => Promise<void>;
  ({ link, close: closeConsumer } = await connectAndConsume(config, {
    log: app.log,
    queue: QUEUES.notification.name,
    handleBatch: handleReservedBatch,
    batchStats,
    stats,
    deadLetters,
    safeguards,
  }));
  await runService(app, config.PORT, config.HOST, async () => {
    await closeConsumer();
    await store.close();
  });
}

runMain(main);
