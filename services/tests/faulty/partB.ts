// A deliberately faulty Part B, written for the tests: an order endpoint that publishes
// OrderPlaced, and an inventory that answers each with InventoryReserved — on its own exchanges
// and queues (prefixed), so it never meets the lab's. One fault at a time:
//   reserves-twice: no processed-id check, every delivery of an OrderPlaced (a duplicate too) is reserved again;
//   drops-poison:   a message it cannot read is acked and forgotten, not rejected to the dead-letter queue.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import amqp from "amqplib";

export type PartBFault = "reserves-twice" | "drops-poison";

export interface FaultyPartB {
  orderUrl: string;
  names: { exchange: string; routingKey: string; queue: string; dlq: string; inventoryExchange: string };
  close(): Promise<void>;
}

export async function startFaultyPartB(amqpUrl: string, fault: PartBFault): Promise<FaultyPartB> {
  const p = `faulty-${fault}`;
  const names = {
    exchange: `${p}-orders`,
    routingKey: "order.placed",
    queue: `${p}.q`,
    dlq: `${p}.dlq`,
    inventoryExchange: `${p}-inventory`,
  };
  const conn = await amqp.connect(amqpUrl);
  const ch = await conn.createConfirmChannel();
  await ch.assertExchange(names.exchange, "direct", { durable: false, autoDelete: false });
  await ch.assertExchange(names.inventoryExchange, "direct", { durable: false });
  await ch.assertExchange(`${p}-dlx`, "fanout", { durable: false });
  await ch.assertQueue(names.dlq, { durable: false });
  await ch.bindQueue(names.dlq, `${p}-dlx`, "");
  await ch.assertQueue(names.queue, { durable: false, arguments: { "x-dead-letter-exchange": `${p}-dlx` } });
  await ch.bindQueue(names.queue, names.exchange, names.routingKey);

  const seen = new Set<string>();
  await ch.consume(names.queue, (m) => {
    if (!m) return;
    let order: { order_id?: string };
    try {
      order = JSON.parse(m.content.toString());
      if (!order.order_id) throw new Error("no order_id");
    } catch {
      // The correct answer is ch.nack(m, false, false): dead-letter it.
      if (fault === "drops-poison") ch.ack(m);
      else ch.nack(m, false, false);
      return;
    }
    const id = m.properties.messageId as string;
    if (fault !== "reserves-twice" && seen.has(id)) return ch.ack(m);
    seen.add(id);
    const event = { event_type: "InventoryReserved", event_id: randomUUID(), order_id: order.order_id, caused_by: id };
    ch.publish(names.inventoryExchange, "inventory.reserved", Buffer.from(JSON.stringify(event)), {
      messageId: event.event_id,
    });
    ch.ack(m);
  });

  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const order_id = `o-${randomUUID().slice(0, 8)}`;
      const event = {
        event_type: "OrderPlaced",
        message_id: randomUUID(),
        order_id,
        items: [{ sku: "burger", qty: 1 }],
      };
      ch.publish(names.exchange, names.routingKey, Buffer.from(JSON.stringify(event)), {
        messageId: event.message_id,
        contentType: "application/json",
      });
      res.writeHead(202, { "content-type": "application/json" });
      res.end(JSON.stringify({ order_id, status: "PLACED" }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    orderUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    names,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      for (const q of [names.queue, names.dlq]) await ch.deleteQueue(q).catch(() => {});
      await conn.close().catch(() => {});
    },
  };
}
