// The lab's own tap on a Part B broker: what an implementation puts on the wire, seen from
// outside. One exclusive, auto-delete queue with a server-chosen name is bound to the exchange
// OrderPlaced goes to (its routing key) and to the exchange of the inventory events (every key),
// so the lab sees each OrderPlaced and each InventoryReserved/InventoryFailed as they pass. It is
// deleted by `close()`, and by the broker anyway if the lab dies (exclusive: it lives with the
// connection). The implementation's own queues are only looked at: a passive declare gives a
// queue's depth and consumers; nothing is purged, consumed or declared.
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, type Options } from "amqplib";

/** Where the tap listens: the target's broker section. */
export interface TapBindings {
  amqp_url: string;
  /** OrderPlaced's exchange and routing key. */
  exchange: string;
  routing_key: string;
  /** InventoryReserved/InventoryFailed's exchange, if the target names it. */
  inventory_exchange?: string;
}

/**
 * The keys the tap binds the inventory exchange with: `#` takes every key of a topic exchange
 * (a fanout ignores keys); a direct exchange only routes exact keys, so the contract's two as well.
 * A message matching several bindings reaches the tap once (RabbitMQ routes one copy per queue).
 */
export const INVENTORY_KEYS = ["#", "inventory.reserved", "inventory.failed"];

/** One message seen on the wire. */
export interface Tapped {
  /** Milliseconds since the tap opened. */
  t_ms: number;
  exchange: string;
  routingKey: string;
  properties: ConsumeMessage["properties"];
  content: Buffer;
  /** The body as JSON, or undefined when it is not JSON. */
  body?: Record<string, unknown>;
  /** "OrderPlaced", "InventoryReserved", "InventoryFailed" — from event_type, else the routing key; or "other". */
  kind: "OrderPlaced" | "InventoryReserved" | "InventoryFailed" | "other";
}

export const isInventoryEvent = (m: Tapped): boolean => m.kind === "InventoryReserved" || m.kind === "InventoryFailed";

function kindOf(exchange: string, routingKey: string, body: Record<string, unknown> | undefined, b: TapBindings) {
  const type = typeof body?.event_type === "string" ? body.event_type : typeof body?.type === "string" ? body.type : "";
  if (type === "OrderPlaced" || type === "InventoryReserved" || type === "InventoryFailed") return type;
  if (exchange === b.inventory_exchange) {
    if (/reserv/i.test(routingKey)) return "InventoryReserved";
    if (/fail/i.test(routingKey)) return "InventoryFailed";
  }
  if (exchange === b.exchange && routingKey === b.routing_key) return "OrderPlaced";
  return "other";
}

function parse(content: Buffer): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(content.toString("utf8"));
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export class WireTap {
  readonly seen: Tapped[] = [];
  /** performance.now() when the tap opened: `t_ms` counts from here. */
  readonly openedAt = performance.now();
  private looker?: Channel;

  private constructor(
    private readonly conn: ChannelModel,
    private readonly ch: ConfirmChannel,
    /** The tap's own queue (server-named). */
    readonly queue: string,
    readonly bindings: TapBindings,
  ) {}

  /** Connect, check that the target's exchanges exist (never declare them), bind the tap and start reading. */
  static async open(b: TapBindings): Promise<WireTap> {
    const conn = await amqp.connect(b.amqp_url).catch((err: Error) => {
      throw new Error(`cannot reach the target's broker ${redact(b.amqp_url)}: ${err.message}`);
    });
    conn.on("error", () => {}); // a lost connection is reported by the next call
    try {
      const ch = await conn.createConfirmChannel();
      ch.on("error", () => {});
      for (const ex of [b.exchange, b.inventory_exchange].filter((e): e is string => !!e))
        await exchangeExists(conn, ex, b.amqp_url);
      const { queue } = await ch.assertQueue("", { exclusive: true, autoDelete: true, durable: false });
      await ch.bindQueue(queue, b.exchange, b.routing_key);
      for (const key of b.inventory_exchange ? INVENTORY_KEYS : [])
        await ch.bindQueue(queue, b.inventory_exchange!, key);
      const tap = new WireTap(conn, ch, queue, b);
      await ch.consume(queue, (m) => m && tap.record(m), { noAck: true, exclusive: true });
      return tap;
    } catch (err) {
      await conn.close().catch(() => {});
      throw err;
    }
  }

  private record(m: ConsumeMessage): void {
    const body = parse(m.content);
    const { exchange, routingKey } = m.fields;
    this.seen.push({
      t_ms: Math.round(performance.now() - this.openedAt),
      exchange,
      routingKey,
      properties: m.properties,
      content: m.content,
      body,
      kind: kindOf(exchange, routingKey, body, this.bindings),
    });
  }

  /** The OrderPlaced seen for an order (by its order_id), if any. */
  orderPlaced(orderId: string): Tapped | undefined {
    return this.seen.find((m) => m.kind === "OrderPlaced" && m.body?.order_id === orderId);
  }

  /** Every InventoryReserved/InventoryFailed seen for an order. */
  inventoryEvents(orderId: string): Tapped[] {
    return this.seen.filter((m) => isInventoryEvent(m) && m.body?.order_id === orderId);
  }

  /** Wait until `check` holds on what was seen, or `timeoutMs` passes; true if it held. */
  async until(check: (seen: Tapped[]) => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!check(this.seen)) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
    return true;
  }

  /**
   * A queue of the implementation's: messages ready and consumers, by a passive declare (it
   * changes nothing). A queue that does not exist is an error that says so.
   */
  async depth(name: string): Promise<{ messages: number; consumers: number }> {
    this.looker ??= await this.lookerChannel();
    try {
      const q = await this.looker.checkQueue(name);
      return { messages: q.messageCount, consumers: q.consumerCount };
    } catch (err) {
      this.looker = undefined; // a 404 closes the channel: the next look opens another
      throw new Error(`queue ${name} on the target's broker: ${(err as Error).message}`);
    }
  }

  private async lookerChannel(): Promise<Channel> {
    const ch = await this.conn.createChannel();
    ch.on("error", () => {});
    return ch;
  }

  /** Publish on the target's broker and wait for its confirm (a duplicate or a poison message, by hand). */
  publish(exchange: string, routingKey: string, content: Buffer, props: Options.Publish = {}): Promise<void> {
    return new Promise((resolve, reject) =>
      this.ch.publish(exchange, routingKey, content, props, (err) =>
        err ? reject(new Error(`the broker refused the message on ${exchange}`)) : resolve(),
      ),
    );
  }

  /** Delete the tap's queue and disconnect: nothing of the lab's is left on the broker. */
  async close(): Promise<void> {
    await this.ch.deleteQueue(this.queue).catch(() => {});
    await this.conn.close().catch(() => {});
  }
}

/** Does an exchange exist? A passive check on a channel of its own (a 404 closes that channel). */
async function exchangeExists(conn: ChannelModel, name: string, url: string): Promise<void> {
  const ch = await conn.createChannel();
  ch.on("error", () => {});
  try {
    await ch.checkExchange(name);
    await ch.close();
  } catch {
    throw new Error(`the target's exchange ${name} does not exist on ${redact(url)}: is its Part B running?`);
  }
}

/** An AMQP URL without its password, for messages. */
export const redact = (url: string): string => url.replace(/\/\/([^:/@]+):[^@/]*@/, "//$1:***@");

/**
 * The properties of a copy that is the same message: everything the broker delivered (message id,
 * type, headers, content type, persistence, timestamp…), except `userId`, which the broker checks
 * against the connection's user, and the obsolete `clusterId`.
 */
export function sameProperties(p: ConsumeMessage["properties"]): Options.Publish {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) if (v !== undefined && k !== "userId" && k !== "clusterId") out[k] = v;
  return out;
}
