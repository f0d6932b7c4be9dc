// Part C inventory consumer (group `inventory-service-group`; health and stats on :8020).
// Reads OrderPlaced from `orders`, answers each with InventoryReserved or InventoryFailed on
// `inventory-events`, and commits its offset only after Kafka acknowledged the answers:
//
//   read a chunk → decide each order → send the answers (acks = all) → commit → next chunk
//
// A crash between "send" and "commit" means the chunk is read again and answered again. The
// answers get the same eventIds the second time (events.ts), so analytics counts them once.
// After a broker restart Kafka may reject the producer's sequence numbers: the answers are then
// sent again by a fresh producer (renewable-producer.ts) before the commit, in the same process.
// An event that cannot be read goes to `orders.dlq` with the reason, and the consumer goes on.
import type { Batch, KafkaMessage, Message } from "kafkajs";
import { Type, loadConfig, serviceBase } from "../common/config.js";
import { newEventId } from "../common/ids.js";
import { safeguardSwitches, safeguardsSetting } from "../common/safeguards.js";
import { createService, runService } from "../common/server.js";
import { sleep } from "../common/wait.js";
import { parseEvent, toMessage } from "./events.js";
import {
  consumerConfig,
  consumerReadiness,
  createIdempotentProducer,
  createKafka,
  ensureTopic,
  joined,
  kafkaSettings,
  waitForTopics,
} from "./kafka.js";
import { RenewableProducer } from "./renewable-producer.js";
import { reserve, type FailurePolicy } from "./reserve.js";
import { PARTC_SAFEGUARDS } from "./switches.js";
import { GROUPS, TOPICS } from "./topics.js";

const config = loadConfig(
  Type.Object({
    ...serviceBase,
    ...kafkaSettings,
    ...safeguardsSetting(PARTC_SAFEGUARDS),
    PORT: Type.Integer({ default: 8020 }),
    INVENTORY_FAIL_RATE: Type.Number({ default: 0, minimum: 0, maximum: 1 }),
    FAIL_SEED: Type.Integer({ default: 42 }),
    /** A pause per message, so the consumer falls behind and lag builds up. */
    CONSUMER_THROTTLE_MS: Type.Integer({ default: 0, minimum: 0, maximum: 60_000 }),
    /** Orders answered (and committed) together; smaller when throttled, so progress shows. */
    CHUNK_SIZE: Type.Integer({ default: 500, minimum: 1, maximum: 10_000 }),
  }),
);

const safeguards = safeguardSwitches(PARTC_SAFEGUARDS, "inventory", config.SAFEGUARDS_OFF);
const policy: FailurePolicy = { failRate: config.INVENTORY_FAIL_RATE, seed: config.FAIL_SEED };
const throttleMs = config.CONSUMER_THROTTLE_MS;
// Throttled, a chunk is about half a second of work, so commits (and the lag view) move steadily.
const chunkSize =
  throttleMs > 0 ? Math.max(1, Math.min(config.CHUNK_SIZE, Math.floor(500 / throttleMs))) : config.CHUNK_SIZE;

const stats = {
  orders_read: 0,
  reserved: 0,
  failed: 0,
  dead_lettered: 0,
  answers_sent: 0,
  commits: 0,
  last_commit_at: null as string | null,
  assigned: {} as Record<string, number[]>,
};

const app = createService({
  name: "inventory",
  logLevel: config.LOG_LEVEL,
  bodyLimitBytes: config.BODY_LIMIT_BYTES,
  ready: () => consumerNotReady() ?? producerNotReady(),
  health: () => ({
    group: GROUPS.inventory,
    ...stats,
    producer_restarts: producer.restarts, // fresh producers after Kafka rejected the sequence state
    fail_rate: policy.failRate,
    fail_seed: policy.seed,
    throttle_ms: throttleMs,
    chunk_size: chunkSize,
    safeguards: safeguards.health(),
  }),
});

const kafka = createKafka({
  clientId: "inventory",
  brokers: config.KAFKA_BROKERS,
  logLevel: config.KAFKA_LOG_LEVEL,
  logger: app.log,
});
const producer = new RenewableProducer(() => createIdempotentProducer(kafka), app.log, "uncommitted answers");
const consumer = kafka.consumer(consumerConfig(GROUPS.inventory));
const consumerNotReady = consumerReadiness(consumer);
const producerNotReady = producer.notReady;

/** Answer one read message: an inventory event, or a dead letter saying why it could not be read. */
function answer(message: KafkaMessage, partition: number): { topic: string; message: Message } {
  stats.orders_read++;
  const parsed = parseEvent(message.value, ["OrderPlaced"] as const);
  if (!parsed.ok) {
    stats.dead_lettered++;
    app.log.warn(
      { partition, offset: message.offset, reason: parsed.reason },
      "unreadable event sent to the dead-letter topic",
    );
    return {
      topic: TOPICS.ordersDeadLetter,
      message: {
        key: message.key,
        value: message.value,
        headers: {
          reason: parsed.reason,
          "source-topic": TOPICS.orders,
          "source-partition": String(partition),
          "source-offset": message.offset,
        },
      },
    };
  }
  const event = reserve(parsed.event, policy);
  // Its eventId derives from the order's (events.ts answerEventId): an order answered twice gets
  // one id twice, which analytics recognises. Off (the dedupe switch), every answer a new id.
  if (!safeguards.on("dedupe")) event.eventId = newEventId();
  if (event.eventType === "InventoryReserved") stats.reserved++;
  else stats.failed++;
  return { topic: TOPICS.inventoryEvents, message: toMessage(event) };
}

/** Answer a chunk of one partition's messages; Kafka acknowledges every answer (acks = all). */
async function answerChunk(chunk: KafkaMessage[], partition: number): Promise<void> {
  const answers = [];
  for (const message of chunk) {
    if (throttleMs > 0) await sleep(throttleMs);
    answers.push(answer(message, partition));
  }
  await producer.sendBatch({ topicMessages: byTopic(answers), acks: -1 });
  stats.answers_sent += answers.length;
}

/** Commit the partition's offset past the chunk's last message. */
async function commitChunk(
  chunk: KafkaMessage[],
  batch: Batch,
  resolveOffset: (offset: string) => void,
): Promise<void> {
  const last = chunk[chunk.length - 1].offset;
  resolveOffset(last);
  await consumer.commitOffsets([
    { topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() },
  ]);
  stats.commits++;
  stats.last_commit_at = new Date().toISOString();
}

async function consume(): Promise<void> {
  await consumer.subscribe({ topics: [TOPICS.orders], fromBeginning: true });
  await consumer.run({
    autoCommit: false, // we commit ourselves, after the answers are acknowledged
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 3, // the three partitions are worked on side by side
    // eslint-disable-next-line @typescript-eslint/unbound-method -- kafkajs types the payload's callbacks as methods, but they are closures: destructuring them is its documented use
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      for (let i = 0; i < batch.messages.length; i += chunkSize) {
        if (!isRunning() || isStale()) return; // stopping, or the partition moved to another member
        const chunk = batch.messages.slice(i, i + chunkSize);
        // #region safeguard:commit-after-ack
        // The offset moves on only once Kafka has the answers: a crash in between answers the
        // chunk again (at least once), never not at all.
        if (safeguards.on("commit-after-ack")) {
          await answerChunk(chunk, batch.partition);
          await commitChunk(chunk, batch, resolveOffset);
        } else {
          // Off: commit first. A crash while the chunk is answered loses it; the window is the
          // chunk's work (CONSUMER_THROTTLE_MS × chunk: ~0.5 s when throttled).
          await commitChunk(chunk, batch, resolveOffset);
          await answerChunk(chunk, batch.partition);
        }
        // #endregion
        await heartbeat();
      }
    },
  });
}

function byTopic(answers: { topic: string; message: Message }[]): { topic: string; messages: Message[] }[] {
  const topics = new Map<string, Message[]>();
  for (const a of answers) {
    const messages = topics.get(a.topic);
    if (messages) messages.push(a.message);
    else topics.set(a.topic, [a.message]);
  }
  return [...topics].map(([topic, messages]) => ({ topic, messages }));
}

consumer.on(consumer.events.GROUP_JOIN, (e) => {
  stats.assigned = e.payload.memberAssignment;
  app.log.info({ assigned: stats.assigned }, "joined the group");
});
consumer.on(consumer.events.CRASH, (e) => {
  // kafkajs restarts the consumer after a retriable error. Any other cannot be cured by trying
  // again in this process: the topic deleted, no authorization, an answer too large for the
  // broker, or Kafka rejecting the producer's state even from fresh producers (the one
  // recoverable producer error, a broker that lost this producer's sequence state, is handled
  // by RenewableProducer before it gets here). Then let the process die so `status` shows it and
  // it can be restarted, rather than idle while looking healthy.
  app.log.error({ err: e.payload.error, restart: e.payload.restart }, "consumer crashed");
  if (!e.payload.restart) process.exit(1);
});

async function main(): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await waitForTopics(admin, [TOPICS.orders, TOPICS.inventoryEvents], config.TOPIC_WAIT_MS, app.log);
  await ensureTopic(admin, TOPICS.ordersDeadLetter);
  await admin.disconnect();
  await producer.connect();
  await consumer.connect();
  const ready = joined(consumer);
  await consume();
  await ready; // /health answers only from here on: connected, subscribed, partitions assigned
  app.log.info({ policy, throttle_ms: throttleMs, chunk_size: chunkSize }, "inventory consumer ready");
  await runService(app, config.PORT, config.HOST, async () => {
    await consumer.disconnect(); // finishes the chunk in hand and leaves the group
    await producer.disconnect();
  });
}

main().catch((err) => {
  app.log.fatal({ err }, "inventory consumer could not start");
  process.exit(1);
});
