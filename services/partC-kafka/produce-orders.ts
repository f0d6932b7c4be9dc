// Appending OrderPlaced events to the `orders` log: one at a time, or a load test in batches,
// each through the producer's single send path (one-send-at-a-time.ts). An event counts as
// produced only once Kafka acknowledged it (acks = all).
import { newLoadTestOrderId } from "../common/ids.js";
import { orderPlaced, toMessage, type OrderItem, type OrderPlaced } from "./events.js";
import type { OneSendAtATime } from "./one-send-at-a-time.js";

export const DEFAULT_ITEMS: OrderItem[] = [{ sku: "burrito", qty: 1 }];
/** The most events one POST /load-test may ask for: a request is bounded in work, not only in bytes. */
export const MAX_LOAD_COUNT = 1_000_000;

export interface Produced {
  event: OrderPlaced;
  partition: number;
  offset: string;
}

/** Most events in one send when it carries several requests' events (one load-test batch, by default). */
export const MAX_EVENTS_PER_SEND = 1000;

export interface ProduceOptions {
  /** Reuse the eventId of an earlier, unacknowledged attempt: analytics then counts the order once. */
  eventId?: string;
  timeoutMs?: number;
}

export async function produceOrder(
  orders: OneSendAtATime,
  orderId: string,
  items: OrderItem[],
  opts: ProduceOptions = {},
): Promise<Produced> {
  const event = orderPlaced(orderId, items, new Date(), opts.eventId);
  const [at] = await orders.append([toMessage(event)], opts.timeoutMs);
  return { event, ...at };
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
  orders: OneSendAtATime,
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
    await orders.append(events.map(toMessage), batchTimeoutMs);
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
