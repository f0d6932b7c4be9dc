// Part B's baselines: what raw amqplib does on the same broker with the same message size, the
// way RabbitMQ's PerfTest measures it — one publisher with confirms, one consumer acking.
import amqp from "amqplib";
import { randomUUID } from "node:crypto";
import { fixedRateLoad, type FixedRateResult } from "../../harness/measure/fixed-rate.js";

export interface RawRabbitOptions {
  amqpUrl: string;
  messages: number;
  size: number;
  /** Unconfirmed publishes allowed at once (PerfTest's --confirm). */
  confirmWindow?: number;
  prefetch?: number;
  noDelay?: boolean;
}

// amqplib's defaults (Nagle's algorithm on): for a steady stream of publishes that is the faster
// setting (measured here: ≈ 11,500 vs ≈ 9,000 msgs/s with TCP_NODELAY), so the baselines are the
// best raw amqplib does. The services need TCP_NODELAY for their latency (connection.ts).
const connect = (url: string, noDelay = false) => amqp.connect(url, { noDelay });

/** Publish with confirms while one consumer acks: messages per second end to end. */
export async function rawPublishConsume(opts: RawRabbitOptions): Promise<{ msgs_per_s: number; seconds: number }> {
  const conn = await connect(opts.amqpUrl);
  try {
    const pub = await conn.createConfirmChannel();
    const sub = await conn.createChannel();
    const queue = `bench-raw-${randomUUID()}`;
    await pub.assertQueue(queue, { durable: true, autoDelete: false });
    await sub.prefetch(opts.prefetch ?? 200);
    const body = Buffer.alloc(opts.size, "x");
    let consumed = 0;
    const started = performance.now();
    const done = new Promise<void>((resolve) => {
      void sub.consume(queue, (msg) => {
        if (!msg) return;
        sub.ack(msg);
        if (++consumed === opts.messages) resolve();
      });
    });
    await publishWithConfirms(pub, queue, body, opts.messages, opts.confirmWindow ?? 200);
    await done;
    const seconds = (performance.now() - started) / 1000;
    await pub.deleteQueue(queue);
    return { msgs_per_s: Math.round(opts.messages / seconds), seconds: round(seconds) };
  } finally {
    await conn.close().catch(() => {});
  }
}

/** Fill a queue with no consumer, then drain it with one raw consumer: messages per second. */
export async function rawDrain(opts: RawRabbitOptions): Promise<{ drain_per_s: number; seconds: number }> {
  const conn = await connect(opts.amqpUrl);
  try {
    const pub = await conn.createConfirmChannel();
    const queue = `bench-drain-${randomUUID()}`;
    await pub.assertQueue(queue, { durable: true, autoDelete: false });
    await publishWithConfirms(pub, queue, Buffer.alloc(opts.size, "x"), opts.messages, opts.confirmWindow ?? 200);
    const sub = await conn.createChannel();
    await sub.prefetch(opts.prefetch ?? 200);
    let consumed = 0;
    const started = performance.now();
    await new Promise<void>((resolve) => {
      void sub.consume(queue, (msg) => {
        if (!msg) return;
        sub.ack(msg);
        if (++consumed === opts.messages) resolve();
      });
    });
    const seconds = (performance.now() - started) / 1000;
    await pub.deleteQueue(queue);
    return { drain_per_s: Math.round(opts.messages / seconds), seconds: round(seconds) };
  } finally {
    await conn.close().catch(() => {});
  }
}

/**
 * Part B's message flow with nothing else: no HTTP, no store, no validation, no logs. An order
 * is published with a confirm; an "inventory" consumer answers each with a confirmed publish
 * that is routed to two queues (as InventoryReserved goes to notification and to the order
 * service); a "notification" consumer answers each of those with one more confirmed publish;
 * a "status" consumer acks all of them. One connection per role, as each service has its own.
 * What the design's messages alone cost the broker and the clients: orders per second.
 */
export async function rawWorkflow(opts: RawRabbitOptions): Promise<{ orders_per_s: number; seconds: number }> {
  const prefetch = opts.prefetch ?? 100;
  const tag = randomUUID().slice(0, 8);
  const q = {
    orders: `bench-flow-orders-${tag}`,
    notify: `bench-flow-notify-${tag}`,
    status: `bench-flow-status-${tag}`,
  };
  const answers = `bench-flow-answers-${tag}`;
  const roles = await Promise.all(
    ["client", "inventory", "notification", "status"].map(() => connect(opts.amqpUrl, opts.noDelay)),
  );
  const [client, inventory, notification, status] = roles;
  try {
    const admin = await client.createConfirmChannel();
    for (const name of Object.values(q)) await admin.assertQueue(name, { durable: true, autoDelete: false });
    await admin.assertExchange(answers, "direct", { durable: true, autoDelete: false });
    await admin.bindQueue(q.notify, answers, "reserved");
    await admin.bindQueue(q.status, answers, "reserved");
    const body = Buffer.alloc(opts.size, "x");

    /** Consume a queue; for each message, optionally publish an answer with a confirm, then ack. */
    const worker = async (
      conn: amqp.ChannelModel,
      queue: string,
      answer?: (ch: amqp.ConfirmChannel, msg: amqp.ConsumeMessage) => void,
    ) => {
      const ch = await conn.createConfirmChannel();
      await ch.prefetch(prefetch);
      await ch.consume(queue, (msg) => {
        if (!msg) return;
        if (!answer) return ch.ack(msg);
        answer(ch, msg);
      });
    };
    const answerWith = (exchange: string, key: string) => (ch: amqp.ConfirmChannel, msg: amqp.ConsumeMessage) =>
      ch.publish(exchange, key, body, { persistent: true, messageId: msg.properties.messageId }, (err) =>
        err ? ch.nack(msg) : ch.ack(msg),
      );
    await worker(inventory, q.orders, answerWith(answers, "reserved"));
    await worker(notification, q.notify, answerWith("", q.status));
    let seen = 0;
    const started = performance.now();
    const done = new Promise<void>((resolve) => {
      void (async () => {
        const ch = await status.createChannel();
        await ch.prefetch(prefetch);
        await ch.consume(q.status, (msg) => {
          if (!msg) return;
          ch.ack(msg);
          if (++seen === 2 * opts.messages) resolve(); // each order's InventoryReserved and UserNotified
        });
      })();
    });
    await publishWithConfirms(admin, q.orders, body, opts.messages, opts.confirmWindow ?? 200);
    await done;
    const seconds = (performance.now() - started) / 1000;
    for (const name of Object.values(q)) await admin.deleteQueue(name);
    await admin.deleteExchange(answers);
    return { orders_per_s: Math.round(opts.messages / seconds), seconds: round(seconds) };
  } finally {
    for (const conn of roles) await conn.close().catch(() => {});
  }
}

/**
 * The broker's part of a 202: one persistent message published with a confirm, at a fixed rate
 * (latency from each message's intended start), to a durable queue that one consumer acks.
 * TCP_NODELAY, as the order service has it: this is a latency, not a throughput.
 */
export async function rawConfirmLatency(opts: {
  amqpUrl: string;
  rate: number;
  messages: number;
  size: number;
}): Promise<FixedRateResult> {
  const [pubConn, subConn] = [await connect(opts.amqpUrl, true), await connect(opts.amqpUrl, true)];
  try {
    const pub = await pubConn.createConfirmChannel();
    const queue = `bench-confirm-${randomUUID()}`;
    await pub.assertQueue(queue, { durable: true, autoDelete: false });
    const sub = await subConn.createChannel();
    await sub.prefetch(100);
    await sub.consume(queue, (msg) => msg && sub.ack(msg));
    const body = Buffer.alloc(opts.size, "x");
    const result = await fixedRateLoad({
      rate: opts.rate,
      count: opts.messages,
      connections: 64,
      send: (i) =>
        new Promise<boolean>((resolve) =>
          pub.sendToQueue(queue, body, { persistent: true, messageId: String(i) }, (err) => resolve(!err)),
        ),
    });
    await sub.close();
    await pub.deleteQueue(queue);
    return result;
  } finally {
    for (const conn of [pubConn, subConn]) await conn.close().catch(() => {});
  }
}

/** Persistent publishes to the default exchange, at most `window` unconfirmed at a time. */
async function publishWithConfirms(
  ch: amqp.ConfirmChannel,
  queue: string,
  body: Buffer,
  count: number,
  window: number,
): Promise<void> {
  let outstanding = 0;
  let failed: Error | undefined;
  let wake: (() => void) | undefined;
  for (let i = 0; i < count; i++) {
    while (outstanding >= window) await new Promise<void>((r) => (wake = r));
    if (failed) throw failed;
    outstanding++;
    ch.sendToQueue(queue, body, { persistent: true, messageId: String(i) }, (err) => {
      if (err) failed = err instanceof Error ? err : new Error(String(err));
      outstanding--;
      wake?.();
    });
  }
  await ch.waitForConfirms();
  if (failed) throw failed;
}

const round = (x: number) => Math.round(x * 100) / 100;
