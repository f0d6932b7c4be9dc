// OrderService's durable state: every order with where it is, and an outbox of the orders whose
// OrderPlaced the broker has not confirmed yet. An order and its outbox entry are written in one
// transaction, so an accepted order is never lost: if the broker is down, or the service dies
// before the confirm, the relay publishes it later (inventory ignores a second copy).
import { durably, openStore, type Database, type RootDatabase } from "../common/store.js";
import type { Item, OrderState, OrderStatusEvent } from "./events.js";

export interface OrderRecord {
  order_id: string;
  /** Id of its OrderPlaced event (the AMQP message-id the inventory deduplicates on). */
  event_id: string;
  user_id: string;
  restaurant_id?: string;
  items: Item[];
  status: OrderState;
  /** Why it failed (InventoryFailed's reason). */
  reason?: string;
  placed_at: string;
  /** When the broker confirmed the OrderPlaced; absent while it waits in the outbox. */
  published_at?: string;
  reserved_at?: string;
  failed_at?: string;
  notified_at?: string;
  placed_to_notified_ms?: number;
}

/** How far along each state is; an order only moves forward, so late or repeated events change nothing. */
const RANK: Record<OrderState, number> = { PLACED: 0, RESERVED: 1, CONFIRMED: 2, FAILED: 2 };

/** The order after an event, or undefined when the event does not move it (duplicate, late, or contradicting a final state). */
export function advance(order: OrderRecord, e: OrderStatusEvent): OrderRecord | undefined {
  const to: OrderState =
    e.event_type === "InventoryReserved" ? "RESERVED" : e.event_type === "InventoryFailed" ? "FAILED" : "CONFIRMED";
  if (RANK[to] <= RANK[order.status]) return undefined;
  switch (e.event_type) {
    case "InventoryReserved":
      return { ...order, status: to, reserved_at: e.reserved_at };
    case "InventoryFailed":
      return { ...order, status: to, failed_at: e.failed_at, reason: e.reason };
    case "UserNotified":
      return { ...order, status: to, notified_at: e.notified_at, placed_to_notified_ms: e.placed_to_notified_ms };
  }
}

export type ApplyResult = { known: false } | { known: true; from: OrderState; order: OrderRecord; changed: boolean };

export class OrderStore {
  /**
   * Orders per state, counted once at open and kept up to date after each commit (this service
   * is the store's only writer), so GET /orders?limit=0 and /health cost nothing however many
   * orders there are. Reading every order for a count made each poll of a script slower, and
   * the service with it.
   */
  private readonly counts: Record<OrderState, number> = { PLACED: 0, RESERVED: 0, CONFIRMED: 0, FAILED: 0 };

  private constructor(
    private readonly root: RootDatabase,
    private readonly orders: Database<OrderRecord, string>,
    /** Key `placed_at order_id` (so oldest first), value the order id. */
    private readonly outbox: Database<string, string>,
  ) {
    for (const { value } of orders.getRange()) this.counts[value.status]++;
  }

  static open(dir: string): OrderStore {
    const root = openStore(dir);
    return new OrderStore(root, root.openDB({ name: "orders" }), root.openDB({ name: "outbox" }));
  }

  /**
   * Store a new order and put it in the outbox; resolves once both are on disk, with false (and
   * nothing written) if another order already has its id.
   */
  async place(order: OrderRecord): Promise<boolean> {
    const placed = await durably(this.root, () => {
      if (this.orders.doesExist(order.order_id)) return false;
      // lmdb: a put/remove inside a transaction is part of it, and durably() awaits the commit: its own promise adds nothing.
      void this.orders.put(order.order_id, order);
      void this.outbox.put(outboxKey(order), order.order_id);
      return true;
    });
    if (placed) this.counts[order.status]++;
    return placed;
  }

  /** A batch of confirmed OrderPlaced: all out of the outbox in one transaction. */
  markPublishedAll(confirmed: { order: OrderRecord; at: string }[]): Promise<void> {
    if (confirmed.length === 0) return Promise.resolve();
    return durably(this.root, () => {
      for (const { order, at } of confirmed) {
        const current = this.orders.get(order.order_id);
        if (current && !current.published_at) void this.orders.put(order.order_id, { ...current, published_at: at });
        void this.outbox.remove(outboxKey(order));
      }
    });
  }

  /** Orders still waiting for a confirmed publish, oldest first. */
  unpublished(limit: number): OrderRecord[] {
    const out: OrderRecord[] = [];
    for (const id of this.outbox.getRange({ limit }).map((e) => e.value)) {
      const order = this.orders.get(id);
      if (order) out.push(order);
    }
    return out;
  }

  unpublishedCount(): number {
    return this.outbox.getCount();
  }

  get(orderId: string): OrderRecord | undefined {
    return this.orders.get(orderId);
  }

  /** Newest first, optionally only one state; with the count per state (limit 0: only the counts). */
  list(opts: { status?: OrderState; limit: number }): {
    total: number;
    by_status: Record<OrderState, number>;
    orders: OrderRecord[];
  } {
    const by_status = { ...this.counts };
    const total = Object.values(by_status).reduce((a, b) => a + b, 0);
    const matching: OrderRecord[] = [];
    if (opts.limit > 0) {
      for (const { value } of this.orders.getRange())
        if (!opts.status || value.status === opts.status) matching.push(value);
      matching.sort((a, b) => (a.placed_at < b.placed_at ? 1 : a.placed_at > b.placed_at ? -1 : 0));
    }
    return { total, by_status, orders: matching.slice(0, opts.limit) };
  }

  /** Move an order along with an event, durably: a batch of one. */
  async apply(e: OrderStatusEvent): Promise<ApplyResult> {
    return (await this.applyAll([e]))[0];
  }

  /** A batch of events applied in order, in one durable transaction (an order moved twice in the batch moves twice). */
  async applyAll(events: OrderStatusEvent[]): Promise<ApplyResult[]> {
    const results = await durably(this.root, (): ApplyResult[] => {
      const touched = new Map<string, OrderRecord>();
      const out = events.map((e): ApplyResult => {
        const order = touched.get(e.order_id) ?? this.orders.get(e.order_id);
        if (!order) return { known: false };
        const next = advance(order, e);
        if (next) touched.set(order.order_id, next);
        return { known: true, from: order.status, order: next ?? order, changed: next !== undefined };
      });
      for (const [id, order] of touched) void this.orders.put(id, order);
      return out;
    });
    for (const r of results) {
      if (r.known && r.changed) {
        this.counts[r.from]--;
        this.counts[r.order.status]++;
      }
    }
    return results;
  }

  close(): Promise<void> {
    return this.root.close();
  }
}

const outboxKey = (o: OrderRecord): string => `${o.placed_at} ${o.order_id}`;
