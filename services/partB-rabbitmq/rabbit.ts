// How a Part B service talks to RabbitMQ: its settings, its connection, and its ONE consume loop.
// A consumer decides the messages waiting for it together, up to BATCH_MAX at a time: one store
// transaction, one confirm wait and one ack per batch. A single message is a batch of one
// (BATCH_MAX=1: each message alone), on the same road.
import path from "node:path";
import type { ChannelModel, ConsumeMessage } from "amqplib";
import { Type } from "../common/config.js";
import { safeguardsSetting, type Safeguards } from "../common/safeguards.js";
import {
  connectRabbit,
  consumerChannel,
  PublishError,
  subscribe,
  type ConsumerChannel,
  type Log,
  type RabbitLink,
  type SettlingSafeguards,
} from "./connection.js";
import type { Decoded, WireMessage } from "./events.js";
import type { BatchStats, DeadLetterLog } from "./stats.js";
import { PARTB_SAFEGUARDS, type PartBSafeguard } from "./switches.js";

/** Env settings of every Part B service (the lab passes AMQP_URL and DATA_DIR). */
export const rabbitEnv = {
  AMQP_URL: Type.String({ default: "amqp://guest:guest@127.0.0.1:5672" }),
  /** Where the service keeps its durable store (one sub-folder per service). */
  DATA_DIR: Type.String({ default: path.resolve(".lab", "data", "partB") }),
  /** How long a publish waits for the broker's confirm. */
  CONFIRM_TIMEOUT_MS: Type.Integer({ default: 5000, minimum: 1 }),
  /** Unacked messages the service's consumer may hold (10 left it idle 60 % of the time, waiting). */
  PREFETCH: Type.Integer({ default: 100, minimum: 1, maximum: 1000 }),
  /**
   * Most messages a consumer decides together: one store transaction, one confirm wait and one
   * ack per batch. 1: each message alone, a batch of one.
   */
  BATCH_MAX: Type.Integer({ default: 64, minimum: 1, maximum: 1000 }),
  /** How long an idle consumer lets the first message of a batch wait for more (ms); under load a batch forms while the last one is worked on. */
  BATCH_WAIT_MS: Type.Integer({ default: 2, minimum: 0, maximum: 1000 }),
  /** Safeguards switched off, for the lab's "what if we didn't…" runs only (switches.ts); empty: all on. */
  ...safeguardsSetting(PARTB_SAFEGUARDS),
};

/** The settings of rabbitEnv, as loaded. */
export interface RabbitSettings {
  AMQP_URL: string;
  CONFIRM_TIMEOUT_MS: number;
  PREFETCH: number;
  BATCH_MAX: number;
  BATCH_WAIT_MS: number;
}

/** The consumer's prefetch: PREFETCH, and in batches at least two of them (one worked on, the next arriving). */
export const effectivePrefetch = (s: RabbitSettings): number =>
  s.BATCH_MAX > 1 ? Math.max(s.PREFETCH, 2 * s.BATCH_MAX) : s.PREFETCH;

/** What to do with a message once handled. */
export type Verdict = { ack: true } | { deadLetter: string };
export const ACK: Verdict = { ack: true };

/**
 * Decide a whole batch: one verdict per message, in the same order. It must be all-or-nothing
 * for its effects (one store transaction) and resolve only once its answers are confirmed.
 */
export type BatchHandler = (msgs: ConsumeMessage[]) => Promise<Verdict[]>;

/** Each message of a batch decoded: a verdict per message (ack, or dead-letter with the reason), and the events decoded. */
export function decodeEach<T>(
  msgs: ConsumeMessage[],
  decode: (msg: WireMessage) => Decoded<T>,
): { verdicts: Verdict[]; decoded: T[] } {
  const decoded: T[] = [];
  const verdicts = msgs.map((msg): Verdict => {
    const d = decode({ content: msg.content, messageId: msg.properties.messageId });
    if (!d.ok) return { deadLetter: d.reason };
    decoded.push(d.event);
    return ACK;
  });
  return { verdicts, decoded };
}

/**
 * The connection of a Part B service and its one consumer: on every (re)connection it consumes
 * `queue` again with `handleBatch`; every dead-lettered message is counted and noted for /health.
 * `close` stops consuming, then closes the connection.
 */
export async function connectAndConsume(
  settings: RabbitSettings,
  opts: {
    log: Log;
    queue: string;
    handleBatch: BatchHandler;
    batchStats: BatchStats;
    stats: { dead_lettered: number };
    deadLetters: DeadLetterLog;
    /** The service's switches: `durability` applies to every service's declarations and publishes. */
    safeguards: Safeguards<PartBSafeguard>;
    /** How its consumer settles messages (inventory's switches); all on when absent. */
    settling?: SettlingSafeguards;
  },
): Promise<{ link: RabbitLink; close: () => Promise<void> }> {
  let consumer: BatchConsumer | undefined;
  const link = await connectRabbit({
    url: settings.AMQP_URL,
    log: opts.log,
    confirmTimeoutMs: settings.CONFIRM_TIMEOUT_MS,
    durable: opts.safeguards.on("durability"),
    onConnect: async (model) => {
      consumer = new BatchConsumer(settings, opts);
      await consumer.start(model);
    },
  });
  return {
    link,
    close: async () => {
      await consumer?.stop();
      await link.close();
    },
  };
}

/**
 * The consume loop, with manual acks on a channel of its own. Messages are gathered as they
 * arrive; a batch is handed over when it is full, when BATCH_WAIT_MS has passed since its first
 * message, or — under load — as soon as the batch before it is done (whatever arrived meanwhile,
 * up to BATCH_MAX). One batch is handled at a time, and it is settled completely before the next
 * starts: its dead-lettered messages are rejected one by one first, then every other message of
 * it is acked with one `ack(last, allUpTo)`. Since the broker numbers deliveries in order and
 * every earlier batch is already settled, that multiple ack covers exactly this batch's acked
 * messages and nothing still being worked on. On failure:
 * - PublishError (the broker is the problem): the whole batch goes back to the queue after a
 *   pause (its effects are stored, so the redelivery only sends the stored answers again);
 * - anything else: its messages are handled again one at a time, so a message that breaks the
 *   handler is requeued once, then dead-lettered, alone, and the rest of the batch goes on.
 */
class BatchConsumer {
  private readonly waiting: ConsumeMessage[] = [];
  private working?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private stopping = false;
  private channel!: ConsumerChannel;
  private consumerTag = "";
  private readonly queue: string;

  constructor(
    private readonly settings: RabbitSettings,
    private readonly opts: Parameters<typeof connectAndConsume>[1],
    private readonly retryDelayMs = 1000,
  ) {
    this.queue = opts.queue;
  }

  async start(model: ChannelModel): Promise<void> {
    const { log, queue } = this.opts;
    const sg = this.opts.settling ?? { manualAck: true, deadLetter: true };
    const prefetch = effectivePrefetch(this.settings);
    const onDeadLetter = (msg: ConsumeMessage, reason: string) => {
      this.opts.stats.dead_lettered++;
      this.opts.deadLetters.add(msg, reason);
    };
    this.channel = await consumerChannel(model, { queue, log, prefetch, onDeadLetter }, sg, () => this.stopping);
    this.consumerTag = await subscribe(model, this.channel.ch, { queue, log }, sg, (msg) => this.arrived(msg));
    const { BATCH_MAX: batch_max, BATCH_WAIT_MS: batch_wait_ms } = this.settings;
    log.info({ queue, prefetch, batch_max, batch_wait_ms }, "consuming");
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    await this.channel.ch.cancel(this.consumerTag).catch(() => {});
    await this.working;
    // Messages still waiting were never worked on: closing the channel gives them back to the broker.
    this.waiting.length = 0;
    await this.channel.ch.close().catch(() => {});
  }

  private arrived(msg: ConsumeMessage): void {
    this.waiting.push(msg);
    if (this.working) return; // the batch in hand takes the next ones when it is done
    if (this.waiting.length >= this.settings.BATCH_MAX) this.startBatch();
    else this.timer ??= setTimeout(() => this.startBatch(), this.settings.BATCH_WAIT_MS);
  }

  private startBatch(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.working || this.stopping || this.waiting.length === 0) return;
    const batch = this.waiting.splice(0, this.settings.BATCH_MAX);
    this.working = this.run(batch)
      .catch((err: unknown) => this.opts.log.error({ err, queue: this.queue }, "batch handling failed unexpectedly"))
      .finally(() => {
        this.working = undefined;
        // What arrived while this batch was worked on has waited already: on with it at once.
        if (this.waiting.length) this.startBatch();
      });
  }

  private async run(batch: ConsumeMessage[]): Promise<void> {
    this.opts.batchStats.add(batch.length);
    let verdicts: Verdict[];
    try {
      verdicts = await this.opts.handleBatch(batch);
    } catch (err) {
      const failed = await this.failed(batch, err);
      if (!failed) return;
      verdicts = [failed];
    }
    this.settleBatch(batch, verdicts);
  }

  /** A batch whose handler threw: settled here, or (a single message failing twice) the verdict to settle it with. */
  private async failed(batch: ConsumeMessage[], err: unknown): Promise<Verdict | undefined> {
    const { log } = this.opts;
    const { settle, ch } = this.channel;
    const last = batch[batch.length - 1];
    if (err instanceof PublishError) {
      log.warn(
        { err: err.message, queue: this.queue, batch: batch.length },
        "could not publish the results; the batch goes back to the queue",
      );
      await new Promise((r) => setTimeout(r, this.retryDelayMs));
      // Every earlier delivery is settled: allUpTo covers this batch only.
      settle(() => ch.nack(last, batch.length > 1, true));
      return;
    }
    if (batch.length > 1) {
      log.error({ err, queue: this.queue, batch: batch.length }, "batch failed; handling its messages one at a time");
      for (const msg of batch) await this.run([msg]);
      return;
    }
    if (!last.fields.redelivered) {
      log.error({ err, queue: this.queue }, "handling failed; requeueing once");
      settle(() => ch.nack(last, false, true));
      return;
    }
    return { deadLetter: `handling failed twice: ${(err as Error).message}` };
  }

  private settleBatch(batch: ConsumeMessage[], verdicts: Verdict[]): void {
    let lastAcked: ConsumeMessage | undefined;
    batch.forEach((msg, i) => {
      const verdict = verdicts[i] ?? { deadLetter: "no verdict for this message (a bug in the batch handler)" };
      if ("ack" in verdict) lastAcked = msg;
      else this.channel.reject(msg, verdict.deadLetter);
    });
    // After the rejects, on the same channel (so the broker sees them first): one ack for the rest.
    const last = lastAcked;
    if (last) this.channel.settle(() => this.channel.ch.ack(last, batch.length > 1));
  }
}

/** For /ready: null once connected and consuming, else why not. */
export function brokerNotReady(link: RabbitLink | undefined): string | null {
  if (!link) return "not connected to RabbitMQ yet";
  if (!link.connected) return "RabbitMQ connection lost; reconnecting";
  return link.ready ? null : "connected to RabbitMQ, not consuming yet";
}

/** Start a service; if it cannot start (store locked, bad setting), say why and exit non-zero. */
export function runMain(main: () => Promise<void>): void {
  main().catch((err) => {
    console.error(`failed to start: ${(err as Error).stack ?? err}`);
    process.exit(1);
  });
}
