// Part C in the comparison: orders produced through POST /produce. The user-visible outcome is
// inventory's answer on `inventory-events` (what a notifier would consume). A consumer group of
// this run's own reads it, from the start of the topic, so nothing produced before it joined is
// missed; the group is deleted on close.
import type { Consumer } from "kafkajs";
import type { ComparisonModel, Outcome } from "../../harness/measure/implementation.js";
import type { LabOptions, RunningPart } from "../../harness/run/lifecycle.js";
import { TOPICS } from "../topics.js";
import { labPartC } from "./implementation.js";

export async function compareModel(running: RunningPart, opts: LabOptions, runTag: string): Promise<ComparisonModel> {
  const impl = labPartC(running, opts);
  const { kafka } = await impl.kafka();
  const groupId = `compare-${runTag}`;
  const consumer: Consumer = kafka.consumer({ groupId });
  const seen = new Map<string, { outcome: Outcome; at?: number }>();
  await consumer.connect();
  await consumer.subscribe({ topic: TOPICS.inventoryEvents, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      try {
        const e = JSON.parse(message.value?.toString() ?? "");
        if (typeof e.orderId !== "string" || !e.orderId.startsWith(`cmp-${runTag}-`)) return;
        if (e.eventType === "InventoryReserved")
          seen.set(e.orderId, { outcome: "confirmed", at: Date.parse(e.createdAt) });
        else if (e.eventType === "InventoryFailed") seen.set(e.orderId, { outcome: "failed" });
      } catch {
        // not an event of ours
      }
    },
  });
  return {
    prepare: async () => {},
    place: async (_seq, key) => {
      const sentAt = Date.now();
      const orderId = `cmp-${runTag}-${key}`;
      const r = await impl.placeOrder({ orderId, items: [{ sku: "burrito", qty: 1 }] });
      const accepted = r.status === 200;
      return { http_status: r.status, accepted, response_ms: r.ms, id: accepted ? orderId : undefined, sentAt };
    },
    answers: async (ids) => new Map(ids.filter((i) => seen.has(i)).map((i) => [i, seen.get(i)!])),
    // Part C's inventory takes its delay as a pause per message, set when it starts.
    setDelay: (s) => impl.start("inventory", { CONSUMER_THROTTLE_MS: String(Math.round(s * 1000)) }),
    stopInventory: () => impl.stop("inventory"),
    startInventory: () => impl.start("inventory"),
    close: async () => {
      await consumer.disconnect().catch(() => {});
      const admin = kafka.admin();
      await admin.connect().catch(() => {});
      await admin.deleteGroups([groupId]).catch(() => {}); // a one-off group: leave nothing behind
      await admin.disconnect().catch(() => {});
      await impl.close();
    },
  };
}
