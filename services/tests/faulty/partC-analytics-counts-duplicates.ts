// A deliberately faulty Part C analytics, written for the tests: it keeps the contract (GET
// /metrics, POST /replay, a consumer group of its own on both topics) but counts every
// OrderPlaced message it reads, so a redelivered event (same eventId, new offset) is a second
// order. It counts by (topic, partition, offset), so reading the same log again (a replay)
// gives the same numbers: the only fault is the missing deduplication by eventId. Its metric
// names differ from the contract's, as a team's may (`orders`, `reservations`, `failed`).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Kafka, logLevel } from "kafkajs";

export interface FaultyAnalytics {
  url: string;
  group: string;
  close(): Promise<void>;
}

export async function startFaultyAnalytics(opts: {
  brokers: string;
  topics: { orders: string; inventory_events: string };
  group: string;
}): Promise<FaultyAnalytics> {
  const kafka = new Kafka({ clientId: "faulty-analytics", brokers: [opts.brokers], logLevel: logLevel.NOTHING });
  const seen = new Map<string, string>(); // topic/partition/offset → eventType: no eventId anywhere
  const consumer = kafka.consumer({ groupId: opts.group, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: [opts.topics.orders, opts.topics.inventory_events], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const type = (JSON.parse(message.value?.toString() ?? "{}") as { eventType?: string }).eventType ?? "";
      seen.set(`${topic}/${partition}/${message.offset}`, type);
    },
  });
  const count = (types: string[]) => [...seen.values()].filter((t) => types.includes(t)).length;
  const metrics = () => {
    const reservations = count(["InventoryReserved", "InventoryFailed"]);
    const failed = count(["InventoryFailed"]);
    return {
      orders: count(["OrderPlaced"]),
      reservations,
      failed,
      failure_rate: reservations ? failed / reservations : 0,
    };
  };
  const replay = async () => {
    const admin = kafka.admin();
    await admin.connect();
    for (const topic of [opts.topics.orders, opts.topics.inventory_events])
      for (const p of await admin.fetchTopicOffsets(topic))
        consumer.seek({ topic, partition: p.partition, offset: p.low });
    await admin.disconnect();
  };
  const server = http.createServer((req, res) => {
    req.resume();
    const answer = (body: unknown) =>
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (req.method === "GET" && req.url === "/metrics") return answer(metrics());
    if (req.method === "POST" && req.url === "/replay")
      return void replay().then(
        () => answer({ status: "replay_triggered" }),
        () => res.writeHead(500).end(),
      );
    answer({ status: "ok" }); // /health and anything else
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    group: opts.group,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await consumer.disconnect();
    },
  };
}
