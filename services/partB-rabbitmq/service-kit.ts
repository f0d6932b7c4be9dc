// What the three Part B services share besides the connection: their broker/store settings,
// a short memory of dead-lettered messages for the stats endpoint, and how a service starts.
import path from "node:path";
import type { ConsumeMessage } from "amqplib";
import { Type } from "../common/config.js";
import { connectRabbit, consume, type Consumer, type ConsumerOptions, type Log, type RabbitLink } from "./connection.js";

/** Env settings of every Part B service (the lab passes AMQP_URL and DATA_DIR). */
export const rabbitEnv = {
  AMQP_URL: Type.String({ default: "amqp://guest:guest@127.0.0.1:5672" }),
  /** Where the service keeps its durable store (one sub-folder per service). */
  DATA_DIR: Type.String({ default: path.resolve(".lab", "data", "partB") }),
  /** How long a publish waits for the broker's confirm. */
  CONFIRM_TIMEOUT_MS: Type.Integer({ default: 5000, minimum: 1 }),
  /** Unacked messages the service's consumer may hold (10 left it idle 60 % of the time, waiting). */
  PREFETCH: Type.Integer({ default: 100, minimum: 1, maximum: 1000 }),
};

/** The settings of rabbitEnv, as loaded. */
export interface RabbitSettings {
  AMQP_URL: string;
  CONFIRM_TIMEOUT_MS: number;
  PREFETCH: number;
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
    this.notes.push({ at: new Date().toISOString(), message_id: msg.properties.messageId, reason, body: msg.content.toString("utf8").slice(0, 200) });
    if (this.notes.length > this.keep) this.notes.shift();
  }

  recent(): DeadLetterNote[] {
    return [...this.notes];
  }
}

/**
 * The connection of a Part B service and its one consumer: on every (re)connection it consumes
 * `queue` again; every dead-lettered message is counted and noted for the stats endpoint.
 * `close` stops consuming, then closes the connection.
 */
export async function connectAndConsume(
  settings: RabbitSettings,
  opts: { log: Log; queue: string; handle: ConsumerOptions["handle"]; stats: { dead_lettered: number }; deadLetters: DeadLetterLog },
): Promise<{ link: RabbitLink; close: () => Promise<void> }> {
  let consumer: Consumer | undefined;
  const link = await connectRabbit({
    url: settings.AMQP_URL,
    log: opts.log,
    confirmTimeoutMs: settings.CONFIRM_TIMEOUT_MS,
    onConnect: async (model) => {
      consumer = await consume(model, {
        queue: opts.queue,
        prefetch: settings.PREFETCH,
        log: opts.log,
        handle: opts.handle,
        onDeadLetter: (msg, reason) => {
          opts.stats.dead_lettered++;
          opts.deadLetters.add(msg, reason);
        },
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
