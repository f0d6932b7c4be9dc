// The lab's hands on a Part C Kafka, the lab's own or a team's: append raw messages (as a
// checker or a misbehaving client does), read end offsets and a group's lag with an admin
// (nothing of the implementation's is committed or reset), and tap topics with consumer groups
// of the lab's own (campusfood-tap-<topic>-<random>, deleted on close) that start at the end
// offsets taken when they open, so they see exactly what is appended afterwards.
import { Kafka, logLevel, type Admin, type Consumer, type IHeaders } from "kafkajs";
import { waitUntil } from "../../common/wait.js";
import { groupLag, type GroupLag } from "../lag.js";

export const kafkaClient = (brokers: string, clientId = "campusfood-lab"): Kafka =>
  new Kafka({ clientId, brokers: brokers.split(","), logLevel: logLevel.NOTHING, connectionTimeout: 3000 });

export const TAP_GROUP_PREFIX = "campusfood-tap";

export interface RawMessage {
  key?: string | Buffer | null;
  value: string | Buffer | null;
  headers?: IHeaders;
}

const sizeOf = (m: RawMessage): number => (m.value?.length ?? 0) + (m.key?.length ?? 0) + 64;

/**
 * Append messages to a topic (acks = all), in requests of at most ~512 KB: the broker limits a
 * whole batch per partition to 1 MB (message.max.bytes), so a huge message goes alone.
 */
export async function produceRaw(kafka: Kafka, topic: string, messages: RawMessage[], maxBytes = 512 * 1024) {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    let batch: RawMessage[] = [];
    let bytes = 0;
    for (const m of [...messages, null]) {
      if (batch.length && (m === null || bytes + sizeOf(m) > maxBytes)) {
        await producer.send({ topic, acks: -1, messages: batch });
        [batch, bytes] = [[], 0];
      }
      if (m) {
        batch.push(m);
        bytes += sizeOf(m);
      }
    }
  } finally {
    await producer.disconnect();
  }
}

/** Log end offset of every partition of a topic. */
export async function endOffsets(kafka: Kafka, topic: string): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
  } finally {
    await admin.disconnect();
  }
}

export const total = (offsets: Map<number, bigint>): number => [...offsets.values()].reduce((n, o) => n + Number(o), 0);

export interface Tapped {
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/**
 * Every message of a topic from the given offsets on (default: the current end, i.e. what comes
 * next) that `keep` keeps, read by a consumer group of its own that is deleted on close.
 * Survives a broker restart: kafkajs restarts the consumer by itself.
 */
export class TopicTap {
  readonly messages: Tapped[] = [];
  private constructor(
    private readonly kafka: Kafka,
    private readonly consumer: Consumer,
    readonly groupId: string,
  ) {}

  static async open(
    kafka: Kafka,
    topic: string,
    from?: Map<number, bigint>,
    keep: (m: Tapped) => boolean = () => true,
  ): Promise<TopicTap> {
    const start = from ?? (await endOffsets(kafka, topic));
    const groupId = `${TAP_GROUP_PREFIX}-${topic}-${Date.now()}-${Math.random().toString(16).slice(2, 8)}`;
    const consumer = kafka.consumer({
      groupId,
      maxWaitTimeInMs: 200,
      sessionTimeout: 10_000,
      heartbeatInterval: 3_000,
    });
    const tap = new TopicTap(kafka, consumer, groupId);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        if (BigInt(message.offset) < (start.get(partition) ?? 0n)) return;
        const m: Tapped = {
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          value: message.value,
          headers: Object.fromEntries(
            Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(Array.isArray(v) ? v[0] : v)]),
          ),
        };
        if (keep(m)) tap.messages.push(m);
      },
    });
    // Start where asked rather than read the whole log (the filter above stays as a safeguard).
    for (const [partition, offset] of start) consumer.seek({ topic, partition, offset: offset.toString() });
    return tap;
  }

  async close(): Promise<void> {
    await this.consumer.disconnect().catch(() => {});
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      await admin.deleteGroups([this.groupId]); // a one-off group: leave nothing behind
    } catch {
      // the broker is gone or the group already is: nothing to clean
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }
}

/** A Part C Kafka as a target file names it: its topics and its groups. */
export interface PartCKafka {
  kafka: Kafka;
  admin: Admin;
  topics: { orders: string; inventory_events: string };
  groups: { inventory?: string; analytics?: string };
}

/** A Part C Kafka as a target file's broker section names it, with an admin of the lab's. */
export async function openPartCKafka(broker: {
  bootstrap: string;
  topics: PartCKafka["topics"];
  groups?: PartCKafka["groups"];
}): Promise<PartCKafka> {
  const kafka = kafkaClient(broker.bootstrap);
  const admin = kafka.admin();
  await admin.connect();
  return { kafka, admin, topics: broker.topics, groups: broker.groups ?? {} };
}

/** Until `group` has a member (a consumer started again has joined). */
export async function memberOf(bootstrap: string, group: string, timeoutMs = 60_000): Promise<void> {
  const admin = kafkaClient(bootstrap).admin();
  await admin.connect();
  const member = async () => (await admin.describeGroups([group])).groups[0]?.members.length > 0;
  await waitUntil(member, `${group} to have a member again`, timeoutMs, 250).finally(() => admin.disconnect());
}

/** A group's lag: inventory on the orders topic, analytics on both (read only: fetchOffsets, fetchTopicOffsets). */
export const wireLag = (k: PartCKafka, group: string, which: "inventory" | "analytics"): Promise<GroupLag> =>
  groupLag(k.admin, group, which === "inventory" ? [k.topics.orders] : [k.topics.orders, k.topics.inventory_events]);

/** One event as seen on the wire: the fields the contract names, when present. */
export interface WireEvent {
  t_s: number;
  topic: string;
  key: string | null;
  eventType?: string;
  eventId?: string;
  orderId?: string;
  /** The message's bytes, to produce an exact copy (a redelivery). */
  raw: Tapped;
}

const INVENTORY_TYPES = new Set(["InventoryReserved", "InventoryFailed"]);

/** What a Part C puts on both its topics from now on, as events. */
export class PartCTap {
  readonly events: WireEvent[] = [];
  private readonly taps: TopicTap[] = [];
  private readonly t0 = performance.now();

  static async open(k: PartCKafka): Promise<PartCTap> {
    const tap = new PartCTap();
    try {
      for (const topic of [k.topics.orders, k.topics.inventory_events])
        tap.taps.push(await TopicTap.open(k.kafka, topic, undefined, (m) => tap.seen(topic, m)));
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
    const orderId = str(body.orderId) ?? str(body.order_id);
    this.events.push({
      t_s: this.now(),
      topic,
      key: m.key,
      eventType: str(body.eventType),
      eventId: str(body.eventId),
      orderId,
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

  /** Each OrderPlaced seen so far matched to the inventory events that answer it. */
  accounting(): Accounting {
    return accountOrders(
      this.orderPlaced().map((e) => e.orderId ?? ""),
      this.inventoryEvents(),
    );
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

/** `load-000001, load-000002, … 5 more`: a few names, then how many more. */
export const someOf = (ids: string[], n = 3): string =>
  `${ids.slice(0, n).join(", ")}${ids.length > n ? `, … ${ids.length - n} more` : ""}`;

/** `3 lost (…); 1 duplicated (…)`, or nothing when every order was answered once. */
export const accountingFaults = (a: Accounting): string =>
  (a.lost.length ? `; ${a.lost.length} never answered (lost: ${someOf(a.lost)})` : "") +
  (a.duplicated.length ? `; ${a.duplicated.length} answered twice (duplicated: ${someOf(a.duplicated)})` : "");
