// InventoryService's durable state: the stock per sku, and every OrderPlaced message id it has
// processed with the answer it gave. Both change in the same transaction, so after a crash the
// stock and the processed ids always agree: a message is either fully reserved and remembered,
// or neither (and the broker redelivers it, since it was not acked).
import { durably, openStore, type Database, type RootDatabase } from "../common/store.js";
import { newEventId } from "../common/ids.js";
import type { InventoryEvent, OrderPlaced } from "./events.js";
import { decideReservation, type Decision, type Stock } from "./reserve.js";

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

/** A batch in its transaction: the stock as it goes, the skus it changed, the ids it has answered. */
interface Batch {
  stock: Stock;
  changed: Set<string>;
  now: string;
  fresh: Map<string, ProcessedRecord>;
}

/** The event a message is answered with: reserved, or failed with the reason. */
function outcomeOf(decision: Decision, order: OrderPlaced, messageId: string, now: string): InventoryEvent {
  const base = {
    event_id: newEventId(),
    order_id: order.order_id,
    user_id: order.user_id,
    items: order.items,
    placed_at: order.timestamp,
    caused_by: messageId,
  };
  return decision.ok
    ? { event_type: "InventoryReserved", ...base, reserved_at: now }
    : { event_type: "InventoryFailed", ...base, failed_at: now, reason: decision.reason };
}

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
      const batch: Batch = { stock: this.stock(), changed: new Set(), now: new Date().toISOString(), fresh: new Map() };
      const results = messages.map(({ messageId, order }) => this.reserveOne(batch, messageId, order));
      for (const sku of batch.changed) void this.stockDb.put(sku, batch.stock[sku]);
      return results;
    });
  }

  /** One message of a batch, inside the batch's transaction. */
  private reserveOne(batch: Batch, messageId: string, order: OrderPlaced): ReserveResult {
    if (this.idempotent) {
      // #region safeguard:idempotent-consumer
      // In the same transaction as the stock it guards: seen before (in this batch or any earlier one)?
      const mine = batch.fresh.get(messageId);
      if (mine) return { duplicate: true, record: mine, inBatch: true };
      const earlier = this.processedDb.get(messageId);
      if (earlier) return { duplicate: true, record: earlier };
      // #endregion
    }
    const decision = decideReservation(batch.stock, order.items);
    const outcome = outcomeOf(decision, order, messageId, batch.now);
    if (decision.ok) {
      batch.stock = decision.after;
      for (const item of order.items) batch.changed.add(item.sku);
    }
    const record: ProcessedRecord = {
      message_id: messageId,
      order_id: order.order_id,
      outcome,
      published: false,
      processed_at: batch.now,
    };
    batch.fresh.set(messageId, record);
    void this.processedDb.put(messageId, record);
    return { duplicate: false, record };
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
