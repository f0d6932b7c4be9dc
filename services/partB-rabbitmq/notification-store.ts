// NotificationService's durable state: who was notified about which order, and when. It is what
// makes "once per order" hold across redeliveries and restarts.
import { durably, openStore, type Database, type RootDatabase } from "../common/store.js";
import type { UserNotified } from "./events.js";

export interface NotificationRecord {
  order_id: string;
  /** The UserNotified event sent on; a redelivery before it went out sends the same one. */
  event: UserNotified;
  /** Has the broker confirmed the UserNotified event? */
  published: boolean;
}

export class NotificationStore {
  private constructor(
    private readonly root: RootDatabase,
    private readonly notified: Database<NotificationRecord, string>,
  ) {}

  static open(dir: string): NotificationStore {
    const root = openStore(dir);
    return new NotificationStore(root, root.openDB({ name: "notified" }));
  }

  get(orderId: string): NotificationRecord | undefined {
    return this.notified.get(orderId);
  }

  /** A batch of sent confirmations remembered in ONE durable transaction; per event, the record that counts. */
  rememberAll(events: UserNotified[]): Promise<{ first: boolean; record: NotificationRecord }[]> {
    if (events.length === 0) return Promise.resolve([]);
    return durably(this.root, () => {
      const fresh = new Map<string, NotificationRecord>();
      return events.map((event) => {
        const earlier = fresh.get(event.order_id) ?? this.notified.get(event.order_id);
        if (earlier) return { first: false, record: earlier };
        const record: NotificationRecord = { order_id: event.order_id, event, published: false };
        fresh.set(event.order_id, record);
        void this.notified.put(event.order_id, record);
        return { first: true, record };
      });
    });
  }

  /** The broker confirmed these UserNotified events: one transaction for the batch. */
  markPublishedAll(orderIds: string[]): Promise<void> {
    if (orderIds.length === 0) return Promise.resolve();
    return durably(this.root, () => {
      for (const id of orderIds) {
        const record = this.notified.get(id);
        if (record && !record.published) void this.notified.put(id, { ...record, published: true });
      }
    });
  }

  count(): number {
    return this.notified.getCount();
  }

  /** Every placed → notified time on record (ms). */
  latencies(): number[] {
    const out: number[] = [];
    for (const { value } of this.notified.getRange())
      if (value.event.placed_to_notified_ms !== undefined) out.push(value.event.placed_to_notified_ms);
    return out;
  }

  close(): Promise<void> {
    return this.root.close();
  }
}
