// Part B through a target: the lab's own services, started by hand on free ports against a
// RabbitMQ of the test's own, measured as a foreign implementation — through the file only (its
// order URL, its broker's names, a pid file and a start command). The checks from outside pass,
// nothing of the lab is started, its tap queue is gone afterwards and the target's queues are
// left. Then two small faulty implementations, each failing the checker made for its fault.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import axios from "axios";
import { distDir } from "../common/paths.js";
import { answers, waitUntil } from "../common/wait.js";
import { BROKERS, isolatedBrokerEnv, useEnv } from "../harness/brokers/index.js";
import { isAlive, listRecords } from "../harness/processes.js";
import { loadTarget, runTargetCommand, type Target } from "../harness/target.js";
import {
  runBacklogThrough,
  runDlqThrough,
  runIdempotencyThrough,
  WireTap,
  type BacklogOutsideResult,
} from "../partB-rabbitmq/lab/index.js";
import { startFaultyPartB, type PartBFault } from "./faulty/partB.js";
import { freePortsFor, runLabScript as runScript, tempHome } from "./support.js";

let brokerHome: string;
let restoreEnv: () => void;
let amqpUrl: string;
let management: number;
let dir: string;
let file: string;
let ports: Record<string, number>;
const SERVICES = ["inventory", "notification", "order"] as const;
const LAB_QUEUES = ["order.placed.q", "order.placed.dlq", "notification.reserved.q", "order.status.q"];

const pidOf = (name: string) => Number(fs.readFileSync(path.join(dir, `${name}.pid`), "utf8"));
const url = (name: string) => `http://127.0.0.1:${ports[name]}`;
/** The command a team would write: start one service in the background, its pid in a file. */
const startCommand = (name: string) =>
  `AMQP_URL=${amqpUrl} PORT=${ports[name]} DATA_DIR=${dir} ${process.execPath} ${path.join(distDir, "partB-rabbitmq", `${name}.js`)} >> ${name}.log 2>&1 & echo $! > ${name}.pid`;

/** Every queue on the broker (management API: names and consumers are current). */
async function brokerQueues(): Promise<{ name: string; consumers: number }[]> {
  const res = await axios.get(`http://127.0.0.1:${management}/api/queues`, {
    auth: { username: "guest", password: "guest" },
  });
  return (res.data as { name: string; consumers: number }[]).map((q) => ({ name: q.name, consumers: q.consumers }));
}

/** Depth and consumers of the lab's queues, by a passive declare on a tap of the test's own. */
async function queueStates(): Promise<Record<string, { messages: number; consumers: number }>> {
  const tap = await WireTap.open({ amqp_url: amqpUrl, exchange: "orders-ex", routing_key: "none" });
  try {
    const out: Record<string, { messages: number; consumers: number }> = {};
    for (const q of LAB_QUEUES) out[q] = await tap.depth(q);
    return out;
  } finally {
    await tap.close();
  }
}

const failed = (r: { checks: { passed: boolean }[] }) => r.checks.filter((c) => !c.passed);

before(async () => {
  const env = await isolatedBrokerEnv("partB-target");
  brokerHome = env.LAB_HOME;
  restoreEnv = useEnv({ ...env, LAB_BROKER_MODE: "native" });
  const rabbit = await BROKERS.rabbitmq.up({ home: brokerHome });
  amqpUrl = rabbit.env!.AMQP_URL;
  management = rabbit.ports!.management;
  dir = tempHome("campusfood-partB-target-");
  ports = await freePortsFor("partB");
  const yaml = [
    "name: hand-started-partB",
    'version: "0.2.0"',
    "partB:",
    "  services:",
    `    order: ${url("order")}`,
    "  place_order:",
    '    body: { user_id: "u1", restaurant_id: "r1", items: [{ sku: "burger", qty: 1 }] }',
    "  broker:",
    `    amqp_url: ${amqpUrl}`,
    "    exchange: orders-ex",
    "    routing_key: order.placed",
    "    queue: order.placed.q",
    "    dlq: order.placed.dlq",
    "    inventory_exchange: inventory-ex",
    "  control:",
    "    inventory:",
    "      pid_file: inventory.pid",
    `      start: ${JSON.stringify(startCommand("inventory"))}`,
    "",
  ].join("\n");
  file = path.join(dir, "target.yml");
  fs.writeFileSync(file, yaml);
  const target = loadTarget(file);
  for (const name of SERVICES) {
    await runTargetCommand(target, startCommand(name));
    await waitUntil(() => answers(`${url(name)}/ready`), `${name} to be ready`, 30_000);
  }
});

after(async () => {
  for (const name of SERVICES) {
    const pid = pidOf(name);
    if (isAlive(pid)) process.kill(pid, "SIGKILL");
  }
  await BROKERS.rabbitmq.down({ home: brokerHome });
  restoreEnv();
  for (const d of [dir, brokerHome]) fs.rmSync(d, { recursive: true, force: true });
});

describe("Part B through a target: the lab's own services, started by hand, judged from outside", () => {
  let target: Target;
  before(() => {
    target = loadTarget(file);
  });

  test("the tap: a server-named exclusive queue that sees OrderPlaced and the inventory events, gone once closed", async () => {
    const tap = await WireTap.open({
      amqp_url: amqpUrl,
      exchange: "orders-ex",
      routing_key: "order.placed",
      inventory_exchange: "inventory-ex",
    });
    assert.match(tap.queue, /^amq\.gen-/);
    const placed = await axios.post(`${url("order")}/order`, { user_id: "u1", items: { burger: 1 } });
    const id = placed.data.order_id as string;
    assert.ok(await tap.until(() => tap.inventoryEvents(id).length > 0, 15_000), "no inventory event seen");
    assert.equal(tap.orderPlaced(id)?.routingKey, "order.placed");
    assert.equal(tap.inventoryEvents(id)[0].kind, "InventoryReserved");
    await tap.close();
    assert.ok(!(await brokerQueues()).some((q) => q.name === tap.queue), "the tap queue is still there");
  });

  test("backlog, idempotency and dead-letter queue: every outside check passes, nothing of the lab is started, the tap is gone and the target's queues are left", async () => {
    const home = tempHome();
    const before = await queueStates();
    const inventoryBefore = pidOf("inventory");

    const backlog = (await runBacklogThrough(target, { outageSeconds: 2, rate: 10, home })) as BacklogOutsideResult;
    assert.equal(backlog.kind, "outside");
    assert.deepEqual(backlog.skipped, []);
    assert.deepEqual(failed(backlog), [], JSON.stringify(backlog.checks, null, 1));
    assert.ok(backlog.checks.some((c) => /exactly one InventoryReserved\/InventoryFailed/.test(c.check)));
    assert.equal(backlog.metrics.accepted, 20);
    assert.ok((backlog.metrics.peak_queue_depth ?? 0) >= 18, `peak ${backlog.metrics.peak_queue_depth}`);
    // The backlog inventory found when it came back, and how fast it went (a sampling interval's resolution).
    assert.ok((backlog.metrics.backlog_at_restart ?? 0) >= 18, `backlog ${backlog.metrics.backlog_at_restart}`);
    assert.ok(
      (backlog.metrics.drain_rate_per_s ?? 0) > 0 && backlog.metrics.drain_s! > 0,
      JSON.stringify(backlog.metrics),
    );
    assert.ok(
      backlog.samples.some((s) => s.consumers === 0),
      "inventory never left its queue",
    );
    assert.notEqual(pidOf("inventory"), inventoryBefore, "inventory was not restarted by the file's command");
    assert.equal(backlog.target.name, "hand-started-partB");
    assert.equal(backlog.target.endpoints.order, url("order"));
    assert.match(backlog.target.endpoints.amqp, /guest:\*\*\*@/);

    const idem = await runIdempotencyThrough(target, { copies: 2, home });
    assert.equal(idem.kind, "outside");
    assert.deepEqual(failed(idem), [], JSON.stringify(idem.checks, null, 1));
    assert.ok(idem.checks.some((c) => c.check === "a duplicate OrderPlaced produces no second reservation event"));

    const dlq = await runDlqThrough(target, { home });
    assert.deepEqual(failed(dlq), [], JSON.stringify(dlq.checks, null, 1));
    assert.deepEqual(dlq.skipped, []);

    assert.deepEqual(listRecords(home), [], "the lab started something of its own");
    const queues = await brokerQueues();
    assert.deepEqual(
      queues.filter((q) => q.name.startsWith("amq.gen-")),
      [],
      "a tap queue of the lab's was left",
    );
    const afterwards = await queueStates();
    for (const q of LAB_QUEUES)
      assert.equal(afterwards[q].consumers, before[q].consumers, `${q}: consumers ${JSON.stringify(afterwards[q])}`);
    // Nothing was purged or read: the poison waits in the dead-letter queue for its owner.
    assert.equal(afterwards["order.placed.dlq"].messages, before["order.placed.dlq"].messages + 2);
  });

  test("a target that gives no control, no dlq and no inventory exchange: what depends on them is skipped with the reason", async () => {
    const bare = path.join(dir, "bare.yml");
    fs.writeFileSync(
      bare,
      [
        "name: bare",
        "partB:",
        `  services: { order: ${url("order")} }`,
        `  broker: { amqp_url: "${amqpUrl}", exchange: orders-ex, routing_key: order.placed }`,
        "",
      ].join("\n"),
    );
    const t = loadTarget(bare);
    const backlog = await runBacklogThrough(t, { outageSeconds: 1, rate: 5 });
    assert.match(backlog.skipped[0]?.reason ?? "", /does not say how to stop inventory/);
    const idem = await runIdempotencyThrough(t, {});
    assert.match(idem.skipped[0]?.reason ?? "", /no inventory exchange \(partB\.broker\.inventory_exchange\)/);
    const dlq = await runDlqThrough(t, { waitMs: 500 });
    assert.deepEqual(
      dlq.skipped.map((s) => s.reason),
      [
        "the target names no dead-letter queue (partB.broker.dlq)",
        "the target names no inventory exchange (partB.broker.inventory_exchange): its events cannot be seen",
      ],
    );
  });

  test("partB-dlq.mjs --target writes summary.md and summary.json naming the target; batching and --without refuse a foreign target", async () => {
    const results = tempHome("campusfood-results-");
    const env = { LAB_HOME: tempHome(), RESULTS_DIR: results };
    const run = await runScript("partB-dlq.mjs", ["--target", file], env);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /Target: hand-started-partB 0\.2\.0/);
    const out = path.join(results, "targets", "hand-started-partB", "partB", "dlq");
    assert.match(
      fs.readFileSync(path.join(out, "summary.md"), "utf8"),
      /Target: hand-started-partB 0\.2\.0 — order http/,
    );
    assert.equal(JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")).target.name, "hand-started-partB");
    assert.deepEqual(listRecords(env.LAB_HOME), []);

    const batching = await runScript("partB-batching.mjs", ["--target", file, "--quick"], env);
    assert.equal(batching.code, 1);
    assert.match(
      batching.stderr,
      /✖ partB-batching measures the lab's own batch sizes .*: it cannot measure hand-started-partB/,
    );
    const without = await runScript(
      "partB-idempotency.mjs",
      ["--target", file, "--without", "idempotent-consumer"],
      env,
    );
    assert.equal(without.code, 1);
    assert.match(
      without.stderr,
      /--without switches a safeguard of the lab's own services: it cannot be used with a foreign --target/,
    );
    fs.rmSync(results, { recursive: true, force: true });
  });
});

describe("faulty implementations fail the checker made for their fault, and the observed text names it", () => {
  /** A target file for a faulty Part B (its own exchanges and queues on the test's broker). */
  async function faulty(fault: PartBFault) {
    const impl = await startFaultyPartB(amqpUrl, fault);
    const n = impl.names;
    const f = path.join(dir, `${fault}.yml`);
    fs.writeFileSync(
      f,
      [
        `name: ${fault}`,
        "partB:",
        `  services: { order: ${impl.orderUrl} }`,
        "  broker:",
        `    amqp_url: ${amqpUrl}`,
        `    exchange: ${n.exchange}`,
        `    routing_key: ${n.routingKey}`,
        `    queue: ${n.queue}`,
        `    dlq: ${n.dlq}`,
        `    inventory_exchange: ${n.inventoryExchange}`,
        "",
      ].join("\n"),
    );
    return { impl, target: loadTarget(f) };
  }

  test("an inventory that reserves every delivery fails 'a duplicate OrderPlaced produces no second reservation event'", async () => {
    const { impl, target } = await faulty("reserves-twice");
    try {
      const idem = await runIdempotencyThrough(target, { copies: 1, settleMs: 1000 });
      const c = idem.checks.find((x) => x.check === "a duplicate OrderPlaced produces no second reservation event");
      assert.equal(c?.passed, false, JSON.stringify(idem.checks));
      assert.match(
        c.observed,
        /2 events \(InventoryReserved ×2\) for order o-\w+ .*: the duplicate was reserved again/,
      );
      assert.ok(
        idem.checks.filter((x) => x !== c).every((x) => x.passed),
        "only the duplicate check fails",
      );
    } finally {
      await impl.close();
    }
  });

  test("a consumer that acks poison fails 'poison reaches the dead-letter queue', named as dropped silently", async () => {
    const { impl, target } = await faulty("drops-poison");
    try {
      const dlq = await runDlqThrough(target, { waitMs: 2000 });
      const c = dlq.checks.find((x) => /reaches the dead-letter queue/.test(x.check));
      assert.equal(c?.passed, false, JSON.stringify(dlq.checks));
      assert.match(c.observed, /faulty-drops-poison\.dlq 0 → 0 .*without dead-lettering it — dropped silently/);
      // It keeps consuming: the good order is answered, so that check passes.
      assert.ok(dlq.checks.find((x) => /keeps working/.test(x.check))?.passed);
    } finally {
      await impl.close();
    }
  });
});
