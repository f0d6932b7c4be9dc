// An idempotent producer that survives a broker restart: one send at a time, and a fresh
// producer (a new producer id) when Kafka no longer accepts the old one's sequence numbers.
//
// Kafka deduplicates an idempotent producer's retries by (producer id, partition, sequence).
// kafkajs 2.2.4 numbers a request's batches, and when the request fails (the connection closed
// because the broker stopped) it takes the numbers back and retries later. If the broker had
// written the batch before closing, and another send() of the same producer took those numbers
// back first, the broker sees either:
//   - a batch with the same first and last sequence as one it wrote: a "duplicate", answered as
//     a success with the old batch's offset — the other send's events are silently NOT written;
//   - any other batch: OUT_OF_ORDER_SEQUENCE_NUMBER, which kafkajs does not retry, and every later
//     send to that partition fails the same way (the client's numbers stay behind the broker's).
// Both need two sends on one producer at once (kafkajs issues #598, #1005). So sends here wait
// for each other: a retry after a lost acknowledgement then always re-sends the very batch the
// broker may hold, which it recognises. That costs nothing measurable on the lab's single
// broker: kafkajs already holds one lock per broker for the whole produce request.
//
// A producer-state error can still come from the broker itself (its producer state expired, or
// lost in an unclean shutdown: UNKNOWN_PRODUCER_ID, INVALID_PRODUCER_EPOCH). No retry with the
// old producer id can succeed then; a new producer id starts its sequences at 0 and can. The send
// is repeated with it: events are keyed and carry their eventId, so a batch that was partly
// written before the error appears twice in the log and is counted once (events.ts).
import type { Producer } from "kafkajs";
import { producerReadiness } from "./kafka.js";

/** The broker's answers that mean this producer id's sequence state is unusable (kafkajs: not retriable). */
export const PRODUCER_STATE_ERRORS = ["OUT_OF_ORDER_SEQUENCE_NUMBER", "UNKNOWN_PRODUCER_ID", "INVALID_PRODUCER_EPOCH"];

/** The producer-state error type in `err` or its causes (kafkajs may wrap it), else null. */
export function producerStateError(err: unknown): string | null {
  for (let e = err as { type?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.type === "string" && PRODUCER_STATE_ERRORS.includes(e.type)) return e.type;
  }
  return null;
}

interface Logger {
  warn(obj: object, msg: string): void;
}

export class RenewableProducer {
  /** How many fresh producers one send may start before its error is taken as final. */
  static readonly MAX_RENEWALS_PER_SEND = 3;
  /** Fresh producers started since the service started (for /health). */
  restarts = 0;
  private producer!: Producer;
  private notReadyOf!: () => string | null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly create: () => Producer,
    private readonly log: Logger,
    private readonly what = "events",
    /**
     * A send still waiting for the ones before it after this long is dropped, not sent: its caller
     * has given up (the HTTP producer answered 503 at PRODUCE_TIMEOUT_MS). Without it, the sends
     * queued during an outage went out one by one once Kafka was back, and new orders waited behind
     * them: 5-10 s more of 503s after a 10-25 s outage (measured in C-broker-restart). Unset: every send waits.
     */
    private readonly maxQueuedMs?: number,
  ) {
    this.use(create());
  }

  private use(producer: Producer): void {
    this.producer = producer;
    this.notReadyOf = producerReadiness(producer); // attached before connect, as it must be
  }

  /** For /ready: null while the current producer is connected. */
  notReady = (): string | null => this.notReadyOf();

  connect(): Promise<void> {
    return this.producer.connect();
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  send: Producer["send"] = (record) => this.serially((p) => p.send(record));
  sendBatch: Producer["sendBatch"] = (batch) => this.serially((p) => p.sendBatch(batch));

  /** `work` alone on the producer (after the sends before it settle), again on a fresh one if Kafka rejects the old one's state. */
  private serially<T>(work: (p: Producer) => Promise<T>): Promise<T> {
    const queuedAt = Date.now();
    const run = this.queue.then(() => {
      const waited = Date.now() - queuedAt;
      if (this.maxQueuedMs !== undefined && waited > this.maxQueuedMs)
        throw new Error(`not sent: waited ${waited} ms behind earlier sends that Kafka had not acknowledged`);
      return this.withRenewal(work);
    });
    this.queue = run.catch(() => {});
    return run;
  }

  private async withRenewal<T>(work: (p: Producer) => Promise<T>): Promise<T> {
    for (let renewals = 0; ; renewals++) {
      try {
        if (this.notReadyOf() !== null) await this.producer.connect(); // a fresh one whose connect failed
        return await work(this.producer);
      } catch (err) {
        const type = producerStateError(err);
        if (type === null || renewals === RenewableProducer.MAX_RENEWALS_PER_SEND) throw err;
        await this.renew(type);
      }
    }
  }

  private async renew(type: string): Promise<void> {
    const old = this.producer;
    this.use(this.create());
    this.restarts++;
    this.log.warn(
      { kafka_error: type, producer_restarts: this.restarts },
      `Kafka rejected the producer's sequence state (${type}); starting a fresh producer (new producer id) and sending the ${this.what} again`,
    );
    await old.disconnect().catch(() => {}); // nothing else uses it: sends are serial
    await this.producer.connect(); // fails while Kafka is unreachable: the send fails, the next one connects
  }
}
