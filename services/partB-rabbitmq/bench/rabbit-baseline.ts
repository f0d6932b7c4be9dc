// Part B's baselines: what raw amqplib does on the same broker with the same message size, the
// way RabbitMQ's PerfTest measures it — one publisher with confirms, one consumer acking.
import amqp from "amqplib";
import { randomUUID } from "node:crypto";
import { round2 } from "../../harness/measure/bench-runner.js";
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

type Connection = amqp.ChannelModel;

/** `use` on connections of its own (one per role, as each service has its own), closed afterwards. */
async function withConnections<T>(
  to: Pick<RawRabbitOptions, "amqpUrl" | "noDelay">,
  roles: number,
  use: (conns: Connection[]) => Promise<T>,
) {
  const conns = await Promise.all(Array.from({ length: roles }, () => connect(to.amqpUrl, to.noDelay)));
  try {
    return await use(conns);
  } finally {
    for (const conn of conns) await conn.close().catch(() => {});
  }
}

/** A durable queue of the benchmark's own, with a name nothing else uses. */
async function ownQueue(ch: amqp.Channel, what: string): Promise<string> {
  const queue = `bench-${what}-${randomUUID()}`;
  await ch.assertQueue(queue, { durable: true, autoDelete: false });
  return queue;
}

/** A consumer on `queue` that acks every message; resolves once `count` are acked. */
async function ackAll(conn: Connection, queue: string, count: number, prefetch: number): Promise<() => Promise<void>> {
  const ch = await conn.createChannel();
  await ch.prefetch(prefetch);
  return () =>
    new Promise<void>((resolve) => {
      let acked = 0;
      void ch.consume(queue, (msg) => {
        if (!msg) return;
        ch.ack(msg);
        if (++acked === count) resolve();
      });
    });
}

/** `count` in the seconds since `started`. */
const rateSince = (count: number, started: number) => {
  const seconds = (performance.now() - started) / 1000;
  return { per_s: Math.round(count / seconds), seconds: round2(seconds) };
};

const bodyOf = (opts: RawRabbitOptions) => Buffer.alloc(opts.size, "x");

/**
 * One queue, one publisher with confirms, one consumer acking: while the messages are published
 * (end to end), or once they all wait in the queue (`drain`: the consumer alone).
 */
const publishAndAck = (opts: RawRabbitOptions, drain: boolean) =>
  withConnections(opts, 1, async ([conn]) => {
    const pub = await conn.createConfirmChannel();
    const queue = await ownQueue(pub, drain ? "drain" : "raw");
    const publish = () => publishWithConfirms(pub, queue, bodyOf(opts), opts.messages, opts.confirmWindow ?? 200);
    if (drain) await publish();
    const consume = await ackAll(conn, queue, opts.messages, opts.prefetch ?? 200);
    const started = performance.now();
    await Promise.all([consume(), drain || publish()]);
    const rate = rateSince(opts.messages, started);
    await pub.deleteQueue(queue);
    return rate;
  });

/** Publish with confirms while one consumer acks: messages per second end to end. */
export const rawPublishConsume = async (opts: RawRabbitOptions) => {
  const { per_s, seconds } = await publishAndAck(opts, false);
  return { msgs_per_s: per_s, seconds };
};

/** Fill a queue with no consumer, then drain it with one raw consumer: messages per second. */
export const rawDrain = async (opts: RawRabbitOptions) => {
  const { per_s, seconds } = await publishAndAck(opts, true);
  return { drain_per_s: per_s, seconds };
};

/** A consumer that answers each message with a confirmed publish, and acks it once confirmed. */
async function answerer(conn: Connection, queue: string, prefetch: number, answer: [string, string], body: Buffer) {
  const ch = await conn.createConfirmChannel();
  await ch.prefetch(prefetch);
  await ch.consume(queue, (msg) => {
    if (!msg) return;
    const props = { persistent: true, messageId: msg.properties.messageId };
    ch.publish(answer[0], answer[1], body, props, (err) => (err ? ch.nack(msg) : ch.ack(msg)));
  });
}

/**
 * Part B's message flow with nothing else: no HTTP, no store, no validation, no logs. An order
 * is published with a confirm; an "inventory" consumer answers each with a confirmed publish
 * that is routed to two queues (as InventoryReserved goes to notification and to the order
 * service); a "notification" consumer answers each of those with one more confirmed publish;
 * a "status" consumer acks all of them. One connection per role, as each service has its own.
 * What the design's messages alone cost the broker and the clients: orders per second.
 */
export const rawWorkflow = (opts: RawRabbitOptions): Promise<{ orders_per_s: number; seconds: number }> =>
  withConnections(opts, 4, async ([client, inventory, notification, status]) => {
    const prefetch = opts.prefetch ?? 100;
    const admin = await client.createConfirmChannel();
    const [orders, notify, statusQ] = await Promise.all(["orders", "notify", "status"].map((q) => ownQueue(admin, q)));
    const answers = `bench-flow-answers-${randomUUID()}`;
    await admin.assertExchange(answers, "direct", { durable: true, autoDelete: false });
    for (const q of [notify, statusQ]) await admin.bindQueue(q, answers, "reserved");
    await answerer(inventory, orders, prefetch, [answers, "reserved"], bodyOf(opts));
    await answerer(notification, notify, prefetch, ["", statusQ], bodyOf(opts));
    // Each order's InventoryReserved and UserNotified.
    const consume = await ackAll(status, statusQ, 2 * opts.messages, prefetch);
    const started = performance.now();
    const done = consume();
    await publishWithConfirms(admin, orders, bodyOf(opts), opts.messages, opts.confirmWindow ?? 200);
    await done;
    const { per_s, seconds } = rateSince(opts.messages, started);
    for (const q of [orders, notify, statusQ]) await admin.deleteQueue(q);
    await admin.deleteExchange(answers);
    return { orders_per_s: per_s, seconds };
  });

/** The broker's version, as it announces itself to a client. */
export const brokerVersion = (amqpUrl: string): Promise<string> =>
  withConnections({ amqpUrl }, 1, async ([conn]) => {
    const props = (conn.connection as unknown as { serverProperties?: { version?: string } }).serverProperties;
    return String(props?.version ?? "unknown");
  });

/**
 * The broker's part of a 202: one persistent message published with a confirm, at a fixed rate
 * (latency from each message's intended start), to a durable queue that one consumer acks.
 * TCP_NODELAY, as the order service has it: this is a latency, not a throughput.
 */
export const rawConfirmLatency = (opts: {
  amqpUrl: string;
  rate: number;
  messages: number;
  size: number;
}): Promise<FixedRateResult> =>
  withConnections({ ...opts, noDelay: true }, 2, async ([pubConn, subConn]) => {
    const pub = await pubConn.createConfirmChannel();
    const queue = await ownQueue(pub, "confirm");
    const sub = await subConn.createChannel();
    await sub.prefetch(100);
    await sub.consume(queue, (msg) => msg && sub.ack(msg));
    const body = Buffer.alloc(opts.size, "x");
    const send = (i: number) =>
      new Promise<boolean>((resolve) =>
        pub.sendToQueue(queue, body, { persistent: true, messageId: String(i) }, (err) => resolve(!err)),
      );
    const result = await fixedRateLoad({ rate: opts.rate, count: opts.messages, connections: 64, send });
    await sub.close();
    await pub.deleteQueue(queue);
    return result;
  });

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
