// Part B through a target: the lab's own services, started by hand on free ports against a
// RabbitMQ of the test's own, measured as a team's implementation — through the file only (its
// order URL, its order status path, its broker's names, a pid file and a start command). Every
// check passes, nothing of the lab is started, its tap queue is gone afterwards and the target's
// queues are left; the same experiments through lab.yml give the same checks, plus those only
// the lab's own counters allow. Then two small faulty implementations, each failing the checker
// made for its fault.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import axios from "axios";
import { distDir } from "../common/paths.js";
import { answers, waitUntil } from "../common/wait.js";
import { BROKERS, isolatedBrokerEnv, useEnv } from "../harness/run/brokers/index.js";
import { isAlive, listRecords } from "../harness/run/processes.js";
import { down } from "../harness/run/lifecycle.js";
import {
  runExperiment,
  type Experiment,
  type ExperimentOptions,
  type ExperimentResult,
  type Run,
} from "../harness/judge/experiment.js";
import { LAB_TARGET_FILE, loadTarget, type Target } from "../harness/judge/target.js";
import { runTargetCommand } from "../harness/judge/target-control.js";
import { withPartB, type PartB, type PartBOptions } from "../partB-rabbitmq/lab/implementation.js";
import { WireTap } from "../partB-rabbitmq/lab/tap.js";
import { backlog, type BacklogOptions } from "../partB-rabbitmq/experiments/backlog.js";
import { deadLetter } from "../partB-rabbitmq/experiments/dead-letter.js";
import { PARTB_SCENARIOS } from "../partB-rabbitmq/experiments/index.js";
import { idempotency, NO_SECOND } from "../partB-rabbitmq/experiments/idempotency.js";
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
const names = (r: ExperimentResult) => r.checks.map((c) => c.check);

/** `exp` on `target`'s Part B, the one road every implementation takes. */
const run = <O extends ExperimentOptions, R extends Run<PartB, O>, D>(
  exp: Experiment<PartB, O, R, D>,
  target: Target,
  opts: O & PartBOptions,
) => withPartB(target, opts, (impl) => runExperiment(exp, impl, opts));
const BACKLOG: BacklogOptions = { outageSeconds: 2, rate: 10, warmupSeconds: 1, afterSeconds: 1 };

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
    "  order_status: /orders/{id}",
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
  await down("partB", { home: brokerHome }); // the lab's own, if the lab.yml road left any
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

  test("backlog, idempotency and dead-letter queue: every check passes, nothing of the lab is started, the tap is gone and the target's queues are left", async () => {
    const home = tempHome();
    const before = await queueStates();
    const inventoryBefore = pidOf("inventory");

    const b = await run(backlog, target, { ...BACKLOG, home });
    assert.deepEqual(b.skipped, []);
    assert.deepEqual(failed(b), [], JSON.stringify(b.checks, null, 1));
    assert.ok(b.checks.some((c) => /exactly one InventoryReserved\/InventoryFailed/.test(c.check)));
    assert.ok(b.checks.some((c) => /lost = 0: every accepted order reached CONFIRMED or FAILED/.test(c.check)));
    const accepted = b.data.orders.filter((o) => o.http_status === 202);
    assert.equal(accepted.length, 40);
    const peak = Math.max(...b.data.samples.map((s) => s.queue_depth ?? 0));
    assert.ok(peak >= 18, `peak ${peak}`);
    assert.ok(Number(b.figures["drain time from then (s)"]) > 0, JSON.stringify(b.figures));
    assert.ok(
      b.data.samples.some((s) => s.consumers === 0),
      "inventory never left its queue",
    );
    assert.notEqual(pidOf("inventory"), inventoryBefore, "inventory was not restarted by the file's command");
    assert.equal(b.target.name, "hand-started-partB");
    assert.equal(b.target.endpoints.order, url("order"));
    assert.match(b.target.endpoints.amqp, /guest:\*\*\*@/);

    const idem = await run(idempotency, target, { copies: 2, home });
    assert.deepEqual(failed(idem), [], JSON.stringify(idem.checks, null, 1));
    assert.ok(names(idem).includes(NO_SECOND));

    const dlq = await run(deadLetter, target, { home });
    assert.deepEqual(failed(dlq), [], JSON.stringify(dlq.checks, null, 1));
    assert.deepEqual(
      dlq.skipped.map((s) => s.check),
      ["the implementation states each poison message's reason (/health recent_dead_letters)"],
    );

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

  test("a target that gives no control, no dlq, no inventory exchange and no order status: what depends on them is skipped with the reason", async () => {
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
    const b = await run(backlog, t, { outageSeconds: 1, rate: 5 });
    assert.equal(b.verdict, "NOT OBSERVABLE");
    assert.match(b.skipped[0]?.reason ?? "", /does not say how to stop inventory/);
    const idem = await run(idempotency, t, {});
    assert.equal(idem.verdict, "NOT OBSERVABLE");
    assert.match(idem.skipped[0]?.reason ?? "", /no inventory exchange \(partB\.broker\.inventory_exchange\)/);
    const dlq = await run(deadLetter, t, { waitMs: 500 });
    assert.deepEqual(
      dlq.skipped.map((s) => s.reason),
      [
        "the target names no dead-letter queue (partB.broker.dlq)",
        "the target names no inventory exchange (partB.broker.inventory_exchange): its events cannot be seen",
        "white-box counters (/health: processed ids, duplicates, dead-lettered, stock): only the lab's own services offer it (managed_by: lab)",
      ],
    );
  });

  test("fault scenarios through the file: B-duplicates passes from outside; B-broker-restart is not observable, with the reason", async () => {
    const opts = { home: tempHome(), quick: true, seed: 42, log: () => {}, target };
    const dup = await PARTB_SCENARIOS["B-duplicates"].run(opts);
    assert.equal(dup.verdict, "PASS", JSON.stringify(dup.invariants, null, 1));
    assert.equal(dup.orders_acknowledged, 1);
    assert.equal(dup.duplicated_effects, 0);
    const restart = await PARTB_SCENARIOS["B-broker-restart"].run(opts);
    assert.equal(restart.verdict, "NOT OBSERVABLE");
    assert.match(JSON.stringify(restart.details?.skipped), /stopping and starting the broker .*only the lab's own/);
    assert.deepEqual(listRecords(opts.home), [], "the lab started something of its own");
  });

  test("partB-dlq.mjs --target writes summary.md and summary.json naming the target; batching is not observable and --without refused on a team's target", async () => {
    const results = tempHome("campusfood-results-");
    const env = { LAB_HOME: tempHome(), RESULTS_DIR: results };
    const script = await runScript("partB-dlq.mjs", ["--target", file], env);
    assert.equal(script.code, 0, `${script.stdout}\n${script.stderr}`);
    assert.match(script.stdout, /Target: hand-started-partB 0\.2\.0/);
    const out = path.join(results, "targets", "hand-started-partB", "partB", "dlq");
    assert.match(
      fs.readFileSync(path.join(out, "summary.md"), "utf8"),
      /Target: hand-started-partB 0\.2\.0 — order http/,
    );
    const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"));
    assert.equal(summary.target.name, "hand-started-partB");
    assert.equal(summary.verdict, "PASS");
    assert.deepEqual(listRecords(env.LAB_HOME), []);

    const batching = await runScript("partB-batching.mjs", ["--target", file, "--quick"], env);
    // Nothing was judged, so nothing failed: the script says why and exits 0.
    assert.equal(batching.code, 0, batching.stderr);
    assert.match(
      batching.stdout,
      /not observable on hand-started-partB: measures the lab's own batch sizes .*only the lab's own services offer it/,
    );
    const without = await runScript(
      "partB-idempotency.mjs",
      ["--target", file, "--without", "idempotent-consumer"],
      env,
    );
    assert.equal(without.code, 1);
    assert.match(
      without.stderr,
      /hand-started-partB cannot be started without idempotent-consumer: only the lab's own services can be started without a safeguard/,
    );
    fs.rmSync(results, { recursive: true, force: true });
  });
});

describe("the same experiments through lab.yml give the same checks, plus those only the lab's own counters allow", () => {
  test("backlog, idempotency and dead-letter queue on the lab's own services, started by the lab on the same broker", async () => {
    const team = loadTarget(file);
    const teamRuns = [
      await run(backlog, team, BACKLOG),
      await run(idempotency, team, { copies: 2 }),
      await run(deadLetter, team, {}),
    ];
    // The hand-started copy goes, so that the lab's own are the only consumers of the queues.
    for (const name of SERVICES) if (isAlive(pidOf(name))) process.kill(pidOf(name), "SIGKILL");
    const lab = loadTarget(LAB_TARGET_FILE);
    const opts = { home: brokerHome, ports: await freePortsFor("partB") };
    const labRuns = [
      await run(backlog, lab, { ...BACKLOG, ...opts }),
      await run(idempotency, lab, { copies: 2, ...opts }),
      await run(deadLetter, lab, opts),
    ];
    assert.deepEqual(
      listRecords(brokerHome).filter((r) => r.name.startsWith("partB-")),
      [],
      "the lab stopped what it started",
    );
    for (const [i, l] of labRuns.entries()) {
      const t = teamRuns[i];
      assert.equal(l.verdict, "PASS", `${l.experiment}: ${JSON.stringify(failed(l))}`);
      assert.deepEqual(l.skipped, [], `${l.experiment}: the lab's own offers every capability`);
      const skippedOnTeam = t.skipped.map((s) => s.check);
      assert.deepEqual(
        names(l).filter((n) => !skippedOnTeam.includes(n)),
        names(t),
        l.experiment,
      );
      for (const s of t.skipped) assert.match(s.reason, /only the lab's own services/, `${t.experiment}: ${s.check}`);
    }
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
      const idem = await run(idempotency, target, { copies: 1, settleMs: 1000 });
      const c = idem.checks.find((x) => x.check === NO_SECOND);
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
      const dlq = await run(deadLetter, target, { waitMs: 2000 });
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
