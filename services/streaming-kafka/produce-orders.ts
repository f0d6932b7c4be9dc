// Appending OrderPlaced events to the `orders` log: one at a time, or a load test in batches.
// An event counts as produced only once Kafka acknowledged it (acks = all).
import type { Producer } from "kafkajs";
import { newLoadTestOrderId } from "../common/ids.js";
import { orderPlaced, toMessage, type OrderItem, type OrderPlaced } from "./events.js";
import { sendAcked } from "./kafka.js";
import { TOPICS } from "./topics.js";

export const DEFAULT_ITEMS: OrderItem[] = [{ sku: "burrito", qty: 1 }];

export interface Produced {
  event: OrderPlaced;
  partition: number;
  offset: string;
}

export async function produceOrder(producer: Producer, orderId: string, items: OrderItem[]): Promise<Produced> {
  const event = orderPlaced(orderId, items);
  const [ack] = await sendAcked(producer, { topic: TOPICS.orders, messages: [toMessage(event)] });
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
 * acknowledged, so `produced` is what the log really holds. A failure stops the run; `onBatch`
 * has been told how many were acknowledged before it.
 */
export async function produceLoad(producer: Producer, count: number, batchSize: number, onBatch?: (produced: number) => void): Promise<LoadResult> {
  const started = new Date();
  const t0 = performance.now();
  let produced = 0;
  let batches = 0;
  while (produced < count) {
    const size = Math.min(batchSize, count - produced);
    const events = Array.from({ length: size }, (_, i) => orderPlaced(newLoadTestOrderId(produced + i), DEFAULT_ITEMS));
    await sendAcked(producer, { topic: TOPICS.orders, messages: events.map(toMessage) });
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
