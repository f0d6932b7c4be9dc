// What Part B's benchmark measures, one function a figure: orders placed as fast as they are
// accepted until every one is notified, the 202 at a fixed rate, and the drain of a backlog.
import http from "node:http";
import amqp from "amqplib";
import type { OrderRecord } from "../lab/client.js";
import { experimentOrder } from "../experiments/orders.js";
import type { PartB } from "../lab/implementation.js";
import { QUEUES } from "../topology.js";
import type { RunningPart } from "../../harness/run/lifecycle.js";
import { sleep, waitUntil } from "../../common/wait.js";
import { fixedRateLoad, type FixedRateResult } from "../../harness/measure/fixed-rate.js";
import { LatencyRecorder, type Percentiles } from "../../harness/measure/histogram.js";
import { postJson } from "../../harness/measure/raw-http.js";

/** Clients posting orders at once when throughput is measured. */
export const CONNECTIONS = 32;

export async function brokerVersion(amqpUrl: string): Promise<string> {
  const conn = await amqp.connect(amqpUrl);
  try {
    return String(
      (conn.connection as unknown as { serverProperties?: { version?: string } }).serverProperties?.version ??
        "unknown",
    );
  } finally {
    await conn.close();
  }
}

// ---- Placing orders ----

// The measured loops post through raw node:http agents, not through the implementation's
// placeOrder: its axios call would add its own CPU per order to what is measured.

/** POST `count` orders from `connections` clients, each sending the next as soon as its last was answered. */
export async function placeOrders(
  orderUrl: string,
  first: number,
  count: number,
  connections: number,
): Promise<{ ids: string[]; not_accepted: number; seconds: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const ids: string[] = [];
  let notAccepted = 0;
  let next = 0;
  const started = performance.now();
  const client = async () => {
    for (let i = next++; i < count; i = next++) {
      const res = await postJson(`${orderUrl}/order`, experimentOrder(first + i, "u-bench"), agent).catch(() => ({
        status: 0,
        body: "",
      }));
      if (res.status === 202) ids.push(JSON.parse(res.body).order_id);
      else notAccepted++;
    }
  };
  await Promise.all(Array.from({ length: connections }, client));
  agent.destroy();
  return { ids, not_accepted: notAccepted, seconds: (performance.now() - started) / 1000 };
}

const finalCount = async (impl: PartB) => {
  const c = await impl.orderCounts();
  return c.by_status.CONFIRMED + c.by_status.FAILED;
};

/** Wait until `expected` orders in all are CONFIRMED or FAILED. */
export async function waitAllFinal(impl: PartB, expected: number, timeoutMs = 300_000): Promise<void> {
  let seen = 0;
  await waitUntil(
    async () => (seen = await finalCount(impl)) >= expected,
    `${expected} orders to be CONFIRMED or FAILED (seen ${seen})`,
    timeoutMs,
    200,
  );
}

/** These orders, as the order service has them now. */
async function ordersById(impl: PartB, ids: string[]): Promise<OrderRecord[]> {
  const orders = await impl.recentOrders(100_000);
  const wanted = new Set(ids);
  return orders.filter((o) => wanted.has(o.order_id));
}

// ---- The three measurements ----

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
  const final0 = await finalCount(impl);
  const t0 = Date.now();
  const placed = await placeOrders(impl.endpoints.order, first, count, CONNECTIONS);
  await waitAllFinal(impl, final0 + placed.ids.length);
  const records = await ordersById(impl, placed.ids);
  const recorder = new LatencyRecorder();
  let last = t0;
  for (const r of records) {
    const end = Date.parse(r.notified_at ?? r.failed_at ?? "");
    if (Number.isFinite(end)) last = Math.max(last, end);
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
  const final0 = await finalCount(impl);
  const { result, accepted } = await ordersAtRate(impl.endpoints.order, rate, count, "u-bench-latency");
  await waitAllFinal(impl, final0 + accepted); // the next measurement starts from a quiet system
  return result;
}

/** POST orders on a fixed schedule; the 202's latency from each order's intended start. */
async function ordersAtRate(
  orderUrl: string,
  rate: number,
  count: number,
  user: string,
): Promise<{ result: FixedRateResult; accepted: number }> {
  const connections = 64; // more than ever needed at once, so a slow answer delays no other order's start
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  let accepted = 0;
  const result = await fixedRateLoad({
    rate,
    count,
    connections,
    send: async (i) => {
      const ok = (await postJson(`${orderUrl}/order`, experimentOrder(i, user), agent)).status === 202;
      if (ok) accepted++;
      return ok;
    },
  });
  agent.destroy();
  return { result, accepted };
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
  restarted: RunningPart;
}

/**
 * The backlog after an outage: inventory stopped, `count` orders placed (they wait in
 * order.placed.q), inventory started again. The clock runs from the last sample of the queue
 * without a consumer (an upper bound, a few ms early) until inventory has processed every one.
 */
export async function backlogDrain(
  running: RunningPart,
  impl: PartB,
  count: number,
  rate: number,
  beforeStop: () => void,
): Promise<DrainResult> {
  const probe = await impl.probe();
  try {
    const processed0 = (await impl.stats("inventory")).processed_total as number;
    const final0 = await finalCount(impl);
    beforeStop(); // its peak memory goes with the process
    await impl.stopInventory();

    // The backlog arrives at the 202 benchmark's rate: the same measurement with no consumer working.
    const fill = await ordersAtRate(impl.endpoints.order, rate, count, "u-bench-backlog");
    await waitUntil(
      async () => (await probe.queue(QUEUES.orderPlaced.name)).messages >= fill.accepted,
      "the backlog to be in order.placed.q",
      30_000,
      50,
    );

    const samples: { t: number; messages: number; consumers: number }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const q = await probe.queue(QUEUES.orderPlaced.name);
        samples.push({ t: performance.now(), ...q });
        await sleep(5);
      }
    })();
    const restartAt = performance.now();
    let restarted: RunningPart;
    let done: number;
    try {
      await impl.startInventory();
      restarted = running;
      await waitUntil(
        async () => samples.some((s) => s.consumers > 0 && s.messages === 0),
        "order.placed.q to be empty",
        300_000,
        5,
      );
      await waitUntil(
        async () => ((await impl.stats("inventory")).processed_total as number) >= processed0 + fill.accepted,
        "inventory to process the backlog",
        60_000,
        10,
      );
      done = performance.now();
    } finally {
      sampling = false;
      await sampler;
    }
    const firstConsuming = samples.findIndex((s) => s.consumers > 0);
    const from = samples[Math.max(0, firstConsuming - 1)];
    const seconds = (done - from.t) / 1000;
    await waitAllFinal(impl, final0 + fill.accepted);
    return {
      backlog: from.messages,
      seconds: round2(seconds),
      drain_per_s: Math.round(from.messages / seconds),
      restart_s: round2((from.t - restartAt) / 1000),
      accept_while_inventory_down: fill.result,
      restarted,
    };
  } finally {
    await probe.close();
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100;
export const n = (x: number) => x.toLocaleString("en-US");
