// The order service's outbox while it runs: its store, its link to the broker, and which orders
// someone is publishing right now. An order is placed (order and outbox entry in one
// transaction), published, and leaves the outbox once the broker has taken it; the relay
// publishes whatever is still there (the broker was down, or the service died before the
// confirm). One "claimed" set answers "is someone already publishing this order?": an order is
// claimed from before it is stored until its outbox entry is cleared, by its request or the relay.
import type { Log, RabbitLink } from "./connection.js";
import type { OrderRecord, OrderStore } from "./order-store.js";

/**
 * Send the OrderPlaced of these orders: true once the broker has taken every one (the order
 * service decides what "taken" means: confirmed, or written to the socket with `confirms` off),
 * false if they stay in the outbox for the relay.
 */
export type SendOrders = (link: RabbitLink, orders: OrderRecord[]) => Promise<boolean>;

export class Outbox {
  readonly stats = { placed: 0, published_at_once: 0, published_later: 0, publish_deferred: 0 };
  private link?: RabbitLink;
  private readonly claimed = new Set<string>();
  /** Outbox entries of published orders being cleared, off the request's path. */
  private readonly clearing = new Set<Promise<void>>();
  private readonly clearer: GroupWriter<{ order: OrderRecord; at: string }>;
  private relaying = false;
  private relayTimer?: NodeJS.Timeout;

  constructor(
    readonly orders: OrderStore,
    private readonly send: SendOrders,
    private readonly opts: { batchMax: number; relayIntervalMs: number; log: Log },
  ) {
    // The entries of orders published meanwhile share one transaction.
    this.clearer = new GroupWriter((done) => orders.markPublishedAll(done), opts.batchMax);
  }

  get broker(): RabbitLink | undefined {
    return this.link;
  }

  /** Connected: the relay starts, orders accepted while the broker was down, or before a crash, go out first. */
  async start(link: RabbitLink): Promise<void> {
    this.link = link;
    const relay = () => void this.relay().catch((err) => this.opts.log.error({ err }, "outbox relay failed"));
    this.relayTimer = setInterval(relay, this.opts.relayIntervalMs);
    await this.relay();
  }

  async stop(): Promise<void> {
    clearInterval(this.relayTimer);
    await Promise.allSettled(this.clearing);
  }

  /**
   * Store a new order with its outbox entry, then publish it: true once the broker took it, false
   * if it stays in the outbox for the relay, undefined if its id is taken (nothing written). A
   * store failure throws: nothing was placed.
   */
  async place(order: OrderRecord): Promise<boolean | undefined> {
    const id = order.order_id;
    if (this.claimed.has(id)) return undefined; // an order with this id is being published
    this.claimed.add(id);
    let published = false;
    try {
      // 1. On disk first: from here on the order cannot be lost.
      if (!(await this.orders.place(order))) return undefined;
      this.stats.placed++;
      // 2. Published, or left in the outbox for the relay.
      published = await this.send(this.link!, [order]);
    } finally {
      if (!published) this.claimed.delete(id);
    }
    this.stats[published ? "published_at_once" : "publish_deferred"]++;
    if (published) this.clear([order]);
    return published;
  }

  /**
   * The client needs to hear no more than "published". The outbox entry is cleared after the
   * answer, off the request's path (one disk commit less in the 202's latency); meanwhile the
   * order stays claimed. If clearing fails, the relay publishes it again, which inventory ignores.
   */
  private clear(orders: OrderRecord[]): void {
    const at = new Date().toISOString();
    for (const order of orders) {
      const done: Promise<void> = this.clearer
        .add({ order, at })
        .catch((err) => this.opts.log.error({ err, order_id: order.order_id }, "could not clear the outbox entry"))
        .finally(() => {
          this.claimed.delete(order.order_id);
          this.clearing.delete(done);
        });
      this.clearing.add(done);
    }
  }

  /**
   * The relay: every order still in the outbox and claimed by no one, oldest first, BATCH_MAX at
   * a time (published together with one confirm wait). A batch the broker does not take stays in
   * the outbox for the next round (inventory ignores the copies of any that did get through).
   */
  async relay(): Promise<void> {
    const link = this.link;
    if (this.relaying || !link?.connected || this.orders.unpublishedCount() === 0) return;
    this.relaying = true;
    try {
      const todo = this.orders.unpublished(500).filter((o) => !this.claimed.has(o.order_id));
      for (let i = 0; i < todo.length; i += this.opts.batchMax) {
        const batch = todo.slice(i, i + this.opts.batchMax);
        for (const o of batch) this.claimed.add(o.order_id);
        let sent = false;
        try {
          sent = await this.send(link, batch);
        } finally {
          if (!sent) for (const o of batch) this.claimed.delete(o.order_id);
        }
        if (!sent) return; // the broker is gone again: next round
        this.stats.published_later += batch.length;
        for (const o of batch) this.opts.log.info({ order_id: o.order_id }, "outbox: OrderPlaced published");
        this.clear(batch);
      }
    } finally {
      this.relaying = false;
    }
  }
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
