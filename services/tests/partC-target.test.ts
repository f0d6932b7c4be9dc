// Part C through a target file: the lab's own Part C started by hand on free ports (each service
// by a shell command that writes its pid file, on a Kafka of the test's own), measured as a
// foreign implementation would be — the outside checks pass, nothing of the lab's is started,
// its tap groups are gone afterwards and the implementation's groups' offsets are never moved
// back. Then a deliberately faulty analytics that counts duplicates fails the duplicate check,
// with a reason that names the fault.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { Kafka, logLevel, type Admin } from "kafkajs";
import { distDir } from "../common/paths.js";
import { answers, waitUntil } from "../common/wait.js";
import { BROKERS, isolatedBrokerEnv, useEnv } from "../harness/brokers/index.js";
import { KAFKA_SERVICE_MEMORY } from "../harness/parts.js";
import { isAlive, listRecords } from "../harness/processes.js";
import { loadTarget, runTargetCommand } from "../harness/target.js";
import {
  GROUPS,
  runLagThrough,
  runLoadThrough,
  runReplayThrough,
  TAP_GROUP_PREFIX,
  TOPICS,
  whyLagNotObservable,
} from "../partC-kafka/lab/index.js";
import { startFaultyAnalytics } from "./faulty/partC-analytics-counts-duplicates.js";
import { freePortsFor, runLabScript as runScript, tempHome } from "./support.js";

let env: Record<string, string>;
let restoreEnv: () => void;
let dir: string;
let file: string;
let bootstrap: string;
let ports: Record<string, number>;
let admin: Admin;
const SERVICES = ["producer", "inventory", "analytics"] as const;
const url = (name: string) => `http://127.0.0.1:${ports[name]}`;
const pidOf = (name: string) => Number(fs.readFileSync(path.join(dir, `${name}.pid`), "utf8"));

/** A service started as a team would: env, node, its log, and its pid in a file. */
const startCommand = (name: string) =>
  `PORT=${ports[name]} KAFKA_BROKERS=${bootstrap} RESULTS_DIR=${dir} ${process.execPath} ${KAFKA_SERVICE_MEMORY.join(" ")} ` +
  `${path.join(distDir, "partC-kafka", name === "inventory" ? "inventory-consumer.js" : `${name}.js`)} >> ${name}.log 2>&1 & echo $! > ${name}.pid`;

/** Each group's committed offset per topic/partition: what the lab must never move back. */
async function committed(group: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const t of await admin.fetchOffsets({ groupId: group, topics: [TOPICS.orders, TOPICS.inventoryEvents] }))
    for (const p of t.partitions) out.set(`${t.topic}/${p.partition}`, Number(p.offset));
  return out;
}

/** Nothing of the lab's left: no tap group, no process of the lab in `home`; the groups' offsets only moved forward. */
async function assertHandsOff(home: string, offsetsBefore: Record<string, Map<string, number>>): Promise<void> {
  const { groups } = await admin.listGroups();
  assert.deepEqual(
    groups.filter((g) => g.groupId.startsWith(TAP_GROUP_PREFIX)).map((g) => g.groupId),
    [],
    "a tap group of the lab was left behind",
  );
  assert.deepEqual(listRecords(home), [], "the lab started something of its own");
  for (const [group, before] of Object.entries(offsetsBefore)) {
    const now = await committed(group);
    for (const [tp, offset] of before)
      assert.ok((now.get(tp) ?? -1) >= offset, `${group} ${tp}: ${offset} → ${now.get(tp)}: moved back`);
  }
}

const offsetsOfBoth = async () => ({
  [GROUPS.inventory]: await committed(GROUPS.inventory),
  [GROUPS.analytics]: await committed(GROUPS.analytics),
});

before(async () => {
  env = await isolatedBrokerEnv("partC-target");
  restoreEnv = useEnv({ ...env, LAB_BROKER_MODE: "native" });
  await BROKERS.kafka.up({ home: env.LAB_HOME, mode: "native" }); // with Part C's topics
  bootstrap = `127.0.0.1:${env.KAFKA_PORT}`;
  admin = new Kafka({ clientId: "partC-target-test", brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  dir = tempHome("campusfood-partC-target-");
  ports = await freePortsFor("partC");
  file = path.join(dir, "target.yml");
  fs.writeFileSync(
    file,
    [
      "name: hand-started-partc",
      'version: "0.3.0"',
      "partC:",
      "  services:",
      `    producer: ${url("producer")}`,
      `    analytics: ${url("analytics")}`,
      "  health_path: /ready",
      "  place_order: { path: /produce, body: { items: [{ sku: burrito, qty: 1 }] } }",
      `  load_test: { method: POST, url: "${url("producer")}/load-test", body: { count: "{count}" } }`,
      "  broker:",
      `    bootstrap: ${bootstrap}`,
      `    topics: { orders: ${TOPICS.orders}, inventory_events: ${TOPICS.inventoryEvents} }`,
      `    groups: { inventory: ${GROUPS.inventory}, analytics: ${GROUPS.analytics} }`,
      `  metrics: { url: "${url("analytics")}/metrics" }`,
      `  replay: { method: POST, url: "${url("analytics")}/replay" }`,
      "  control:",
      "    inventory:",
      "      pid_file: inventory.pid",
      `      start: ${JSON.stringify(startCommand("inventory"))}`,
      "",
    ].join("\n"),
  );
  const target = loadTarget(file);
  for (const name of SERVICES) {
    await runTargetCommand(target, startCommand(name));
    await waitUntil(() => answers(`${url(name)}/ready`), `${name} to be ready`, 60_000);
  }
});

after(async () => {
  for (const name of SERVICES) {
    const pid = pidOf(name);
    if (isAlive(pid)) process.kill(pid, "SIGKILL");
  }
  await admin?.disconnect();
  await BROKERS.kafka.down({ home: env.LAB_HOME });
  restoreEnv();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(env.LAB_HOME, { recursive: true, force: true });
});

describe("Part C through a target: the lab's own services, started by hand, judged from outside", () => {
  test("load: N OrderPlaced on the wire, one inventory event per order, analytics counts each once; hands off", async () => {
    const home = tempHome();
    const offsets = await offsetsOfBoth();
    const r = await runLoadThrough(loadTarget(file), { count: 300, home });
    assert.equal(r.kind, "outside");
    if (r.kind !== "outside") return;
    assert.deepEqual(r.skipped, []);
    assert.deepEqual(
      r.checks.filter((c) => !c.passed),
      [],
    );
    assert.equal(r.checks.length, 5, JSON.stringify(r.checks));
    assert.equal(r.on_wire?.order_placed, 300);
    assert.equal(r.produced?.via, "load_test");
    assert.ok(
      r.notes.every((n) => n.passed),
      JSON.stringify(r.notes),
    );
    assert.equal(r.target.name, "hand-started-partc");
    assert.equal(r.target.endpoints.kafka, bootstrap);
    assert.ok(r.samples.some((s) => s.series === "inventory events on the wire" && s.value === 300));
    await assertHandsOff(home, offsets);
  });

  test("lag: inventory stopped by its pid file, the lag grows by the burst, started by its command, back to 0", async () => {
    const home = tempHome();
    const offsets = await offsetsOfBoth();
    const pidBefore = pidOf("inventory");
    const r = await runLagThrough(loadTarget(file), { count: 200, throttleMs: 0, sampleMs: 100, home });
    assert.equal(r.kind, "outside");
    if (r.kind !== "outside") return;
    assert.deepEqual(r.skipped, []);
    assert.deepEqual(
      r.checks.filter((c) => !c.passed),
      [],
    );
    assert.equal(r.checks.length, 3);
    assert.ok((r.lag_while_stopped ?? 0) >= 200, `lag while stopped: ${r.lag_while_stopped}`);
    assert.equal(isAlive(pidBefore), false, "the first inventory was not stopped");
    assert.ok(isAlive(pidOf("inventory")), "inventory was not started again");
    assert.ok(new Set(r.samples.map((s) => s.partition)).size === 3, "every partition sampled");
    await assertHandsOff(home, offsets);
  });

  test("replay: equal metrics before and after; copies of OrderPlaced already counted are not counted again", async () => {
    const offsets = await offsetsOfBoth();
    const r = await runReplayThrough(loadTarget(file), { seedCount: 100, duplicates: 4 });
    assert.equal(r.kind, "outside");
    if (r.kind !== "outside") return;
    assert.deepEqual(r.skipped, []);
    assert.deepEqual(
      r.checks.map((c) => [c.scenario, c.passed]),
      [
        ["replay", true],
        ["duplicates", true],
        ["duplicates", true],
      ],
      JSON.stringify(r.checks),
    );
    assert.match(r.checks[1].observed, /each copy has the same eventId as its original/);
    assert.equal(r.duplicates?.copies, 4);
    await assertHandsOff(tempHome(), offsets);
  });

  test("what the file does not give is skipped with the reason", async () => {
    const bare = path.join(dir, "bare.yml");
    fs.writeFileSync(bare, `name: bare\npartC:\n  services:\n    producer: ${url("producer")}\n`);
    const t = loadTarget(bare);
    assert.match(whyLagNotObservable(t) ?? "", /no Kafka \(partC\.broker\)/);
    const lag = await runLagThrough(t, { count: 1, throttleMs: 0 });
    assert.deepEqual(lag.kind === "outside" && lag.skipped.map((s) => s.scenario), ["outage"]);
    assert.deepEqual(lag.checks, []);
    const replay = await runReplayThrough(t, {});
    assert.deepEqual(replay.kind === "outside" && replay.skipped.map((s) => [s.scenario, s.reason]), [
      ["replay", "the target gives no metrics URL (partC.metrics.url)"],
      ["duplicates", "the target gives no metrics URL (partC.metrics.url)"],
    ]);
  });

  test("partC-load.mjs --target: the summary names the target; --without is refused for a foreign target", async () => {
    const results = tempHome("campusfood-results-");
    const run = await runScript("partC-load.mjs", ["--target", file, "--count", "50"], {
      LAB_HOME: tempHome(),
      RESULTS_DIR: results,
    });
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /Target: hand-started-partc 0\.3\.0/);
    const out = path.join(results, "targets", "hand-started-partc", "partC", "load");
    assert.match(
      fs.readFileSync(path.join(out, "summary.md"), "utf8"),
      /Target: hand-started-partc 0\.3\.0 — producer http:/,
    );
    assert.equal(JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")).target.name, "hand-started-partc");
    const refused = await runScript("partC-replay.mjs", ["--target", file, "--without", "dedupe"]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /--without switches a safeguard of the lab's own services: it cannot be used with a foreign --target/,
    );
    fs.rmSync(results, { recursive: true, force: true });
  });
});

describe("Part C through a target: a faulty analytics that counts duplicates", () => {
  test("the duplicate check fails, and the reason names the fault; the replay check alone passes", async () => {
    const faulty = await startFaultyAnalytics({
      brokers: bootstrap,
      topics: { orders: TOPICS.orders, inventory_events: TOPICS.inventoryEvents },
      group: `faulty-analytics-${Date.now()}`,
    });
    try {
      const faultyFile = path.join(dir, "faulty.yml");
      fs.writeFileSync(
        faultyFile,
        [
          "name: counts-duplicates",
          "partC:",
          `  services: { producer: ${url("producer")}, analytics: ${faulty.url} }`,
          "  broker:",
          `    bootstrap: ${bootstrap}`,
          `    topics: { orders: ${TOPICS.orders}, inventory_events: ${TOPICS.inventoryEvents} }`,
          `    groups: { inventory: ${GROUPS.inventory}, analytics: ${faulty.group} }`,
          "  metrics:",
          `    url: ${faulty.url}/metrics`,
          "    fields: { total_orders: orders, total_reservations: reservations, failed_reservations: failed }",
          `  replay: { method: POST, url: "${faulty.url}/replay" }`,
          "",
        ].join("\n"),
      );
      const r = await runReplayThrough(loadTarget(faultyFile), { seedCount: 20, duplicates: 3 });
      assert.equal(r.kind, "outside");
      if (r.kind !== "outside") return;
      const [replay, once, replayed] = r.checks;
      assert.equal(replay.passed, true, JSON.stringify(replay));
      assert.equal(once.passed, false, JSON.stringify(once));
      assert.match(
        once.observed,
        /^orders \d+ → \d+ after 3 copies; .*analytics counted 3 redelivered event\(s\) again: it does not deduplicate by eventId/,
      );
      assert.equal(replayed.passed, false);
      assert.match(replayed.observed, /the replay counted 3 copies as orders/);
      // It has no orders_per_minute: skipped with the reason, in its own field names' terms.
      assert.deepEqual(
        r.skipped.map((s) => s.reason),
        ["the metrics have no field orders_per_minute (partC.metrics.fields.orders_per_minute)"],
      );
    } finally {
      await faulty.close();
      await admin.deleteGroups([faulty.group]).catch(() => {});
    }
  });
});
