// What a Part B service counts for /health besides its own business: how full its consumer's
// batches were, and the last few messages it sent to a dead-letter queue and why.
import type { ConsumeMessage } from "amqplib";

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
  report(s: { BATCH_MAX: number; BATCH_WAIT_MS: number }): Record<string, number> {
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
