// One connection to RabbitMQ per service that comes back by itself after the broker restarts
// (amqplib's own recovery: reconnect with exponential backoff and jitter, then run our setup
// again), with a confirm channel to publish on and consumers that are re-created on every
// reconnection. A channel is never repaired alone: if one closes under a live connection (a
// protocol error), the whole connection is closed and recovered, so setup runs from the top.
import amqp, {
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  type RecoveringChannelModel,
} from "amqplib";
import type { FastifyBaseLogger } from "fastify";
import { declareTopology } from "./topology.js";

export type Log = Pick<FastifyBaseLogger, "info" | "warn" | "error">;

/** Publishing did not complete: not connected, the broker refused or did not confirm in time, or nothing was routed. */
export class PublishError extends Error {}

export interface LinkOptions {
  url: string;
  log: Log;
  /** How long to wait for the broker's confirm before giving up on a publish. */
  confirmTimeoutMs: number;
  /** Start consumers here; runs after the topology is declared, on every (re)connection. */
  onConnect?: (model: ChannelModel) => Promise<void>;
  /** Reconnect backoff: first delay and cap (ms). */
  backoff?: { initialMs: number; maxMs: number };
  /** Durable queues and persistent messages (default); false only with the `durability` safeguard off. */
  durable?: boolean;
}

export interface OutgoingMessage {
  exchange: string;
  routingKey: string;
  event: { event_id: string; event_type: string };
}

export interface RabbitLink {
  readonly connected: boolean;
  /** Connected, topology declared and every consumer subscribed (onConnect done): what /ready reports. */
  readonly ready: boolean;
  readonly stats: { connects: number; disconnects: number };
  /** Publish a persistent JSON event; resolves once the broker has confirmed it and routed it to a queue. */
  publish(exchange: string, routingKey: string, event: { event_id: string; event_type: string }): Promise<void>;
  /**
   * Publish several events at once and wait for all their confirms together (one wait: the broker
   * confirms a run of messages with one `multiple` ack); rejects if any one is not confirmed or not routed.
   */
  publishAll(messages: OutgoingMessage[]): Promise<void>;
  /**
   * Fire and forget, only with the `confirms` safeguard off: written to the socket if connected,
   * nothing waited for. False when there is no channel to write to: the message is gone.
   */
  publishUnconfirmed(message: OutgoingMessage): boolean;
  close(): Promise<void>;
}

export async function connectRabbit(opts: LinkOptions): Promise<RabbitLink> {
  const log = opts.log;
  let publisher: ConfirmChannel | undefined;
  let subscribed = false;
  let closing = false;
  const stats = { connects: 0, disconnects: 0 };
  /** Message ids the broker returned as unroutable (it still confirms them: see publish). */
  const returned = new Set<string>();
  const durable = opts.durable ?? true;

  async function setup(model: ChannelModel): Promise<void> {
    const ch = await model.createConfirmChannel();
    ch.on("error", (err) => log.warn({ err: err.message }, "publish channel error"));
    closeConnectionWhenChannelCloses(model, ch, log, () => closing);
    ch.on("return", (msg) => {
      if (msg.properties.messageId) returned.add(msg.properties.messageId);
      log.error(
        { exchange: msg.fields.exchange, routingKey: msg.fields.routingKey, message_id: msg.properties.messageId },
        "message returned: no queue is bound for it",
      );
    });
    await declareTopology(ch, durable);
    publisher = ch; // before the consumers start: their first message may need to publish
    try {
      await opts.onConnect?.(model);
      subscribed = true;
    } catch (err) {
      publisher = undefined;
      throw err; // amqplib closes this connection and tries again after a backoff
    }
  }

  const backoff = opts.backoff ?? { initialMs: 200, maxMs: 5_000 };
  const recovering: RecoveringChannelModel = await amqp.connect(opts.url, {
    // TCP_NODELAY, as RabbitMQ's own clients set it. amqplib leaves Nagle's algorithm on: a small
    // frame (a publish) then waits for the TCP ack of the one before (a consumer's ack), which the
    // broker delays up to 40 ms. Measured: POST /order 43 ms → 3 ms at the median, and a
    // consumer with 10 messages in hand stuck near 250 a second.
    noDelay: true,
    recovery: {
      initialDelay: backoff.initialMs,
      maxDelay: backoff.maxMs,
      maxRetries: Infinity,
      waitForConnect: false,
      setup,
    },
  });
  recovering.on("connect", () => {
    stats.connects++;
    log.info(
      { url: redact(opts.url), connects: stats.connects },
      stats.connects === 1 ? "connected to RabbitMQ" : "reconnected to RabbitMQ",
    );
  });
  recovering.on("disconnect", (err) => {
    publisher = undefined;
    subscribed = false;
    stats.disconnects++;
    if (!closing) log.warn({ err: err.message }, "lost the connection to RabbitMQ; reconnecting");
  });
  recovering.on("connect-failed", (err) => log.warn({ err: err.message }, "could not connect to RabbitMQ"));
  recovering.on("reconnect-scheduled", ({ attempt, delay }) =>
    log.info({ attempt, delay_ms: delay }, "next connection attempt scheduled"),
  );
  recovering.on("error", (err) => log.warn({ err: err.message }, "connection error"));
  recovering.on("blocked", (reason) => log.warn({ reason }, "broker blocked publishing (resource alarm)"));
  recovering.on("unblocked", () => log.info("broker unblocked publishing"));
  await recovering.waitForConnect();

  const properties = (event: OutgoingMessage["event"], timestamp: number) => ({
    // #region safeguard:durability
    persistent: durable, // written to disk by the broker before it confirms
    // #endregion
    mandatory: true, // returned if unroutable
    messageId: event.event_id,
    type: event.event_type,
    contentType: "application/json",
    timestamp,
  });

  async function publishConfirmed(messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const ch = publisher;
    if (!ch) throw new PublishError("not connected to RabbitMQ");
    const timestamp = Math.floor(Date.now() / 1000);
    const confirmed = messages.map(
      ({ exchange, routingKey, event }) =>
        new Promise<void>((resolve, reject) => {
          ch.publish(exchange, routingKey, Buffer.from(JSON.stringify(event)), properties(event, timestamp), (err) =>
            err ? reject(new PublishError(`broker did not accept the message: ${err.message ?? err}`)) : resolve(),
          );
        }),
    );
    await withTimeout(
      Promise.all(confirmed),
      opts.confirmTimeoutMs,
      `no confirm from RabbitMQ within ${opts.confirmTimeoutMs} ms`,
    );
    // An unroutable mandatory message is returned *and then* confirmed: the return comes first.
    const unroutable = messages.filter((m) => returned.delete(m.event.event_id));
    if (unroutable.length)
      throw new PublishError(`no queue is bound to ${unroutable[0].exchange} with key ${unroutable[0].routingKey}`);
  }

  return {
    get connected() {
      return publisher !== undefined;
    },
    get ready() {
      return publisher !== undefined && subscribed;
    },
    stats,
    async publish(exchange, routingKey, event) {
      await publishConfirmed([{ exchange, routingKey, event }]);
    },
    publishAll: (messages) => publishConfirmed(messages),
    publishUnconfirmed({ exchange, routingKey, event }) {
      const ch = publisher;
      if (!ch) return false;
      try {
        const props = properties(event, Math.floor(Date.now() / 1000));
        ch.publish(exchange, routingKey, Buffer.from(JSON.stringify(event)), props, () => {});
        return true;
      } catch {
        return false; // the channel closed under us
      }
    },
    async close() {
      closing = true;
      publisher = undefined;
      subscribed = false;
      await recovering.close();
    },
  };
}

function closeConnectionWhenChannelCloses(model: ChannelModel, ch: Channel, log: Log, closing: () => boolean): void {
  ch.on("close", () => {
    if (closing()) return;
    log.warn("a channel closed under a live connection; reconnecting to set everything up again");
    model.close().catch(() => {}); // already closing with the connection: nothing to do
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new PublishError(message)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const redact = (url: string): string => url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");

// ---- Consuming ----

/** What to do with a message once handled. */
export type Verdict = { ack: true } | { deadLetter: string };
export const ACK: Verdict = { ack: true };

export interface ConsumerOptions {
  queue: string;
  /** How many unacked messages the broker hands us at once. */
  prefetch: number;
  log: Log;
  handle: (msg: ConsumeMessage) => Promise<Verdict>;
  /** Called for every message sent to the dead-letter queue, with the reason. */
  onDeadLetter?: (msg: ConsumeMessage, reason: string) => void;
  /** Wait before requeueing a message whose handling failed for a broker reason. */
  retryDelayMs?: number;
  /** Safeguards of consuming (default: both on); see SettlingSafeguards. */
  safeguards?: SettlingSafeguards;
}

/**
 * How a consumer settles its messages. Both true unless a safeguard is switched off:
 * - manualAck false (`manual-ack` off): the broker forgets a message as it delivers it (noAck),
 *   so messages in hand die with the process and nothing is acked, requeued or rejected;
 * - deadLetter false (`dead-letter` off): a message the handler rejects goes back to the queue
 *   (nack with requeue) instead of to the dead-letter queue, and comes back again and again.
 */
export interface SettlingSafeguards {
  manualAck: boolean;
  deadLetter: boolean;
}
const ALL_ON: SettlingSafeguards = { manualAck: true, deadLetter: true };

/** Settle one message the handler rejected: to the dead-letter queue, or (safeguard off) back to the queue. */
function rejectMessage(
  ch: Channel,
  msg: ConsumeMessage,
  reason: string,
  opts: { queue: string; log: Log; onDeadLetter?: (msg: ConsumeMessage, reason: string) => void },
  sg: SettlingSafeguards,
  settle: (what: () => void) => void,
): void {
  // #region safeguard:dead-letter
  if (sg.deadLetter) {
    opts.log.warn(
      { queue: opts.queue, message_id: msg.properties.messageId, reason },
      "rejected without requeue: to the dead-letter queue",
    );
    opts.onDeadLetter?.(msg, reason);
    return settle(() => ch.reject(msg, false));
  }
  // #endregion
  opts.log.warn(
    { queue: opts.queue, message_id: msg.properties.messageId, reason },
    "rejected WITH requeue (dead-letter safeguard off)",
  );
  settle(() => ch.nack(msg, false, true));
}

/**
 * A consumer's channel: its own, with the prefetch, and the connection closed when it closes
 * (reconnect starts over); `settle` acks or rejects, unless auto-ack settled it at delivery, and
 * ignores a channel that is gone (a broker restart: the broker redelivers what was not acked).
 */
async function consumerChannel(
  model: ChannelModel,
  opts: { queue: string; log: Log; prefetch: number; safeguards?: SettlingSafeguards },
  stopping: () => boolean,
): Promise<{ ch: Channel; sg: SettlingSafeguards; settle: (what: () => void) => void }> {
  const ch = await model.createChannel();
  ch.on("error", (err) => opts.log.warn({ err: err.message, queue: opts.queue }, "consumer channel error"));
  closeConnectionWhenChannelCloses(model, ch, opts.log, stopping);
  await ch.prefetch(opts.prefetch);
  const sg = opts.safeguards ?? ALL_ON;
  const settle = (what: () => void) => {
    if (!sg.manualAck) return; // auto-ack: the broker settled it when it delivered it
    try {
      what();
    } catch {
      // The channel is gone (broker restart): the broker redelivers the unacked messages.
    }
  };
  return { ch, sg, settle };
}

/**
 * Subscribe to the queue. A cancel by the broker (the queue deleted) closes the connection, so the
 * reconnect declares the queue again.
 */
async function subscribe(
  model: ChannelModel,
  ch: Channel,
  opts: { queue: string; log: Log },
  sg: SettlingSafeguards,
  onMessage: (msg: ConsumeMessage) => void,
): Promise<string> {
  const { consumerTag } = await ch.consume(
    opts.queue,
    (msg) => {
      if (msg === null) {
        opts.log.warn({ queue: opts.queue }, "consumer cancelled by the broker");
        model.close().catch(() => {});
        return;
      }
      onMessage(msg);
    },
    // #region safeguard:manual-ack
    { noAck: !sg.manualAck }, // manual acks: a message is the broker's until we ack it, after processing
    // #endregion
  );
  return consumerTag;
}

export interface Consumer {
  /** Stop receiving, and wait for the messages in hand to be finished. */
  stop(): Promise<void>;
}

/**
 * Manual acks on a channel of its own. A handler's verdict acks the message or rejects it
 * without requeue (to the dead-letter queue, with the reason logged). A handler that throws:
 * - PublishError (the broker is the problem): requeue after a pause, the message is fine;
 * - anything else (a bug, a store failure): requeue once, dead-letter if it fails again, so one
 *   poison message cannot stall the queue.
 */
export async function consume(model: ChannelModel, opts: ConsumerOptions): Promise<Consumer> {
  let stopping = false;
  const { ch, sg, settle } = await consumerChannel(model, opts, () => stopping);
  const inHand = new Set<Promise<void>>();

  async function onMessage(msg: ConsumeMessage): Promise<void> {
    let verdict: Verdict;
    try {
      verdict = await opts.handle(msg);
    } catch (err) {
      if (err instanceof PublishError) {
        opts.log.warn(
          { err: err.message, queue: opts.queue },
          "could not publish the result; the message goes back to the queue",
        );
        await new Promise((r) => setTimeout(r, opts.retryDelayMs ?? 1000));
        return settle(() => ch.nack(msg, false, true));
      }
      if (!msg.fields.redelivered) {
        opts.log.error({ err, queue: opts.queue }, "handling failed; requeueing once");
        return settle(() => ch.nack(msg, false, true));
      }
      verdict = { deadLetter: `handling failed twice: ${(err as Error).message}` };
    }
    if ("ack" in verdict) return settle(() => ch.ack(msg));
    rejectMessage(ch, msg, verdict.deadLetter, opts, sg, settle);
  }

  const consumerTag = await subscribe(model, ch, opts, sg, (msg) => {
    const p = onMessage(msg).finally(() => inHand.delete(p));
    inHand.add(p);
  });
  opts.log.info({ queue: opts.queue, prefetch: opts.prefetch }, "consuming");

  return {
    async stop() {
      stopping = true;
      await ch.cancel(consumerTag).catch(() => {});
      await Promise.allSettled([...inHand]);
      await ch.close().catch(() => {});
    },
  };
}

// ---- Consuming in batches ----

export interface BatchConsumerOptions {
  queue: string;
  /** How many unacked messages the broker hands us at once (at least two batches' worth, so the next one fills while one is worked on). */
  prefetch: number;
  /** Most messages decided together. */
  batchMax: number;
  /** How long the first message of a batch waits for others when the consumer is idle (ms). */
  batchWaitMs: number;
  log: Log;
  /**
   * Decide a whole batch: one verdict per message, in the same order. It must be all-or-nothing
   * for its effects (one store transaction) and resolve only once its answers are confirmed.
   */
  handleBatch: (msgs: ConsumeMessage[]) => Promise<Verdict[]>;
  onDeadLetter?: (msg: ConsumeMessage, reason: string) => void;
  /** Called with the size of every batch handled, for the stats. */
  onBatch?: (size: number) => void;
  retryDelayMs?: number;
  safeguards?: SettlingSafeguards;
}

/**
 * Manual acks in batches, on a channel of its own. Messages are gathered as they arrive; a batch
 * is handed over when it is full, when `batchWaitMs` has passed since its first message, or —
 * under load — as soon as the batch before it is done (whatever arrived meanwhile, up to
 * `batchMax`). One batch is handled at a time, and it is settled completely before the next
 * starts: its dead-lettered messages are rejected one by one first, then every other message of
 * it is acked with one `ack(last, allUpTo)`. Since the broker numbers deliveries in order and
 * every earlier batch is already settled, that multiple ack covers exactly this batch's acked
 * messages and nothing still being worked on. On failure:
 * - PublishError (the broker is the problem): the whole batch goes back to the queue after a
 *   pause (its effects are stored, so the redelivery only sends the stored answers again);
 * - anything else: its messages are handled again one at a time, so a message that breaks the
 *   handler is requeued once, then dead-lettered, alone, and the rest of the batch goes on.
 */
export async function consumeBatches(model: ChannelModel, opts: BatchConsumerOptions): Promise<Consumer> {
  let stopping = false;
  const { ch, sg, settle } = await consumerChannel(model, opts, () => stopping);

  const waiting: ConsumeMessage[] = [];
  let working: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  function startBatch(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (working || stopping || waiting.length === 0) return;
    const batch = waiting.splice(0, opts.batchMax);
    working = runBatch(batch)
      .catch((err: unknown) => opts.log.error({ err, queue: opts.queue }, "batch handling failed unexpectedly"))
      .finally(() => {
        working = undefined;
        // What arrived while this batch was worked on has waited already: on with it at once.
        if (waiting.length) startBatch();
      });
  }

  function arrived(msg: ConsumeMessage): void {
    waiting.push(msg);
    if (working) return; // the batch in hand takes the next ones when it is done
    if (waiting.length >= opts.batchMax) startBatch();
    else timer ??= setTimeout(startBatch, opts.batchWaitMs);
  }

  async function runBatch(batch: ConsumeMessage[]): Promise<void> {
    opts.onBatch?.(batch.length);
    let verdicts: Verdict[];
    try {
      verdicts = await opts.handleBatch(batch);
    } catch (err) {
      if (err instanceof PublishError) {
        opts.log.warn(
          { err: err.message, queue: opts.queue, batch: batch.length },
          "could not publish the results; the batch goes back to the queue",
        );
        await new Promise((r) => setTimeout(r, opts.retryDelayMs ?? 1000));
        // Every earlier delivery is settled: allUpTo covers this batch only.
        return settle(() => ch.nack(batch[batch.length - 1], batch.length > 1, true));
      }
      if (batch.length > 1) {
        opts.log.error(
          { err, queue: opts.queue, batch: batch.length },
          "batch failed; handling its messages one at a time",
        );
        for (const msg of batch) await runBatch([msg]);
        return;
      }
      const msg = batch[0];
      if (!msg.fields.redelivered) {
        opts.log.error({ err, queue: opts.queue }, "handling failed; requeueing once");
        return settle(() => ch.nack(msg, false, true));
      }
      verdicts = [{ deadLetter: `handling failed twice: ${(err as Error).message}` }];
    }
    settleBatch(batch, verdicts);
  }

  function settleBatch(batch: ConsumeMessage[], verdicts: Verdict[]): void {
    let lastAcked: ConsumeMessage | undefined;
    batch.forEach((msg, i) => {
      const verdict = verdicts[i] ?? { deadLetter: "no verdict for this message (a bug in the batch handler)" };
      if ("ack" in verdict) {
        lastAcked = msg;
        return;
      }
      rejectMessage(ch, msg, verdict.deadLetter, opts, sg, settle);
    });
    // After the rejects, on the same channel (so the broker sees them first): one ack for the rest.
    const last = lastAcked;
    if (last) settle(() => ch.ack(last, batch.length > 1));
  }

  const consumerTag = await subscribe(model, ch, opts, sg, arrived);
  opts.log.info(
    { queue: opts.queue, prefetch: opts.prefetch, batch_max: opts.batchMax, batch_wait_ms: opts.batchWaitMs },
    "consuming in batches",
  );

  return {
    async stop() {
      stopping = true;
      if (timer) clearTimeout(timer);
      await ch.cancel(consumerTag).catch(() => {});
      await working;
      // Messages still waiting were never worked on: closing the channel gives them back to the broker.
      waiting.length = 0;
      await ch.close().catch(() => {});
    },
  };
}
