// What analytics knows, computed from the events alone. Every number depends only on the set
// of events read, never on when or in which order they were read: minutes come from each
// event's own `createdAt`, and an event seen twice (same eventId) counts once. So reading the
// same log again (a replay, or a restart) gives the same metrics. Orders and inventory answers
// are told apart by kind as well as by eventId: an answer that reuses an order's eventId must
// not hide it, or which of the two counts would depend on which topic was read first. (An
// eventId reused for different content of the same kind: the first read counts. Kafka keeps one
// key's events in order, so a client's retry under the same order id counts the same every time.)
import { EventIdSet } from "./event-id-set.js";
import type { LabEvent } from "./events.js";

export interface Metrics {
  total_orders: number;
  /** Reserved + failed. */
  total_reservations: number;
  reserved: number;
  failed_reservations: number;
  /** failed / total_reservations (0 when there are none). */
  failure_rate: number;
  /** "YYYY-MM-DDTHH:MM" (UTC, from the order's createdAt) → orders placed in that minute. */
  orders_per_minute: Record<string, number>;
  /** Orders per minute that had orders (as the seed's report computed it). */
  average_orders_per_minute: number;
  first_order_at: string | null;
  last_order_at: string | null;
  /** Events skipped because their eventId was already counted. */
  duplicates_skipped: number;
  /** Events skipped because they could not be read. */
  unreadable_skipped: number;
}

export type ReplayTrigger = "startup" | "request";

/** Where analytics' reading of the whole log stands (at start, or after POST /replay). */
export interface ReplayState {
  running: boolean;
  trigger: ReplayTrigger | null;
  /** Replays asked for with POST /replay since the service started. */
  requested: number;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  events_read: number;
  /** The log end offsets when the replay started: reaching them means it has read the whole log. */
  target: Record<string, number>;
}

/** The body of analytics' GET /metrics: the metrics, the replay, and the consumer reading them. */
export type AnalyticsMetrics = Metrics & {
  replay: ReplayState;
  consumer: { group: string; state: "stopped" | "joining" | "joined"; assigned: Record<string, number[]> };
  computed_at: string;
};

/** The fields that must be equal after a replay of the same log. */
export const REPLAYABLE_FIELDS = [
  "total_orders",
  "total_reservations",
  "failed_reservations",
  "failure_rate",
  "orders_per_minute",
  "average_orders_per_minute",
] as const;

/**
 * The UTC minute of a timestamp, "YYYY-MM-DDTHH:MM". A timestamp written as toISOString writes
 * it ("2026-01-01T12:34:56.789Z") has its minute decided by its first 16 characters, so each
 * minute is worked out once and remembered: a Date per event was 8 % of a replay's CPU.
 */
export function minuteOf(isoTime: string): string {
  const canonical = isoTime.length === 24 && CANONICAL.test(isoTime);
  const key = isoTime.slice(0, 16);
  const known = canonical ? minutes.get(key) : undefined;
  if (known !== undefined) return known;
  const minute = new Date(isoTime).toISOString().slice(0, 16); // also "…T24:00" → the next day
  if (canonical) {
    if (minutes.size >= 10_000) minutes.clear();
    minutes.set(key, minute);
  }
  return minute;
}
const CANONICAL = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const minutes = new Map<string, string>();

/** The safeguards a view applies (both on unless the lab switches one off to show what it prevents). */
export interface MetricsRules {
  /** An eventId already counted counts no more. */
  dedupe: boolean;
  /** Orders per minute by the event's own createdAt (off: by the time it is read). */
  eventTime: boolean;
}

export class MetricsView {
  /** The eventIds counted, per kind. */
  private seen = { orders: new EventIdSet(), answers: new EventIdSet() };
  private orders = 0;
  private reserved = 0;
  private failed = 0;
  private perMinute = new Map<string, number>();
  private firstOrderAt: string | null = null;
  private lastOrderAt: string | null = null;
  private duplicates = 0;
  private unreadable = 0;

  constructor(private readonly rules: MetricsRules = { dedupe: true, eventTime: true }) {}

  /** Count an event; false when it was a duplicate and changed nothing. */
  apply(event: LabEvent): boolean {
    // #region safeguard:dedupe
    const kind = event.eventType === "OrderPlaced" ? "orders" : "answers";
    if (this.rules.dedupe && !this.seen[kind].add(event.eventId)) {
      this.duplicates++;
      return false; // seen before: a redelivery, a replayed duplicate, a consumer's second answer
    }
    // #endregion
    switch (event.eventType) {
      case "OrderPlaced": {
        this.orders++;
        // #region safeguard:event-time
        // The minute the order was placed, written in the event: reading it again gives the same
        // minute. Off: the minute it is read, which a replay (or a lagging consumer) changes.
        const minute = minuteOf(this.rules.eventTime ? event.createdAt : new Date().toISOString());
        // #endregion
        this.perMinute.set(minute, (this.perMinute.get(minute) ?? 0) + 1);
        if (this.firstOrderAt === null || event.createdAt < this.firstOrderAt) this.firstOrderAt = event.createdAt;
        if (this.lastOrderAt === null || event.createdAt > this.lastOrderAt) this.lastOrderAt = event.createdAt;
        break;
      }
      case "InventoryReserved":
        this.reserved++;
        break;
      case "InventoryFailed":
        this.failed++;
        break;
    }
    return true;
  }

  skipUnreadable(): void {
    this.unreadable++;
  }

  metrics(): Metrics {
    const total = this.reserved + this.failed;
    const minutes = [...this.perMinute.keys()].sort();
    return {
      total_orders: this.orders,
      total_reservations: total,
      reserved: this.reserved,
      failed_reservations: this.failed,
      failure_rate: total === 0 ? 0 : round(this.failed / total, 4),
      orders_per_minute: Object.fromEntries(minutes.map((m) => [m, this.perMinute.get(m)!])),
      average_orders_per_minute: minutes.length === 0 ? 0 : round(this.orders / minutes.length, 2),
      first_order_at: this.firstOrderAt,
      last_order_at: this.lastOrderAt,
      duplicates_skipped: this.duplicates,
      unreadable_skipped: this.unreadable,
    };
  }
}

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** The replayable fields that differ between two metrics, with both values. */
export function differences(before: Metrics, after: Metrics): { field: string; before: unknown; after: unknown }[] {
  return REPLAYABLE_FIELDS.filter((f) => JSON.stringify(before[f]) !== JSON.stringify(after[f])).map((field) => ({
    field,
    before: before[field],
    after: after[field],
  }));
}
