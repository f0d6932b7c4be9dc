// InventoryService's durable state: the stock per sku, and every OrderPlaced message id it has
// processed with the answer it gave. Both change in the same transaction, so after a crash the
// stock and the processed ids always agree: a message is either fully reserved and remembered,
// or neither (and the broker redelivers it, since it was not acked).
import { durably, openStore, type Database, type RootDatabase } from "../common/store.js";
import { newEventId } from "../common/ids.js";
import type { InventoryEvent, OrderPlaced } from "./events.js";
import { decideReservation, type Stock } from "./reserve.js";

export interface ProcessedRecord {
  message_id: string;
  order_id: string;
  /** The event this message was answered with; a redelivery before it went out sends the same one. */
  outcome: InventoryEvent;
  /** Has the broker confirmed the outcome event? */
  published: boolean;
  processed_at: string;
}

export type ReserveResult =
  { duplicate: false; record: ProcessedRecord } | { duplicate: true; record: ProcessedRecord; inBatch?: boolean };

export class InventoryStore {
  private constructor(
    private readonly root: RootDatabase,
    private readonly stockDb: Database<number, string>,
    private readonly processedDb: Database<ProcessedRecord, string>,
    /** Check processed ids before reserving (the `idempotent-consumer` safeguard; false only to show what it prevents). */
    private readonly idempotent: boolean,
  ) {}

  static async open(dir: string, initialStock: Stock, opts = { idempotent: true }): Promise<InventoryStore> {
    const root = openStore(dir);
    const store = new InventoryStore(
      root,
      root.openDB({ name: "stock" }),
      root.openDB({ name: "processed" }),
      opts.idempotent,
    );
    if (store.stockDb.getCount() === 0) await store.setStock(initialStock); // first start only
    return store;
  }

  stock(): Stock {
    const levels: Stock = {};
    for (const { key, value } of this.stockDb.getRange()) levels[key] = value;
    return levels;
  }

  processed(messageId: string): ProcessedRecord | undefined {
    return this.processedDb.get(messageId);
  }

  processedCount(): number {
    return this.processedDb.getCount();
  }

  /**
   * A batch: every message reserved (or recognised) in order, the stock taken and every new id
   * remembered with its answer, all in ONE durable transaction — the whole batch or none of it.
   * The same message id twice in the batch is one reservation; the copy comes back as a
   * duplicate with `inBatch`.
   */
  reserveAll(messages: { messageId: string; order: OrderPlaced }[]): Promise<ReserveResult[]> {
    return durably(this.root, (): ReserveResult[] => {
      let stock = this.stock();
      const changed = new Set<string>();
      const now = new Date().toISOString();
      const fresh = new Map<string, ProcessedRecord>();
      const results = messages.map(({ messageId, order }): ReserveResult => {
        if (this.idempotent) {
          // #region safeguard:idempotent-consumer
          // In the same transaction as the stock it guards: seen before (in this batch or any earlier one)?
          const mine = fresh.get(messageId);
          if (mine) return { duplicate: true, record: mine, inBatch: true };
          const earlier = this.processedDb.get(messageId);
          if (earlier) return { duplicate: true, record: earlier };
          // #endregion
        }
        const decision = decideReservation(stock, order.items);
        const base = {
          event_id: newEventId(),
          order_id: order.order_id,
          user_id: order.user_id,
          items: order.items,
          placed_at: order.timestamp,
          caused_by: messageId,
        };
        const outcome: InventoryEvent = decision.ok
          ? { event_type: "InventoryReserved", ...base, reserved_at: now }
          : { event_type: "InventoryFailed", ...base, failed_at: now, reason: decision.reason };
        if (decision.ok) {
          stock = decision.after;
          for (const item of order.items) changed.add(item.sku);
        }
        const record: ProcessedRecord = {
          message_id: messageId,
          order_id: order.order_id,
          outcome,
          published: false,
          processed_at: now,
        };
        fresh.set(messageId, record);
        void this.processedDb.put(messageId, record);
        return { duplicate: false, record };
      });
      for (const sku of changed) void this.stockDb.put(sku, stock[sku]);
      return results;
    });
  }

  /** The broker confirmed these answers: one transaction for the batch. */
  markPublishedAll(messageIds: string[]): Promise<void> {
    if (messageIds.length === 0) return Promise.resolve();
    return durably(this.root, () => {
      for (const id of messageIds) {
        const record = this.processedDb.get(id);
        if (record && !record.published) void this.processedDb.put(id, { ...record, published: true });
      }
    });
  }

  /** Set stock levels (admin: restock before an experiment). Skus not named keep their level. */
  setStock(levels: Stock): Promise<void> {
    return durably(this.root, () => {
      for (const [sku, qty] of Object.entries(levels)) void this.stockDb.put(sku, qty);
    });
  }

  close(): Promise<void> {
    return this.root.close();
  }
}
