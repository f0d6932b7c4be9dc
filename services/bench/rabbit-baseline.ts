// Part B's baselines: what raw amqplib does on the same broker with the same message size, the
// way RabbitMQ's PerfTest measures it — one publisher with confirms, one consumer acking.
import amqp from "amqplib";
import { randomUUID } from "node:crypto";

export interface RawRabbitOptions {
  amqpUrl: string;
  messages: number;
  size: number;
  /** Unconfirmed publishes allowed at once (PerfTest's --confirm). */
  confirmWindow?: number;
  prefetch?: number;
}

/** Publish with confirms while one consumer acks: messages per second end to end. */
export async function rawPublishConsume(opts: RawRabbitOptions): Promise<{ msgs_per_s: number; seconds: number }> {
  const conn = await amqp.connect(opts.amqpUrl);
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
  const conn = await amqp.connect(opts.amqpUrl);
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

/** Persistent publishes to the default exchange, at most `window` unconfirmed at a time. */
async function publishWithConfirms(ch: amqp.ConfirmChannel, queue: string, body: Buffer, count: number, window: number): Promise<void> {
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
