// Appending OrderPlaced events to the `orders` log: one at a time, or a load test in batches.
// An event counts as produced only once Kafka acknowledged it (acks = all).
import type { Producer } from "kafkajs";
import { newLoadTestOrderId } from "../common/ids.js";
import { orderPlaced, toMessage, type OrderItem, type OrderPlaced } from "./events.js";
import { sendAcked } from "./kafka.js";
import { TOPICS } from "./topics.js";

export const DEFAULT_ITEMS: OrderItem[] = [{ sku: "burrito", qty: 1 }];
/** The most events one POST /load-test may ask for: a request is bounded in work, not only in bytes. */
export const MAX_LOAD_COUNT = 1_000_000;

export interface Produced {
  event: OrderPlaced;
  partition: number;
  offset: string;
}

/**
 * Kafka did not acknowledge in time. The client keeps retrying in the background, so the event
 * may still be appended later: its outcome is unknown, not "refused".
 */
export class AckTimeout extends Error {}

/** Wait for Kafka's acknowledgement at most `ms` (an HTTP caller must not hang on a broker outage). */
export function withinDeadline<T>(send: Promise<T>, ms: number | undefined): Promise<T> {
  if (ms === undefined) return send;
  let timer: NodeJS.Timeout;
  const deadline = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new AckTimeout(`waited ${ms} ms`)), ms)),
  );
  return Promise.race([send, deadline]).finally(() => clearTimeout(timer));
}

export interface ProduceOptions {
  /** Reuse the eventId of an earlier, unacknowledged attempt: analytics then counts the order once. */
  eventId?: string;
  timeoutMs?: number;
}

export async function produceOrder(
  producer: Pick<Producer, "send">,
  orderId: string,
  items: OrderItem[],
  opts: ProduceOptions = {},
): Promise<Produced> {
  const event = orderPlaced(orderId, items, new Date(), opts.eventId);
  const [ack] = await withinDeadline(
    sendAcked(producer, { topic: TOPICS.orders, messages: [toMessage(event)] }),
    opts.timeoutMs,
  );
  return { event, partition: ack.partition, offset: ack.baseOffset ?? "" };
}

export interface LoadResult {
  produced: number;
  batches: number;
  batch_size: number;
  first_order_id: string;
  last_order_id: string;
  started_at: string;
  finished_at: string;
  elapsed_ms: number;
  events_per_s: number;
}

/**
 * Produce `count` orders (`load-000000`, `load-000001`, …) in batches, each awaited until
 * acknowledged, so `produced` is what the log really holds. A failure (or a batch not acknowledged
 * within `batchTimeoutMs`) stops the run; `onBatch` has been told how many were acknowledged before it.
 */
export async function produceLoad(
  producer: Pick<Producer, "send">,
  count: number,
  batchSize: number,
  onBatch?: (produced: number) => void,
  batchTimeoutMs?: number,
): Promise<LoadResult> {
  const started = new Date();
  const t0 = performance.now();
  let produced = 0;
  let batches = 0;
  while (produced < count) {
    const size = Math.min(batchSize, count - produced);
    const events = Array.from({ length: size }, (_, i) => orderPlaced(newLoadTestOrderId(produced + i), DEFAULT_ITEMS));
    await withinDeadline(
      sendAcked(producer, { topic: TOPICS.orders, messages: events.map(toMessage) }),
      batchTimeoutMs,
    );
    produced += size;
    batches++;
    onBatch?.(produced);
  }
  const elapsed = performance.now() - t0;
  return {
    produced,
    batches,
    batch_size: batchSize,
    first_order_id: newLoadTestOrderId(0),
    last_order_id: newLoadTestOrderId(count - 1),
    started_at: started.toISOString(),
    finished_at: new Date().toISOString(),
    elapsed_ms: Math.round(elapsed),
    events_per_s: Math.round(count / (elapsed / 1000)),
  };
}
