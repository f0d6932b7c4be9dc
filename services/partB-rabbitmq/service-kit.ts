// What the three Part B services share besides the connection: their broker/store settings,
// a short memory of dead-lettered messages for the stats endpoint, and how a service starts.
import path from "node:path";
import type { ConsumeMessage } from "amqplib";
import { Type } from "../common/config.js";
import { safeguardsSetting, type Safeguards } from "../common/safeguards.js";
import { PARTB_SAFEGUARDS, type PartBSafeguard } from "./switches.js";
import {
  connectRabbit,
  consume,
  consumeBatches,
  type BatchConsumerOptions,
  type Consumer,
  type ConsumerOptions,
  type Log,
  type RabbitLink,
  type SettlingSafeguards,
} from "./connection.js";

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
   * ack per batch. 1: each message alone, as the lab did before batching.
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

/** Batch counters of a service, for /health: how many batches, and how full they were. */
export class BatchStats {
  batches = 0;
  messages = 0;
  largest = 0;

  add(size: number): void {
    this.batches++;
    this.messages += size;
    this.largest = Math.max(this.largest, size);
  }

  /** What /health shows: the settings and the batches seen. */
  report(s: RabbitSettings): Record<string, number> {
    return {
      batch_max: s.BATCH_MAX,
      batch_wait_ms: s.BATCH_WAIT_MS,
      batches: this.batches,
      batch_mean: this.batches ? Math.round((this.messages / this.batches) * 10) / 10 : 0,
      batch_largest: this.largest,
    };
  }
}

export interface DeadLetterNote {
  at: string;
  message_id?: string;
  reason: string;
  /** The start of the body, enough to recognise it. */
  body: string;
}

/** The last few messages sent to a dead-letter queue and why (the broker keeps the messages themselves). */
export class DeadLetterLog {
  private readonly notes: DeadLetterNote[] = [];
  constructor(private readonly keep = 20) {}

  add(msg: ConsumeMessage, reason: string): void {
    this.notes.push({
      at: new Date().toISOString(),
      message_id: msg.properties.messageId,
      reason,
      body: msg.content.toString("utf8").slice(0, 200),
    });
    if (this.notes.length > this.keep) this.notes.shift();
  }

  recent(): DeadLetterNote[] {
    return [...this.notes];
  }
}

/**
 * The connection of a Part B service and its one consumer: on every (re)connection it consumes
 * `queue` again — message by message with `handle` when BATCH_MAX is 1, else in batches with
 * `handleBatch`; every dead-lettered message is counted and noted for the stats endpoint.
 * `close` stops consuming, then closes the connection.
 */
export async function connectAndConsume(
  settings: RabbitSettings,
  opts: {
    log: Log;
    queue: string;
    handle: ConsumerOptions["handle"];
    handleBatch: BatchConsumerOptions["handleBatch"];
    batchStats: BatchStats;
    stats: { dead_lettered: number };
    deadLetters: DeadLetterLog;
    /** The service's switches: `durability` applies to every service's declarations and publishes. */
    safeguards: Safeguards<PartBSafeguard>;
    /** How its consumer settles messages (inventory's switches); all on when absent. */
    settling?: SettlingSafeguards;
  },
): Promise<{ link: RabbitLink; close: () => Promise<void> }> {
  let consumer: Consumer | undefined;
  const onDeadLetter = (msg: ConsumeMessage, reason: string) => {
    opts.stats.dead_lettered++;
    opts.deadLetters.add(msg, reason);
  };
  const link = await connectRabbit({
    url: settings.AMQP_URL,
    log: opts.log,
    confirmTimeoutMs: settings.CONFIRM_TIMEOUT_MS,
    durable: opts.safeguards.on("durability"),
    onConnect: async (model) => {
      consumer =
        settings.BATCH_MAX > 1
          ? await consumeBatches(model, {
              queue: opts.queue,
              prefetch: effectivePrefetch(settings),
              batchMax: settings.BATCH_MAX,
              batchWaitMs: settings.BATCH_WAIT_MS,
              log: opts.log,
              handleBatch: opts.handleBatch,
              onBatch: (size) => opts.batchStats.add(size),
              onDeadLetter,
              safeguards: opts.settling,
            })
          : await consume(model, {
              queue: opts.queue,
              prefetch: settings.PREFETCH,
              log: opts.log,
              handle: opts.handle,
              onDeadLetter,
              safeguards: opts.settling,
            });
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

/** Start a service; if it cannot start (store locked, bad setting), say why and exit non-zero. */
export function runMain(main: () => Promise<void>): void {
  main().catch((err) => {
    console.error(`failed to start: ${(err as Error).stack ?? err}`);
    process.exit(1);
  });
}

/** For /ready: null once connected and consuming, else why not. */
export function brokerNotReady(link: RabbitLink | undefined): string | null {
  if (!link) return "not connected to RabbitMQ yet";
  if (!link.connected) return "RabbitMQ connection lost; reconnecting";
  return link.ready ? null : "connected to RabbitMQ, not consuming yet";
}

/**
 * Writes that may share one store transaction (a group commit): `add` resolves once its item is
 * written; the items added while a write is under way go together in the next one, at most `max`.
 * Under load a transaction carries many; alone, an item is written at once.
 */
export class GroupWriter<T> {
  private readonly pending: { item: T; done: () => void; failed: (err: unknown) => void }[] = [];
  private writing = false;

  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly max: number,
  ) {}

  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ item, done: resolve, failed: reject });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.pending.length) {
        const group = this.pending.splice(0, this.max);
        try {
          await this.write(group.map((g) => g.item));
          for (const g of group) g.done();
        } catch (err) {
          for (const g of group) g.failed(err);
        }
      }
    } finally {
      this.writing = false;
    }
  }
}
