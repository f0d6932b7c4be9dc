// What a Part C implementation puts on the wire, seen by the lab: a consumer group of the lab's
// own (campusfood-tap-<topic>-<random>) on each of the target's topics, starting at the end
// offsets taken when it opens, so it sees exactly what is appended afterwards. Its groups are
// deleted on close; the implementation's own groups and offsets are never touched.
import { TopicTap, type Tapped } from "../faults/kafka-tap.js";
import type { TargetKafka } from "./target.js";

/** One event as seen on the wire: the fields the contract names, when present. */
export interface WireEvent {
  t_s: number;
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  eventType?: string;
  eventId?: string;
  orderId?: string;
  /** The message's bytes, to produce an exact copy (a redelivery). */
  raw: Tapped;
}

export const TAP_GROUP_PREFIX = "campusfood-tap";

const INVENTORY_TYPES = new Set(["InventoryReserved", "InventoryFailed"]);

export class PartCWireTap {
  readonly events: WireEvent[] = [];
  private readonly taps: TopicTap[] = [];
  private readonly t0 = performance.now();

  /** The tap's groups, for a report (and a test that checks they are gone). */
  get groups(): string[] {
    return this.taps.map((t) => t.groupId);
  }

  static async open(wire: TargetKafka): Promise<PartCWireTap> {
    const tap = new PartCWireTap();
    try {
      for (const topic of [wire.topics.orders, wire.topics.inventory_events])
        tap.taps.push(await TopicTap.open(wire.kafka, topic, undefined, (m) => tap.seen(topic, m), TAP_GROUP_PREFIX));
    } catch (err) {
      await tap.close();
      throw err;
    }
    return tap;
  }

  private seen(topic: string, m: Tapped): boolean {
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(m.value?.toString() ?? "") as Record<string, unknown>;
    } catch {
      // not JSON: kept without fields, it counts as nothing the contract names
    }
    const str = (v: unknown) => (typeof v === "string" ? v : undefined);
    this.events.push({
      t_s: this.now(),
      topic,
      partition: m.partition,
      offset: m.offset,
      key: m.key,
      eventType: str(body.eventType),
      eventId: str(body.eventId),
      orderId: str(body.orderId) ?? str(body.order_id),
      raw: m,
    });
    return false; // kept here, not a second time in the TopicTap
  }

  /** Seconds since the tap opened. */
  now(): number {
    return Math.round(performance.now() - this.t0) / 1000;
  }

  orderPlaced(): WireEvent[] {
    return this.events.filter((e) => e.eventType === "OrderPlaced");
  }

  inventoryEvents(): WireEvent[] {
    return this.events.filter((e) => e.eventType !== undefined && INVENTORY_TYPES.has(e.eventType));
  }

  async close(): Promise<void> {
    await Promise.all(this.taps.map((t) => t.close()));
  }
}

/** Per order: how many distinct inventory events answered it. */
export interface Accounting {
  orders: number;
  /** Orders with exactly one answer. */
  one: number;
  /** Orders with no answer: lost. */
  lost: string[];
  /** Orders with more than one distinct answer (different eventIds): duplicated. */
  duplicated: string[];
  /** Copies of an answer already seen (the same eventId again): redeliveries, counted once above. */
  copies: number;
}

/** Match each order to the inventory events that name it (by orderId; distinct answers by eventId). */
export function accountOrders(orderIds: string[], answers: WireEvent[]): Accounting {
  const byOrder = new Map<string, Set<string>>();
  let copies = 0;
  answers.forEach((a, i) => {
    if (!a.orderId) return;
    const ids = byOrder.get(a.orderId) ?? new Set<string>();
    const id = a.eventId ?? `#${i}`; // no eventId: every message is its own answer
    if (ids.has(id)) copies++;
    ids.add(id);
    byOrder.set(a.orderId, ids);
  });
  const unique = [...new Set(orderIds)];
  const lost = unique.filter((o) => !byOrder.has(o));
  const duplicated = unique.filter((o) => (byOrder.get(o)?.size ?? 0) > 1);
  return { orders: unique.length, one: unique.length - lost.length - duplicated.length, lost, duplicated, copies };
}

/** `3 lost (load-000001, …)`: a few names, then how many more. */
export const someOf = (ids: string[], n = 3): string =>
  `${ids.slice(0, n).join(", ")}${ids.length > n ? `, … ${ids.length - n} more` : ""}`;
