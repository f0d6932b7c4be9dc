// Part C against a real Kafka of this test's own (temporary LAB_HOME, free ports) and the real
// services on free ports: the 10k load test, the injected failure rate, both consumer groups
// and their lag, replay, restarts mid-stream, duplicates, unreadable events and bad bodies.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { Kafka, logLevel, type Admin, type KafkaMessage } from "kafkajs";
import YAML from "yaml";
import { newLoadTestOrderId } from "../common/ids.js";
import { BROKERS, isolatedBrokerEnv, useEnv } from "../harness/run/brokers/index.js";
import { down, up, type LabOptions } from "../harness/run/lifecycle.js";
import { PARTS } from "../harness/run/parts.js";
import { distDir, projectRoot } from "../common/paths.js";
import {
  GROUPS,
  TOPICS,
  differences,
  getLag,
  getMetrics,
  healthOf,
  lagOf,
  loadTest,
  endpoints,
  produceOrder,
  triggerReplay,
  waitForMetrics,
  waitForQuiet,
  writeReport,
  type PartCEndpoints,
} from "../partC-kafka/lab/client.js";
import { withPartC } from "../partC-kafka/lab/implementation.js";
import { lagExperiment } from "../partC-kafka/experiments/lag.js";
import { runExperiment } from "../harness/judge/experiment.js";
import { LAB_TARGET_FILE, loadTarget } from "../harness/judge/target.js";
import { crashProcess } from "../harness/run/processes.js";
import { waitUntil } from "../common/wait.js";
import { MetricsView } from "../partC-kafka/metrics.js";
import { drawFor } from "../partC-kafka/reserve.js";
import { freePortsFor, http } from "./support.js";

const FAIL_RATE = 0.3;
const FAIL_SEED = 7;
let home: string;
let restoreEnv: () => void;
let lab: LabOptions;
let urls: PartCEndpoints;
let kafka: Kafka;
let admin: Admin;

before(async () => {
  const env = await isolatedBrokerEnv("partC-test");
  home = env.LAB_HOME;
  restoreEnv = useEnv({ ...env, LAB_BROKER_MODE: "native", RESULTS_DIR: path.join(home, "results") });
  lab = {
    home,
    ports: await freePortsFor("partC"),
    env: { INVENTORY_FAIL_RATE: String(FAIL_RATE), FAIL_SEED: String(FAIL_SEED) },
  };
  urls = endpoints(await up("partC", lab));
  kafka = new Kafka({ clientId: "partC-test", brokers: [urls.kafka], logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
});

after(async () => {
  await admin?.disconnect();
  await down("partC", { home });
  restoreEnv();
  fs.rmSync(home, { recursive: true, force: true });
});

/** Append raw messages to a topic, as a misbehaving client could. */
async function produceRaw(
  topic: string,
  messages: { key?: string; value: string | null; headers?: Record<string, string> }[],
): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

/** Every message of a (small) topic, read by a throwaway consumer group. */
async function readTopic(topic: string): Promise<KafkaMessage[]> {
  const ends = await admin.fetchTopicOffsets(topic);
  const total = ends.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  const seen: KafkaMessage[] = [];
  const consumer = kafka.consumer({ groupId: `partC-test-reader-${Date.now()}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message) });
    await waitUntil(() => seen.length >= total, `${total} messages from ${topic}`, 30_000);
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

const restart = async (service: string, env: Record<string, string> = {}) =>
  up("partC", { ...lab, env: { ...lab.env, ...env }, only: [service], healthTimeoutMs: 60_000 });

describe("the services and their consumer groups", () => {
  test("every service answers /health once connected; inventory and analytics are in their groups", async () => {
    for (const url of [urls.producer, urls.inventory, urls.analytics]) {
      assert.equal((await http.get(`${url}/health`)).status, 200, url);
      assert.deepEqual((await http.get(`${url}/ready`)).data.status, "ready", `${url}/ready: up waits for it`);
    }
    assert.deepEqual((await healthOf(urls.inventory)).assigned, { orders: [0, 1, 2] });
    assert.deepEqual(
      (await healthOf(urls.producer)).policy,
      { produce_timeout_ms: 5000 },
      "the producer declares its deadline per send",
    );
    const { groups } = await admin.listGroups();
    for (const g of [GROUPS.inventory, GROUPS.analytics])
      assert.ok(
        groups.some((x) => x.groupId === g),
        `${g} exists`,
      );
  });

  test("POST /produce appends an OrderPlaced keyed by order id; analytics counts it", async () => {
    const m0 = await waitForQuiet(urls.analytics);
    const res = await http.post(`${urls.producer}/produce`, { orderId: "o-123", items: [{ sku: "burrito", qty: 2 }] });
    assert.equal(res.status, 200);
    assert.equal(res.data.orderId, "o-123");
    assert.equal(res.data.status, "PRODUCED");
    const e = res.data.event;
    assert.equal(e.eventType, "OrderPlaced");
    assert.equal(e.orderId, "o-123");
    assert.deepEqual(e.items, [{ sku: "burrito", qty: 2 }]);
    assert.match(e.eventId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.ok(!Number.isNaN(Date.parse(e.createdAt)));
    // Same key, same partition: one order's events stay in order.
    const again = await produceOrder(urls.producer, { orderId: "o-123" });
    assert.equal(again.status, 200);
    assert.equal(again.body.partition, res.data.partition);
    // Without a body at all (curl -X POST): a new order id and one burrito.
    const bare = await fetch(`${urls.producer}/produce`, { method: "POST" });
    assert.equal(bare.status, 200);
    const bareBody = await bare.json();
    assert.match(bareBody.orderId, /^o-[0-9a-f]{8}$/);
    assert.deepEqual(bareBody.event.items, [{ sku: "burrito", qty: 1 }]);
    const m = await waitForMetrics(
      urls.analytics,
      (x) => x.total_orders === m0.total_orders + 3 && x.total_reservations === m0.total_reservations + 3,
      "3 orders and 3 answers",
    );
    assert.equal(
      m.orders_per_minute[e.createdAt.slice(0, 16)] >= 1,
      true,
      "counted in the minute of its own createdAt",
    );
  });
});

describe("10k events", () => {
  test("load test: produced = 10000, analytics reaches them all, failures track INVENTORY_FAIL_RATE exactly per the seed", async () => {
    const m0 = await waitForQuiet(urls.analytics);
    const t0 = performance.now();
    const res = await http.post(`${urls.producer}/load-test`, { count: 10_000 });
    assert.equal(res.status, 200, JSON.stringify(res.data));
    assert.equal(res.data.produced, 10_000);
    assert.equal(res.data.remaining_in_queue, 0);
    assert.equal(res.data.first_order_id, "load-000000");
    assert.equal(res.data.last_order_id, "load-009999");
    assert.equal(typeof res.data.elapsed_ms, "number");

    const m = await waitForMetrics(
      urls.analytics,
      (x) => x.total_reservations >= m0.total_reservations + 10_000,
      "analytics to count 10000 answers",
      120_000,
    );
    const seconds = (performance.now() - t0) / 1000;
    assert.ok(m.total_orders >= 10_000);
    assert.equal(m.total_orders - m0.total_orders, 10_000);
    assert.equal(m.total_reservations - m0.total_reservations, 10_000, "each order answered and counted once");

    const failed = m.failed_reservations - m0.failed_reservations;
    const rate = failed / 10_000;
    assert.ok(Math.abs(rate - FAIL_RATE) < 0.03, `failure rate ${rate} for INVENTORY_FAIL_RATE=${FAIL_RATE}`);
    // Reproducible: the seed decides which orders fail, so the count is known in advance.
    const expected = Array.from(
      { length: 10_000 },
      (_, i) => drawFor(newLoadTestOrderId(i), FAIL_SEED) < FAIL_RATE,
    ).filter(Boolean).length;
    assert.equal(failed, expected, "the same seed fails the same orders");
    assert.ok(m.failure_rate > 0 && m.failure_rate < 1);
    assert.ok(seconds < 120, `${seconds.toFixed(1)} s`);
  });

  test("both groups report lag per partition (committed, end, lag), and it is 0 once caught up", async () => {
    await waitForQuiet(urls.analytics);
    const groups = await getLag(urls.analytics);
    const inventory = lagOf(groups, GROUPS.inventory);
    const analytics = lagOf(groups, GROUPS.analytics);
    assert.deepEqual(
      inventory.partitions.map((p) => `${p.topic}/${p.partition}`),
      ["orders/0", "orders/1", "orders/2"],
    );
    assert.equal(analytics.partitions.length, 6, "analytics reads both topics");
    for (const g of [inventory, analytics]) {
      assert.equal(g.state, "Stable");
      assert.equal(g.members, 1);
      for (const p of g.partitions) {
        assert.equal(p.committed, p.end, `${g.group} ${p.topic}/${p.partition}`);
        assert.equal(p.lag, 0);
        assert.ok(p.end > 0, "every partition got events (keys spread)");
      }
    }
  });

  test("lag experiment through lab.yml: the burst waits in the log on every partition, and drains once inventory is back", async () => {
    const opts = { count: 600, throttleMs: 5, sampleMs: 100 };
    const r = await withPartC(loadTarget(LAB_TARGET_FILE), lab, (impl) => runExperiment(lagExperiment, impl, opts));
    assert.equal(r.verdict, "PASS", JSON.stringify(r.checks));
    assert.deepEqual(r.skipped, []);
    assert.equal(r.checks.length, 4);
    assert.ok((r.data.lag_while_stopped ?? 0) >= 600, `lag while stopped ${r.data.lag_while_stopped}`);
    assert.ok(r.data.drained_at_s !== null && r.data.drained_at_s > r.data.stopped_s!.to_s);
    assert.equal(r.target.managed_by, "lab");
    assert.equal(r.target.endpoints.producer, urls.producer, "the running part's ports, not lab.yml's defaults");
    const inventory = await healthOf(urls.inventory);
    assert.equal(inventory.throttle_ms, 0, "inventory restarted as it was");
    assert.equal(inventory.fail_rate, FAIL_RATE, "with the env it was found with");
  });
});

describe("replay", () => {
  test("POST /replay recomputes from the start of the log; the metrics equal those before", async () => {
    const beforeReplay = await waitForQuiet(urls.analytics);
    assert.ok(beforeReplay.total_orders >= 10_000);
    // As a generic JSON client sends it: the header, and no body (this endpoint needs none).
    const answer = await fetch(`${urls.analytics}/replay`, {
      method: "POST",
      headers: { "content-type": "application/json" },
    });
    assert.equal(answer.status, 200, "an empty body with content-type: application/json is accepted");
    const res = (await answer.json()) as Awaited<ReturnType<typeof triggerReplay>>;
    assert.equal(res.status, "replay_triggered");
    const lag = lagOf(await getLag(urls.analytics), GROUPS.analytics);
    assert.ok(lag.total_lag > 0, "the group's committed offsets went back to the log start");
    const afterReplay = await waitForMetrics(
      urls.analytics,
      (m) => m.replay.started_at === res.started_at && !m.replay.running,
      "the replay to finish",
    );
    assert.ok(afterReplay.replay.finished_at && afterReplay.replay.events_read >= 2 * beforeReplay.total_orders);
    assert.deepEqual(differences(beforeReplay, afterReplay), []);
    assert.deepEqual(afterReplay.orders_per_minute, beforeReplay.orders_per_minute);
  });

  test("POST /report writes the metrics report (JSON and markdown) to results/partC", async () => {
    const { files } = await writeReport(urls.analytics, "test");
    assert.equal(path.dirname(files.json), path.join(home, "results", "partC"));
    const json = JSON.parse(fs.readFileSync(files.json, "utf8"));
    assert.equal(json.total_orders, (await getMetrics(urls.analytics)).total_orders);
    assert.match(fs.readFileSync(files.markdown, "utf8"), /total orders/);
  });
});

describe("restarts, duplicates and unreadable events", () => {
  test("inventory killed mid-stream and restarted: no order lost, none counted twice", async () => {
    const m0 = await waitForQuiet(urls.analytics);
    await restart("inventory", { CONSUMER_THROTTLE_MS: "2" }); // ~1,500 orders/s: the kill lands mid-stream
    const load = loadTest(urls.producer, 6_000);
    await waitForMetrics(
      urls.analytics,
      (m) => m.total_reservations - m0.total_reservations >= 1_000,
      "inventory to be under way",
      60_000,
    );
    crashProcess("partC-inventory", home); // kill -9: no goodbye, no last commit
    assert.equal((await load).produced, 6_000);
    const midway = (await getMetrics(urls.analytics)).total_reservations - m0.total_reservations;
    assert.ok(midway < 6_000, `killed mid-stream (${midway} answered)`);
    await restart("inventory"); // rejoins once the dead member's session expires
    const m = await waitForQuiet(urls.analytics);
    assert.equal(m.total_orders - m0.total_orders, 6_000);
    assert.equal(m.total_reservations - m0.total_reservations, 6_000, "every order answered, each counted once");
  });

  test("analytics killed mid-stream and restarted rebuilds the same metrics from the log", async () => {
    const m0 = await waitForQuiet(urls.analytics);
    const load = loadTest(urls.producer, 5_000);
    await waitForMetrics(urls.analytics, (m) => m.total_orders > m0.total_orders, "analytics to be under way", 60_000);
    crashProcess("partC-analytics", home);
    await load;
    await restart("analytics");
    const m = await waitForQuiet(urls.analytics);
    assert.equal(m.total_orders - m0.total_orders, 5_000);
    assert.equal(m.total_reservations - m0.total_reservations, 5_000);
    assert.equal(m.failed_reservations >= m0.failed_reservations, true);
    assert.equal(m.replay.trigger, "startup");
  });

  test("an inventory answer delivered twice (same eventId) is counted once", async () => {
    const m0 = await waitForQuiet(urls.analytics);
    const answer = {
      eventId: "5b0c1d52-0000-5000-8000-00000000d0b1",
      eventType: "InventoryReserved",
      orderId: "o-dup",
      orderEventId: "e-dup",
      items: [{ sku: "burrito", qty: 1 }],
      createdAt: new Date().toISOString(),
    };
    await produceRaw(TOPICS.inventoryEvents, [
      { key: "o-dup", value: JSON.stringify(answer) },
      { key: "o-dup", value: JSON.stringify(answer) },
    ]);
    const m = await waitForMetrics(
      urls.analytics,
      (x) => x.duplicates_skipped === m0.duplicates_skipped + 1,
      "the duplicate to be skipped",
    );
    assert.equal(m.total_reservations, m0.total_reservations + 1);
  });

  test("unreadable orders go to orders.dlq with the reason; the consumer carries on", async () => {
    const [inv0, m0] = [await healthOf(urls.inventory), await waitForQuiet(urls.analytics)];
    await produceRaw(TOPICS.orders, [
      { key: "bad-1", value: "this is not JSON" },
      { key: "bad-2", value: JSON.stringify({ eventType: "OrderPlaced", orderId: "bad-2", items: "burrito" }) },
    ]);
    const good = await produceOrder(urls.producer, { orderId: "o-after-bad" });
    await waitForMetrics(
      urls.analytics,
      (m) => m.total_reservations === m0.total_reservations + 1 && m.unreadable_skipped === m0.unreadable_skipped + 2,
      "the good order answered, the bad ones skipped",
    );
    const inv = await healthOf(urls.inventory);
    assert.equal(inv.dead_lettered - inv0.dead_lettered, 2);
    const dead = await readTopic(TOPICS.ordersDeadLetter);
    const byKey = new Map(dead.map((d) => [d.key?.toString(), d]));
    assert.match(String(byKey.get("bad-1")?.headers?.reason), /not JSON/);
    assert.match(String(byKey.get("bad-2")?.headers?.reason), /OrderPlaced/);
    assert.equal(byKey.get("bad-1")?.value?.toString(), "this is not JSON", "the original bytes are kept");
    assert.equal(String(byKey.get("bad-1")?.headers?.["source-topic"]), TOPICS.orders);
    assert.equal(good.status, 200);
    assert.equal(good.body.status, "PRODUCED");
  });

  // Found by the fault campaign: with Kafka down, POST /produce held the caller 16-24 s.
  test("with Kafka down, /produce answers a clear 503 within its deadline, with the eventId to retry with; the retry counts once", async () => {
    const m0 = await waitForQuiet(urls.analytics);
    await BROKERS.kafka.down({ home });
    let refused;
    try {
      const t0 = performance.now();
      refused = await http.post(`${urls.producer}/produce`, { orderId: "o-outage" });
      const ms = performance.now() - t0;
      assert.equal(refused.status, 503, JSON.stringify(refused.data));
      assert.equal(refused.data.error, "kafka-unavailable");
      assert.match(refused.data.message, /Kafka did not acknowledge.*Retry with the same eventId/);
      assert.equal(refused.data.orderId, "o-outage");
      assert.ok(ms < 7_000, `answered after ${Math.round(ms)} ms (deadline 5 s)`);
    } finally {
      await BROKERS.kafka.up({ home });
    }
    // The client retries with the eventId it was given, as often as it takes.
    let retry = refused;
    await waitUntil(
      async () => {
        retry = await http.post(`${urls.producer}/produce`, { orderId: "o-outage", eventId: refused.data.eventId });
        return retry.status === 200;
      },
      "the producer to reach Kafka again",
      60_000,
      500,
    );
    assert.equal(retry.data.event.eventId, refused.data.eventId);
    const m = await waitForQuiet(urls.analytics, 120_000);
    assert.equal(m.total_orders - m0.total_orders, 1, "counted once, whether or not the first attempt got in");
    assert.equal(m.total_reservations - m0.total_reservations, 1);
  });
});

describe("bad request bodies get 400 and produce nothing", () => {
  const cases: [string, string, unknown][] = [
    ["/load-test", "negative count", { count: -1 }],
    ["/load-test", "zero count", { count: 0 }],
    ["/load-test", "huge count", { count: 10_000_001 }],
    ["/load-test", "fractional count", { count: 1.5 }],
    ["/load-test", "count as a string", { count: "10" }],
    ["/load-test", "count as a boolean", { count: true }],
    ["/load-test", "count null", { count: null }],
    ["/load-test", "an array body", [10]],
    ["/produce", "orderId as a number", { orderId: 5 }],
    ["/produce", "items not an array", { items: "burrito" }],
    ["/produce", "empty items", { items: [] }],
    ["/produce", "an item without sku", { items: [{ qty: 1 }] }],
    ["/produce", "qty as a string", { items: [{ sku: "burrito", qty: "1" }] }],
    ["/produce", "qty 0", { items: [{ sku: "burrito", qty: 0 }] }],
    // Found by the fault campaign: 60 emojis are 60 characters to JSON schema's usual count, but
    // 120 to the consumers; produced, the event was dead-lettered and the order never answered.
    ["/produce", "a sku of 60 emojis", { items: [{ sku: "🍔".repeat(60), qty: 1 }] }],
    ["/produce", "a string body", "burrito"],
  ];
  for (const [route, what, body] of cases) {
    test(`${route}: ${what}`, async () => {
      const before = (await healthOf(urls.producer)).produced;
      const res = await http.post(`${urls.producer}${route}`, JSON.stringify(body), {
        headers: { "content-type": "application/json" },
        transformRequest: (d) => d,
      });
      assert.equal(res.status, 400, JSON.stringify(res.data));
      assert.equal(typeof res.data.message, "string");
      if (route === "/load-test" && !Array.isArray(body))
        assert.match(res.data.message, /count must be an integer from 1 to 1000000/);
      assert.equal((await healthOf(urls.producer)).produced, before, "nothing produced");
    });
  }

  test("invalid JSON gets 400 invalid-json", async () => {
    // fetch sends the bytes as they are (axios would quote a string that is not JSON).
    const res = await fetch(`${urls.producer}/produce`, {
      method: "POST",
      body: "{not json",
      headers: { "content-type": "application/json" },
    });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error, "invalid-json");
  });
});

// Found by the fault campaign: hostile events reused eventIds across topics, and a replay counted
// differently from the first read, depending on which topic it read first.
test("an inventory answer reusing an order's eventId hides neither, whichever is read first", () => {
  const createdAt = "2026-01-01T12:00:00.000Z";
  const order = {
    eventId: "same-id",
    eventType: "OrderPlaced" as const,
    orderId: "o-1",
    items: [{ sku: "burrito", qty: 1 }],
    createdAt,
  };
  const answer = { ...order, eventType: "InventoryReserved" as const, orderEventId: "other" };
  for (const events of [
    [order, answer],
    [answer, order],
  ]) {
    const view = new MetricsView();
    for (const e of events) view.apply(e);
    const m = view.metrics();
    assert.deepEqual(
      [m.total_orders, m.total_reservations, m.duplicates_skipped],
      [1, 1, 0],
      `read ${events.map((e) => e.eventType).join(" then ")}`,
    );
  }
});

test("compose/streaming-kafka.yml runs the same entry points on the same ports, after the topics exist", () => {
  const { services } = YAML.parse(fs.readFileSync(path.join(projectRoot, "compose", "streaming-kafka.yml"), "utf8"), {
    merge: true,
  });
  for (const svc of PARTS.partC.services(PARTS.partC.defaultPorts)) {
    const c = services[svc.name];
    assert.ok(c, `compose has ${svc.name}`);
    assert.deepEqual(c.command, ["node", `dist/${svc.script}`]);
    assert.ok(fs.existsSync(path.join(distDir, svc.script)), svc.script);
    assert.equal(c.environment.PORT, String(svc.port));
    assert.deepEqual(c.ports, [`127.0.0.1:${svc.port}:${svc.port}`]);
    assert.equal(c.environment.KAFKA_BROKERS, "kafka:19092");
    assert.deepEqual(c.depends_on, { "kafka-init": { condition: "service_completed_successfully" } });
  }
  for (const name of ["INVENTORY_FAIL_RATE", "FAIL_SEED", "CONSUMER_THROTTLE_MS"])
    assert.ok(name in services.inventory.environment, name);
});
