// Part C producer (:8000). Appends OrderPlaced events to the `orders` topic, keyed by order id.
//   POST /produce    {"orderId"?, "items"?, "eventId"?}  → 200 once Kafka acknowledged the event
//   POST /load-test  {"count"?}              → 200 once every one of `count` events is acknowledged
// It answers /health only once it is connected and the topic exists.
//
// Kafka down? Each send waits at most PRODUCE_TIMEOUT_MS for the acknowledgement, then the
// answer is a 503 that says so, at once rather than after the client library's own retries
// (16-24 s measured). The event may still be appended later, so the 503 carries its eventId:
// a client that retries /produce with it has the order counted once, whatever happened.
// Sends go out one at a time (one-send-at-a-time.ts): an event still waiting behind a send Kafka
// has not answered when its deadline passes is dropped, not sent, and its 503 says so.
import { Type, loadConfig, serviceBase } from "../common/config.js";
import { newEventId, newOrderId } from "../common/ids.js";
import { safeguardSwitches, safeguardsSetting } from "../common/safeguards.js";
import { HttpError, createService, runService } from "../common/server.js";
import { ItemsSchema } from "./events.js";
import {
  createIdempotentProducer,
  createKafka,
  kafkaSettings,
  partitionOf,
  sendAcked,
  waitForTopics,
} from "./kafka.js";
import { AckTimeout, OneSendAtATime } from "./one-send-at-a-time.js";
import { DEFAULT_ITEMS, MAX_EVENTS_PER_SEND, MAX_LOAD_COUNT, produceLoad, produceOrder } from "./produce-orders.js";
import { RenewableProducer } from "./renewable-producer.js";
import { PARTC_SAFEGUARDS } from "./switches.js";
import { TOPICS } from "./topics.js";

const config = loadConfig(
  Type.Object({
    ...serviceBase,
    ...kafkaSettings,
    ...safeguardsSetting(PARTC_SAFEGUARDS),
    PORT: Type.Integer({ default: 8000 }),
    LOAD_TEST_BATCH_SIZE: Type.Integer({ default: 1000, minimum: 1, maximum: 10_000 }),
    /** How long an event (or a load-test batch) waits for Kafka's acknowledgement before the answer is a 503. */
    PRODUCE_TIMEOUT_MS: Type.Integer({ default: 5000, minimum: 100, maximum: 120_000 }),
  }),
);

const safeguards = safeguardSwitches(PARTC_SAFEGUARDS, "producer", config.SAFEGUARDS_OFF);
const stats = { produced: 0, load_tests: 0, load_tests_running: 0, send_errors: 0 };
/** The outcome of the last send: what /health reports as the connection to Kafka. */
const lastSend = { ok: true, at: null as string | null, error: null as string | null };
const sent = (ok: boolean, error: string | null = null) =>
  Object.assign(lastSend, { ok, at: new Date().toISOString(), error });

const app = createService({
  name: "producer",
  logLevel: config.LOG_LEVEL,
  bodyLimitBytes: config.BODY_LIMIT_BYTES,
  ready: () => producerNotReady(),
  // policy: what it promises a client (each send answered within PRODUCE_TIMEOUT_MS), for the checkers.
  health: () => ({
    kafka: { brokers: config.KAFKA_BROKERS, topic: TOPICS.orders, connected: lastSend.ok, last_send: lastSend },
    policy: { produce_timeout_ms: config.PRODUCE_TIMEOUT_MS },
    safeguards: safeguards.health(),
    ...stats,
    producer_restarts: producer.restarts, // fresh producers after Kafka rejected the sequence state
  }),
});

const kafka = createKafka({
  clientId: "producer",
  brokers: config.KAFKA_BROKERS,
  logLevel: config.KAFKA_LOG_LEVEL,
  logger: app.log,
  requestTimeoutMs: config.KAFKA_REQUEST_TIMEOUT_MS,
});
// #region safeguard:idempotent-producer
// The producer numbers each batch (producer id, sequence) and the broker drops a retry of one it
// already wrote. kafkajs keeps those numbers straight only with one send in flight, so every
// /produce and /load-test goes through one send path; requests that arrive while a send is in
// flight go out together in the next one (one-send-at-a-time.ts says why, with the measurement).
// After a broker restart Kafka may reject the producer's sequence numbers for good: a fresh
// producer (renewable-producer.ts) sends the batch again (same eventIds) rather than every later
// /produce getting a 503.
const producer = new RenewableProducer(
  () => createIdempotentProducer(kafka, safeguards.on("idempotent-producer")),
  app.log,
  "events",
  config.PRODUCE_TIMEOUT_MS,
);
const orders = new OneSendAtATime(
  (messages) => sendAcked(producer, { topic: TOPICS.orders, messages }),
  partitionOf,
  MAX_EVENTS_PER_SEND,
);
// #endregion
const producerNotReady = producer.notReady;

// Every field is optional (the seed posts an empty load test); a request without a body is `{}`.
app.addHook("preValidation", async (req) => {
  if (req.method === "POST" && req.body === undefined) req.body = {};
});

const ProduceBody = Type.Object(
  {
    orderId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    items: Type.Optional(ItemsSchema),
    /** Only to retry an event Kafka did not acknowledge (its 503 gave the eventId): counted once. */
    eventId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: true },
);

app.post("/produce", { schema: { body: ProduceBody } }, async (req) => {
  const orderId = req.body.orderId ?? newOrderId();
  const eventId = req.body.eventId ?? newEventId();
  try {
    const { event, partition, offset } = await produceOrder(orders, orderId, req.body.items ?? DEFAULT_ITEMS, {
      eventId,
      timeoutMs: config.PRODUCE_TIMEOUT_MS,
    });
    stats.produced++;
    sent(true);
    req.log.info({ orderId, eventId: event.eventId, partition, offset }, "OrderPlaced produced");
    return { orderId, status: "PRODUCED", event, partition, offset };
  } catch (err) {
    stats.send_errors++;
    throw unavailable(err as Error, 0, undefined, { orderId, eventId });
  }
});

// `count` is checked by hand so the 400 states the rule, not only the first violated keyword.
const LoadTestBody = Type.Object({ count: Type.Optional(Type.Unknown()) }, { additionalProperties: true });

app.post("/load-test", { schema: { body: LoadTestBody } }, async (req) => {
  const count = req.body.count === undefined ? 10_000 : req.body.count;
  if (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > MAX_LOAD_COUNT) {
    throw new HttpError(
      400,
      "invalid-request",
      `count must be an integer from 1 to ${MAX_LOAD_COUNT}, got ${JSON.stringify(count)}`,
    );
  }
  stats.load_tests++;
  stats.load_tests_running++;
  req.log.info({ count, batch_size: config.LOAD_TEST_BATCH_SIZE }, "load test started");
  let acknowledged = 0; // /health counts events as their batches are acknowledged
  const onBatch = (produced: number) => {
    stats.produced += produced - acknowledged;
    acknowledged = produced;
  };
  try {
    const result = await produceLoad(orders, count, config.LOAD_TEST_BATCH_SIZE, onBatch, config.PRODUCE_TIMEOUT_MS);
    sent(true);
    req.log.info(result, "load test finished: every event acknowledged");
    return { ...result, remaining_in_queue: 0 };
  } catch (err) {
    stats.send_errors++;
    throw unavailable(err as Error, acknowledged, count);
  } finally {
    stats.load_tests_running--;
  }
});

/** Kafka did not acknowledge: say so, how much did get in, and how to retry safely, rather than a bare 500. */
function unavailable(
  err: Error,
  produced: number,
  count?: number,
  retry?: { orderId: string; eventId: string },
): HttpError {
  sent(false, err.message);
  app.log.error({ err: err.message, ...retry }, "Kafka did not acknowledge");
  const unknown = err instanceof AckTimeout ? " It may still be appended once Kafka is back." : "";
  const safely = retry ? " Retry with the same eventId: the order is then counted once." : "";
  return new HttpError(503, "kafka-unavailable", `Kafka did not acknowledge: ${err.message}.${unknown}${safely}`, {
    produced,
    ...(count === undefined ? {} : { remaining_in_queue: count - produced }),
    ...retry,
  });
}

async function main(): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await waitForTopics(admin, [TOPICS.orders], config.TOPIC_WAIT_MS, app.log);
  await admin.disconnect();
  await producer.connect();
  await runService(app, config.PORT, config.HOST, () => producer.disconnect());
}

main().catch((err) => {
  app.log.fatal({ err }, "producer could not start");
  process.exit(1);
});
