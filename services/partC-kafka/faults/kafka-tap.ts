// Reading and writing Part C's topics directly, as a checker (or a misbehaving client) does:
// append raw messages, and tap a topic with a consumer group of one's own to see what is in it.
import { Kafka, logLevel, type Consumer, type IHeaders } from "kafkajs";

export const kafkaClient = (brokers: string, clientId = "faults"): Kafka =>
  new Kafka({ clientId, brokers: brokers.split(","), logLevel: logLevel.NOTHING, connectionTimeout: 3000 });

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
export async function produceRaw(
  kafka: Kafka,
  topic: string,
  messages: RawMessage[],
  maxBytes = 512 * 1024,
): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    let batch: RawMessage[] = [];
    let bytes = 0;
    for (const m of [...messages, null]) {
      if (batch.length && (m === null || bytes + sizeOf(m) > maxBytes)) {
        await producer.send({ topic, acks: -1, messages: batch });
        batch = [];
        bytes = 0;
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
 * next), read by a consumer group of its own (`groupPrefix`-topic-random) that is deleted on close. Survives a broker
 * restart: kafkajs restarts the consumer by itself.
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
    groupPrefix = "faults-tap",
  ): Promise<TopicTap> {
    const start = from ?? (await endOffsets(kafka, topic));
    const groupId = `${groupPrefix}-${topic}-${Date.now()}-${Math.random().toString(16).slice(2, 8)}`;
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

  /** The JSON value of each message (null when it is not JSON). */
  json<T = Record<string, unknown>>(): (T | null)[] {
    return this.messages.map((m) => {
      try {
        return JSON.parse(m.value?.toString() ?? "") as T;
      } catch {
        return null;
      }
    });
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
