// Part B InventoryService. Consumes OrderPlaced from order.placed.q (manual acks, a prefetch),
// reserves against its durable stock, publishes InventoryReserved or InventoryFailed with
// publisher confirms, and only then acks. A redelivered message (same message id) is acked and
// ignored; a malformed one is rejected to order.placed.dlq with the reason. Health and stats on :8011.
import path from "node:path";
import type { ConsumeMessage } from "amqplib";
import { Type, loadConfig, serviceBase } from "../common/config.js";
import { safeguardSwitches } from "../common/safeguards.js";
import { createService, HttpError, runService } from "../common/server.js";
import type { RabbitLink } from "./connection.js";
import { decodeOrderPlaced, describeItems, type InventoryEvent, type OrderPlaced } from "./events.js";
import { InventoryStore, type ReserveResult } from "./inventory-store.js";
import {
  brokerNotReady,
  connectAndConsume,
  decodeEach,
  effectivePrefetch,
  rabbitEnv,
  runMain,
  type Verdict,
} from "./rabbit.js";
import { INITIAL_STOCK, type Stock } from "./reserve.js";
import { BatchStats, DeadLetterLog } from "./stats.js";
import { PARTB_SAFEGUARDS } from "./switches.js";
import { EXCHANGES, QUEUES, ROUTING_KEYS } from "./topology.js";

const config = loadConfig(
  Type.Object({
    ...serviceBase,
    ...rabbitEnv,
    PORT: Type.Integer({ default: 8011 }),
    /** Seconds to wait before handling each message: a slow inventory, to show it does not slow POST /order. */
    DELAY_TIME: Type.Number({ default: 0, minimum: 0, maximum: 60 }),
    /**
     * Milliseconds to wait between storing a reservation and answering it (a fault for the crash
     * scenarios): a kill -9 in that window leaves messages processed but not acked, which is what
     * the processed ids exist for. Without it the window is a confirm wait, a few ms, and a kill
     * timed from outside missed it in 3 of 10 quick runs.
     */
    SETTLE_DELAY_MS: Type.Integer({ default: 0, minimum: 0, maximum: 60_000 }),
    /** Stock of a fresh inventory (JSON sku → qty); ignored once the store has stock. */
    INITIAL_STOCK: Type.String({ default: JSON.stringify(INITIAL_STOCK) }),
  }),
);

const safeguards = safeguardSwitches(PARTB_SAFEGUARDS, "inventory", config.SAFEGUARDS_OFF);

let store!: InventoryStore;
let link!: RabbitLink;
const injected = { delaySeconds: config.DELAY_TIME };
const stats = { received: 0, reserved: 0, failed: 0, duplicates_ignored: 0, republished: 0, dead_lettered: 0 };
const deadLetters = new DeadLetterLog();
const batchStats = new BatchStats();

const app = createService({
  name: "inventory",
  logLevel: config.LOG_LEVEL,
  bodyLimitBytes: config.BODY_LIMIT_BYTES,
  ready: () => brokerNotReady(link),
  health: () => ({
    safeguards: safeguards.health(),
    broker: link.connected ? "connected" : "reconnecting",
    queue: QUEUES.orderPlaced.name,
    prefetch: effectivePrefetch(config),
    ...batchStats.report(config),
    delay_time_s: injected.delaySeconds,
    ...stats,
    processed_total: store.processedCount(),
    stock: store.stock(),
    recent_dead_letters: deadLetters.recent(),
  }),
});

/**
 * A batch of OrderPlaced (one message: a batch of one): the malformed ones are dead-lettered
 * alone; the rest are reserved (or recognised) together in one store transaction, their answers
 * published with one confirm wait, noted as published in one more transaction, and then acked
 * together by the consumer. A kill -9 before the first commit leaves nothing behind (all
 * redelivered, all reserved afresh); after it, the redelivered batch finds its ids and only sends
 * the stored answers again. The same id twice in the batch is reserved and answered once.
 */
async function handleOrderPlacedBatch(msgs: ConsumeMessage[]): Promise<Verdict[]> {
  stats.received += msgs.length;
  const { verdicts, decoded: work } = decodeEach(msgs, decodeOrderPlaced);
  if (work.length === 0) return verdicts;
  if (injected.delaySeconds > 0) await sleep(injected.delaySeconds * 1000); // once per batch, as the messages in hand waited together

  // 1. Reserve (or recognise) the whole batch — durably, in one transaction.
  const results = await store.reserveAll(work);
  if (config.SETTLE_DELAY_MS > 0) await sleep(config.SETTLE_DELAY_MS);
  const answers = answersToSend(work, results);

  // 2. Every answer published and confirmed, with one wait; noted in one transaction; 3. the consumer acks.
  await link.publishAll(
    [...answers.values()].map((event) => ({ exchange: EXCHANGES.inventory, routingKey: answerKey(event), event })),
  );
  await store.markPublishedAll([...answers.keys()]);
  return verdicts;
}

/** By message id, the answers to publish: every new one, and a stored one its earlier handling did not get out. */
function answersToSend(
  work: { order: OrderPlaced; messageId: string }[],
  results: ReserveResult[],
): Map<string, InventoryEvent> {
  const answers = new Map<string, InventoryEvent>();
  results.forEach((result, k) => {
    const { order, messageId } = work[k];
    // No child logger per message: creating one costs more than the line it writes.
    const ids = { order_id: order.order_id, message_id: messageId };
    const outcome = result.record.outcome;
    if (!result.duplicate) {
      answers.set(messageId, outcome);
      if (outcome.event_type === "InventoryReserved") {
        stats.reserved++;
        app.log.info(ids, `inventory reserved: ${describeItems(order.items)}`);
      } else {
        stats.failed++;
        app.log.info({ ...ids, reason: outcome.reason }, "inventory reservation failed");
      }
      return;
    }
    stats.duplicates_ignored++;
    if (result.record.published || result.inBatch) {
      app.log.info(ids, "message already processed, skipping (idempotency): acked, stock untouched");
    } else if (!answers.has(messageId)) {
      // Processed, but its answer never got out (we stopped in between): send that same answer.
      app.log.info(ids, "message already processed but its answer was not confirmed; publishing it again");
      stats.republished++;
      answers.set(messageId, outcome);
    }
  });
  return answers;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const answerKey = (e: InventoryEvent): string =>
  e.event_type === "InventoryReserved" ? ROUTING_KEYS.inventoryReserved : ROUTING_KEYS.inventoryFailed;

app.get("/stock", async () => ({ stock: store.stock() }));

app.put(
  "/stock",
  {
    schema: {
      body: Type.Record(
        Type.String({ minLength: 1, maxLength: 64 }),
        Type.Integer({ minimum: 0, maximum: 1_000_000_000 }),
      ),
    },
  },
  async (req) => {
    await store.setStock(req.body);
    req.log.info({ stock: req.body }, "stock set");
    return { stock: store.stock() };
  },
);

app.get(
  "/set-delay-time",
  {
    schema: {
      querystring: Type.Object(
        { "delay-time": Type.Number({ minimum: 0, maximum: 60 }) },
        { required: ["delay-time"] },
      ),
    },
  },
  async (req) => {
    injected.delaySeconds = (req.query as Record<string, number>)["delay-time"];
    req.log.info({ delay_time_s: injected.delaySeconds }, "delay set");
    return { "delay-time": injected.delaySeconds };
  },
);

app.get("/processed/:message_id", async (req) => {
  const id = (req.params as { message_id: string }).message_id;
  const record = store.processed(id);
  if (!record) throw new HttpError(404, "not-found", `message ${id} was not processed here`);
  return record;
});

async function main(): Promise<void> {
  store = await InventoryStore.open(
    path.join(config.DATA_DIR, "inventory"),
    JSON.parse(config.INITIAL_STOCK) as Stock,
    {
      idempotent: safeguards.on("idempotent-consumer"),
    },
  );
  // Connected and subscribed before /health answers: that is when this consumer is ready.
  let closeConsumer: () => Promise<void>;
  ({ link, close: closeConsumer } = await connectAndConsume(config, {
    log: app.log,
    queue: QUEUES.orderPlaced.name,
    handleBatch: handleOrderPlacedBatch,
    batchStats,
    stats,
    deadLetters,
    safeguards,
    settling: { manualAck: safeguards.on("manual-ack"), deadLetter: safeguards.on("dead-letter") },
  }));
  await runService(app, config.PORT, config.HOST, async () => {
    await closeConsumer();
    await store.close();
  });
}

runMain(main);
