// What Part B's benchmark measures on the lab's services: orders placed as fast as they are
// accepted until every one is notified, the 202 at a fixed rate, and the drain of a backlog.
// The orders are the experiments' (experimentOrder); inventory is stopped and started by the driver.
import http from "node:http";
import { experimentOrder } from "../experiments/orders.js";
import type { OrderRecord } from "../lab/client.js";
import type { PartB } from "../lab/implementation.js";
import { QUEUES } from "../topology.js";
import { waitUntil } from "../../common/wait.js";
import { round2 } from "../../harness/measure/bench-runner.js";
import { fixedRateLoad, type FixedRateResult } from "../../harness/measure/fixed-rate.js";
import { LatencyRecorder, type Percentiles } from "../../harness/measure/histogram.js";
import { postJson } from "../../harness/measure/raw-http.js";
import { sampleEvery } from "../../harness/measure/sampler.js";

/** Clients posting orders at once when throughput is measured. */
export const CONNECTIONS = 32;

// The measured loops post through raw node:http agents, not through the driver's placeOrder:
// its axios call would add its own CPU per order to what is measured.

/** POSTs of experimentOrder(n) on a keep-alive agent of `connections`; the ids of the orders accepted. */
function poster(orderUrl: string, user: string, connections: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const ids: string[] = [];
  const post = async (n: number) => {
    const res = await postJson(`${orderUrl}/order`, experimentOrder(n, user), agent);
    if (res.status === 202) ids.push((JSON.parse(res.body) as { order_id: string }).order_id);
    return res.status === 202;
  };
  return { ids, post, close: () => agent.destroy() };
}

/** POST `count` orders from CONNECTIONS clients, each sending the next as soon as its last was answered. */
async function placeOrders(orderUrl: string, first: number, count: number) {
  const { ids, post, close } = poster(orderUrl, "u-bench", CONNECTIONS);
  let next = 0;
  const started = performance.now();
  const client = async () => {
    for (let i = next++; i < count; i = next++) await post(first + i).catch(() => false);
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, client));
  close();
  return { ids, not_accepted: count - ids.length, seconds: (performance.now() - started) / 1000 };
}

/** POST orders on a fixed schedule; the 202's latency from each order's intended start. */
async function ordersAtRate(orderUrl: string, rate: number, count: number, user: string) {
  const connections = 64; // more than ever needed at once, so a slow answer delays no other order's start
  const { ids, post, close } = poster(orderUrl, user, connections);
  const result = await fixedRateLoad({ rate, count, connections, send: post });
  close();
  return { result, ids };
}

/** Until no order is PLACED or RESERVED, by the order service's counts (listing the store costs it memory). */
async function waitQuiet(impl: PartB): Promise<void> {
  const quiet = async () => {
    const { PLACED, RESERVED } = (await impl.orderCounts()).by_status;
    return PLACED + RESERVED === 0;
  };
  await waitUntil(quiet, "every order to be CONFIRMED or FAILED", 300_000, 200);
}

/** The first of `count` orders, once they are all CONFIRMED or FAILED: a warm-up, and a real order to look at. */
export async function warmUp(impl: PartB, count: number): Promise<OrderRecord> {
  const { ids } = await placeOrders(impl.endpoints.order, 0, count);
  await waitQuiet(impl);
  return (await impl.order(ids[0]))!;
}

export interface SustainedResult {
  orders: number;
  not_accepted: number;
  /** From the first POST until the last order's user was notified. */
  seconds: number;
  orders_per_s: number;
  /** How fast the POSTs alone were answered (the rest queued in RabbitMQ). */
  accepted_per_s: number;
  placed_to_notified: Percentiles;
}

/**
 * Orders from many clients as fast as the order service accepts them; the clock stops when the
 * last of them is notified (its `notified_at`, stamped by the notification service). Work that
 * is still queued when the POSTs end is counted, so this is what the whole chain sustains.
 */
export async function sustainedThroughput(impl: PartB, first: number, count: number): Promise<SustainedResult> {
  const t0 = Date.now();
  const placed = await placeOrders(impl.endpoints.order, first, count);
  await waitQuiet(impl);
  const wanted = new Set(placed.ids);
  const recorder = new LatencyRecorder();
  let last = t0;
  for (const r of (await impl.recentOrders(100_000)).filter((o) => wanted.has(o.order_id))) {
    last = Math.max(last, Date.parse(r.notified_at ?? r.failed_at ?? "") || last);
    if (r.placed_to_notified_ms !== undefined) recorder.recordMs(r.placed_to_notified_ms);
  }
  const seconds = (last - t0) / 1000;
  return {
    orders: placed.ids.length,
    not_accepted: placed.not_accepted,
    seconds: round2(seconds),
    orders_per_s: Math.round(placed.ids.length / seconds),
    accepted_per_s: Math.round(placed.ids.length / placed.seconds),
    placed_to_notified: recorder.percentiles(),
  };
}

/** The 202's latency at a fixed rate, from each order's intended start (coordinated omission corrected). */
export async function acceptLatency(impl: PartB, rate: number, count: number): Promise<FixedRateResult> {
  const { result } = await ordersAtRate(impl.endpoints.order, rate, count, "u-bench-latency");
  await waitQuiet(impl); // the next measurement starts from a quiet system
  return result;
}

export interface DrainResult {
  backlog: number;
  /** From the last moment without a consumer on order.placed.q until inventory had processed the whole backlog. */
  seconds: number;
  drain_per_s: number;
  /** From the restart command until inventory consumed again. */
  restart_s: number;
  /** The 202's latency while the backlog was placed: the same rate, with no consumer at work. */
  accept_while_inventory_down: FixedRateResult;
}

const processed = async (impl: PartB) => (await impl.stats("inventory")).processed_total as number;

/**
 * The backlog after an outage: inventory stopped, `count` orders placed at `rate` (they wait in
 * order.placed.q), inventory started again (with `inventoryEnv`). The clock runs from the last
 * sample of the queue without a consumer (a few ms early) until inventory has processed every one.
 */
export async function backlogDrain(
  impl: PartB,
  { count, rate, inventoryEnv }: { count: number; rate: number; inventoryEnv?: Record<string, string> },
  beforeStop: () => void,
): Promise<DrainResult> {
  const probe = await impl.probe();
  const depth = () => probe.queue(QUEUES.orderPlaced.name);
  try {
    const processed0 = await processed(impl);
    beforeStop(); // its peak memory goes with the process
    await impl.stopInventory();
    // The backlog arrives at the 202 benchmark's rate: the same measurement with no consumer working.
    const fill = await ordersAtRate(impl.endpoints.order, rate, count, "u-bench-backlog");
    const placed = fill.ids.length;
    await waitUntil(async () => (await depth()).messages >= placed, "the backlog in order.placed.q", 30_000, 50);
    const samples: { t: number; messages: number; consumers: number }[] = [];
    const sampler = sampleEvery(5, async () => {
      const q = await depth();
      samples.push({ t: performance.now(), ...q });
    });
    const restartAt = performance.now();
    let done: number;
    try {
      await impl.startInventory(inventoryEnv);
      const empty = () => samples.some((s) => s.consumers > 0 && s.messages === 0);
      await waitUntil(empty, "order.placed.q to be empty", 300_000, 5);
      const all = async () => (await processed(impl)) >= processed0 + placed;
      await waitUntil(all, "inventory to process the backlog", 60_000, 10);
      done = performance.now();
    } finally {
      await sampler.stop();
    }
    const from = samples[Math.max(0, samples.findIndex((s) => s.consumers > 0) - 1)];
    await waitQuiet(impl);
    return {
      backlog: from.messages,
      seconds: round2((done - from.t) / 1000),
      drain_per_s: Math.round(from.messages / ((done - from.t) / 1000)),
      restart_s: round2((from.t - restartAt) / 1000),
      accept_while_inventory_down: fill.result,
    };
  } finally {
    await probe.close();
  }
}
