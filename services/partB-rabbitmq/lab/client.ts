// Talking to a running Part B from a script, a notebook or a test: its HTTP endpoints (place an
// order, read an order, read a service's stats, restock) and the broker itself (queue depths,
// publishing a message by hand).
import amqp, { type ChannelModel, type ConfirmChannel } from "amqplib";
import axios from "axios";
import type { OrderRecord } from "../order-store.js";
import type { OrderState } from "../events.js";
import { FINAL_STATES } from "../events.js";
import { declareTopology } from "../topology.js";
import { brokerEnv, serviceUrl, type RunningPart } from "../../harness/run/lifecycle.js";
import { waitUntil } from "../../common/wait.js";
import { request, type Answer } from "../../harness/measure/implementation.js";

export type { OrderRecord, OrderState };

export interface PartBEndpoints {
  order: string;
  inventory: string;
  notification: string;
  amqp: string;
}

export function endpoints(running: RunningPart): PartBEndpoints {
  const amqp = brokerEnv(running, "rabbitmq", "AMQP_URL");
  const url = (name: string) => serviceUrl(running, name);
  return { order: url("order"), inventory: url("inventory"), notification: url("notification"), amqp };
}

const http = axios.create({ validateStatus: () => true, timeout: 30_000 });

/** POST /order's body: 202 {order_id, status: PLACED, published}, or 400/503 {error, message}. */
export interface PlaceOrderBody {
  order_id?: string;
  status?: string;
  published?: boolean;
  error?: string;
  message?: string;
}

/** POST /order, timed; never throws on an HTTP status (0: no answer). */
export const placeOrder = (orderUrl: string, body: unknown): Promise<Answer<PlaceOrderBody>> =>
  request<PlaceOrderBody>("post", `${orderUrl}/order`, body);

/** An order's record (404 → undefined); `statusPath` is where the order service answers it, {id} its id. */
export async function getOrder(
  orderUrl: string,
  orderId: string,
  statusPath = "/orders/{id}",
): Promise<OrderRecord | undefined> {
  const res = await http.get(`${orderUrl}${statusPath.replace("{id}", encodeURIComponent(orderId))}`);
  return res.status === 200 ? (res.data as OrderRecord) : undefined;
}

export async function orderCounts(orderUrl: string): Promise<{ total: number; by_status: Record<OrderState, number> }> {
  const res = await http.get(`${orderUrl}/orders`, { params: { limit: 0 } });
  if (res.status !== 200) throw new Error(`GET /orders answered ${res.status}`);
  return res.data;
}

/** The latest `limit` orders, as the order service has them (one request). */
export async function listOrders(orderUrl: string, limit: number): Promise<OrderRecord[]> {
  const res = await http.get(`${orderUrl}/orders`, { params: { limit } });
  if (res.status !== 200) throw new Error(`GET /orders answered ${res.status}`);
  return (res.data as { orders: OrderRecord[] }).orders;
}

/** A service's /health body: its counters, stock, broker state. */
export async function serviceStats(url: string): Promise<Record<string, any>> {
  const res = await http.get(`${url}/health`);
  if (res.status !== 200) throw new Error(`${url}/health answered ${res.status}`);
  return res.data;
}

export async function setStock(inventoryUrl: string, stock: Record<string, number>): Promise<Record<string, number>> {
  const res = await http.put(`${inventoryUrl}/stock`, stock);
  if (res.status !== 200) throw new Error(`PUT /stock answered ${res.status}: ${JSON.stringify(res.data)}`);
  return res.data.stock;
}

export async function setInventoryDelay(inventoryUrl: string, seconds: number): Promise<void> {
  const res = await http.get(`${inventoryUrl}/set-delay-time`, { params: { "delay-time": seconds } });
  if (res.status !== 200) throw new Error(`set-delay-time answered ${res.status}`);
}

/** Wait until an order is CONFIRMED or FAILED; returns it, or throws after the timeout. */
export async function waitForFinal(
  orderUrl: string,
  orderId: string,
  timeoutMs = 15_000,
  statusPath?: string,
): Promise<OrderRecord> {
  let order: OrderRecord | undefined;
  await waitUntil(
    async () => {
      order = await getOrder(orderUrl, orderId, statusPath);
      return order !== undefined && FINAL_STATES.includes(order.status);
    },
    `order ${orderId} to reach CONFIRMED or FAILED (last seen: ${order?.status ?? "unknown"})`,
    timeoutMs,
    50,
  );
  return order!;
}

/** Read many orders, a few requests at a time. */
export async function getOrders(
  orderUrl: string,
  ids: string[],
  statusPath?: string,
  concurrency = 16,
): Promise<Map<string, OrderRecord | undefined>> {
  const out = new Map<string, OrderRecord | undefined>();
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++];
      out.set(id, await getOrder(orderUrl, id, statusPath));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

/**
 * A client of the broker itself. Queue depths come from a passive declare (AMQP queue.declare
 * with passive=true): exact and instant, unlike the management API's counters, which refresh
 * every 5 s.
 */
export class BrokerProbe {
  private constructor(
    private readonly conn: ChannelModel,
    private readonly ch: ConfirmChannel,
  ) {}

  /** `durable` false: the queues as services with the `durability` safeguard off declare them. */
  static async open(amqpUrl: string, opts = { durable: true }): Promise<BrokerProbe> {
    const conn = await amqp.connect(amqpUrl);
    conn.on("error", () => {}); // a broker restart during an experiment is reported by the calls
    const ch = await conn.createConfirmChannel();
    ch.on("error", () => {});
    await declareTopology(ch, opts.durable); // the same declarations as the services: a no-op when they ran first
    return new BrokerProbe(conn, ch);
  }

  /** Messages ready in a queue (not counting those delivered and not yet acked) and its consumers. */
  async queue(name: string): Promise<{ messages: number; consumers: number }> {
    const q = await this.ch.checkQueue(name);
    return { messages: q.messageCount, consumers: q.consumerCount };
  }

  /** Publish raw bytes, persistent, and wait for the broker's confirm: for duplicates and poison by hand. */
  async publish(
    exchange: string,
    routingKey: string,
    body: string | Buffer,
    props: { messageId?: string; type?: string } = {},
  ): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.ch.publish(
        exchange,
        routingKey,
        Buffer.isBuffer(body) ? body : Buffer.from(body),
        { persistent: true, contentType: "application/json", ...props },
        (err) => (err ? reject(new Error("the broker refused the message")) : resolve()),
      );
    });
  }

  async close(): Promise<void> {
    await this.conn.close().catch(() => {});
  }
}
