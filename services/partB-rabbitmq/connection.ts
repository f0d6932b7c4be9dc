// One connection to RabbitMQ per service that comes back by itself after the broker restarts
// (amqplib's own recovery: reconnect with exponential backoff and jitter, then run our setup
// again), with a confirm channel to publish on, and how a consumer's channel receives and settles
// its messages (the consume loop itself is in rabbit.ts). A channel is never repaired alone: if one
// closes under a live connection (a protocol error), the whole connection is closed and
// recovered, so setup runs from the top.
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
  /** Durable queues and persistent messages; false only with the `durability` safeguard off. */
  durable: boolean;
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
  /**
   * Publish persistent JSON events and wait for all their confirms together (one wait: the broker
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

/** What the link knows between reconnections. */
interface LinkState {
  publisher?: ConfirmChannel;
  subscribed: boolean;
  closing: boolean;
  connects: number;
  /** Message ids the broker returned as unroutable (it still confirms them: see publishConfirmed). */
  readonly returned: Set<string>;
}

export async function connectRabbit(opts: LinkOptions): Promise<RabbitLink> {
  const state: LinkState = { subscribed: false, closing: false, connects: 0, returned: new Set() };
  const recovering: RecoveringChannelModel = await amqp.connect(opts.url, {
    // TCP_NODELAY, as RabbitMQ's own clients set it. amqplib leaves Nagle's algorithm on: a small
    // frame (a publish) then waits for the TCP ack of the one before (a consumer's ack), which the
    // broker delays up to 40 ms. Measured: POST /order 43 ms → 3 ms at the median, and a
    // consumer with 10 messages in hand stuck near 250 a second.
    noDelay: true,
    recovery: {
      initialDelay: 200, // ms, doubling up to 5 s
      maxDelay: 5_000,
      maxRetries: Infinity,
      waitForConnect: false,
      setup: (model: ChannelModel) => setUp(model, opts, state),
    },
  });
  watch(recovering, opts, state);
  await recovering.waitForConnect();
  return {
    get connected() {
      return state.publisher !== undefined;
    },
    get ready() {
      return state.publisher !== undefined && state.subscribed;
    },
    publishAll: (messages) => publishConfirmed(messages, opts, state),
    publishUnconfirmed: (message) => publishUnconfirmed(message, opts, state),
    async close() {
      state.closing = true;
      state.publisher = undefined;
      state.subscribed = false;
      await recovering.close();
    },
  };
}

/** On every (re)connection: a confirm channel, the topology, then the consumers. */
async function setUp(model: ChannelModel, opts: LinkOptions, state: LinkState): Promise<void> {
  const ch = await model.createConfirmChannel();
  ch.on("error", (err) => opts.log.warn({ err: err.message }, "publish channel error"));
  closeConnectionWhenChannelCloses(model, ch, opts.log, () => state.closing);
  ch.on("return", (msg) => {
    if (msg.properties.messageId) state.returned.add(msg.properties.messageId);
    opts.log.error(
      { exchange: msg.fields.exchange, routingKey: msg.fields.routingKey, message_id: msg.properties.messageId },
      "message returned: no queue is bound for it",
    );
  });
  await declareTopology(ch, opts.durable);
  state.publisher = ch; // before the consumers start: their first message may need to publish
  try {
    await opts.onConnect?.(model);
    state.subscribed = true;
  } catch (err) {
    state.publisher = undefined;
    throw err; // amqplib closes this connection and tries again after a backoff
  }
}

/** Log what the connection goes through, and forget the channel when it is lost. */
function watch(recovering: RecoveringChannelModel, opts: LinkOptions, state: LinkState): void {
  const log = opts.log;
  recovering.on("connect", () => {
    state.connects++;
    log.info(
      { url: redact(opts.url), connects: state.connects },
      state.connects === 1 ? "connected to RabbitMQ" : "reconnected to RabbitMQ",
    );
  });
  recovering.on("disconnect", (err) => {
    state.publisher = undefined;
    state.subscribed = false;
    if (!state.closing) log.warn({ err: err.message }, "lost the connection to RabbitMQ; reconnecting");
  });
  recovering.on("connect-failed", (err) => log.warn({ err: err.message }, "could not connect to RabbitMQ"));
  recovering.on("reconnect-scheduled", ({ attempt, delay }) =>
    log.info({ attempt, delay_ms: delay }, "next connection attempt scheduled"),
  );
  recovering.on("error", (err) => log.warn({ err: err.message }, "connection error"));
  recovering.on("blocked", (reason) => log.warn({ reason }, "broker blocked publishing (resource alarm)"));
  recovering.on("unblocked", () => log.info("broker unblocked publishing"));
}

const properties = (event: OutgoingMessage["event"], durable: boolean) => ({
  // #region safeguard:durability
  persistent: durable, // written to disk by the broker before it confirms
  // #endregion
  mandatory: true, // returned if unroutable
  messageId: event.event_id,
  type: event.event_type,
  contentType: "application/json",
  timestamp: Math.floor(Date.now() / 1000),
});

async function publishConfirmed(messages: OutgoingMessage[], opts: LinkOptions, state: LinkState): Promise<void> {
  if (messages.length === 0) return;
  const ch = state.publisher;
  if (!ch) throw new PublishError("not connected to RabbitMQ");
  const confirmed = messages.map(
    ({ exchange, routingKey, event }) =>
      new Promise<void>((resolve, reject) => {
        const props = properties(event, opts.durable);
        ch.publish(exchange, routingKey, Buffer.from(JSON.stringify(event)), props, (err) =>
          err ? reject(new PublishError(`broker did not accept the message: ${err.message ?? err}`)) : resolve(),
        );
      }),
  );
  const ms = opts.confirmTimeoutMs;
  await withTimeout(Promise.all(confirmed), ms, `no confirm from RabbitMQ within ${ms} ms`);
  // An unroutable mandatory message is returned *and then* confirmed: the return comes first.
  const unroutable = messages.filter((m) => state.returned.delete(m.event.event_id));
  if (unroutable.length)
    throw new PublishError(`no queue is bound to ${unroutable[0].exchange} with key ${unroutable[0].routingKey}`);
}

function publishUnconfirmed(message: OutgoingMessage, opts: LinkOptions, state: LinkState): boolean {
  const ch = state.publisher;
  if (!ch) return false;
  try {
    const { exchange, routingKey, event } = message;
    const props = properties(event, opts.durable);
    ch.publish(exchange, routingKey, Buffer.from(JSON.stringify(event)), props, () => {}); // no one waits for it
    return true;
  } catch {
    return false; // the channel closed under us
  }
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

// ---- Receiving and settling (the loop that decides is in rabbit.ts) ----

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

export interface ConsumerChannel {
  ch: Channel;
  /** Ack, nack or reject, unless auto-ack settled it at delivery; a channel that is gone is ignored. */
  settle: (what: () => void) => void;
  /** Settle one message the handler rejected: to the dead-letter queue, or (safeguard off) back to the queue. */
  reject: (msg: ConsumeMessage, reason: string) => void;
}

/**
 * A consumer's channel: its own, with the prefetch, and the connection closed when it closes
 * (reconnect starts over). Settling ignores a channel that is gone (a broker restart: the broker
 * redelivers what was not acked).
 */
export async function consumerChannel(
  model: ChannelModel,
  opts: { queue: string; log: Log; prefetch: number; onDeadLetter?: (msg: ConsumeMessage, reason: string) => void },
  sg: SettlingSafeguards,
  stopping: () => boolean,
): Promise<ConsumerChannel> {
  const ch = await model.createChannel();
  ch.on("error", (err) => opts.log.warn({ err: err.message, queue: opts.queue }, "consumer channel error"));
  closeConnectionWhenChannelCloses(model, ch, opts.log, stopping);
  await ch.prefetch(opts.prefetch);
  const settle = (what: () => void) => {
    if (!sg.manualAck) return; // auto-ack: the broker settled it when it delivered it
    try {
      what();
    } catch {
      // The channel is gone (broker restart): the broker redelivers the unacked messages.
    }
  };
  const reject = (msg: ConsumeMessage, reason: string) => {
    const ids = { queue: opts.queue, message_id: msg.properties.messageId, reason };
    // #region safeguard:dead-letter
    if (sg.deadLetter) {
      opts.log.warn(ids, "rejected without requeue: to the dead-letter queue");
      opts.onDeadLetter?.(msg, reason);
      return settle(() => ch.reject(msg, false));
    }
    // #endregion
    opts.log.warn(ids, "rejected WITH requeue (dead-letter safeguard off)");
    settle(() => ch.nack(msg, false, true));
  };
  return { ch, settle, reject };
}

/**
 * Subscribe to the queue. A cancel by the broker (the queue deleted) closes the connection, so the
 * reconnect declares the queue again.
 */
export async function subscribe(
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
