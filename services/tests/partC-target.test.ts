// Part C through a target file: the lab's own Part C started by hand on free ports (each service
// by a shell command that writes its pid file, on a Kafka of the test's own), measured as a
// team's implementation is — the checks pass, nothing of the lab's is started, its tap groups
// are gone afterwards and the implementation's groups' offsets are never moved back. A
// deliberately faulty analytics that counts duplicates fails the duplicate check, with a reason
// that names the fault. Then the same experiments through lab.yml (the lab starting its own
// services) give the same checks, but for those only the lab's own can show (white-box).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { Kafka, logLevel, type Admin } from "kafkajs";
import { distDir } from "../common/paths.js";
import { answers, waitUntil } from "../common/wait.js";
import { BROKERS, isolatedBrokerEnv, useEnv } from "../harness/run/brokers/index.js";
import { runExperiment, type ExperimentResult } from "../harness/judge/experiment.js";
import { KAFKA_SERVICE_MEMORY } from "../harness/run/parts.js";
import { isAlive, listRecords } from "../harness/run/processes.js";
import { LAB_TARGET_FILE, loadTarget, type Target } from "../harness/judge/target.js";
import { runTargetCommand } from "../harness/judge/target-control.js";
import { GROUPS, TOPICS } from "../partC-kafka/lab/client.js";
import { openPartC, withPartC, type PartC } from "../partC-kafka/lab/implementation.js";
import { TAP_GROUP_PREFIX } from "../partC-kafka/lab/kafka-tap.js";
import { lagExperiment } from "../partC-kafka/experiments/lag.js";
import { loadExperiment } from "../partC-kafka/experiments/load.js";
import { replayExperiment } from "../partC-kafka/experiments/replay.js";
import { runScenario } from "../faults/index.js";
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

/** The three experiments at small sizes, the same on every target. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each experiment's data has its own shape
const EXPERIMENTS: Record<"load" | "lag" | "replay", (impl: PartC) => Promise<ExperimentResult<any>>> = {
  load: (impl: PartC) => runExperiment(loadExperiment, impl, { count: 300 }),
  lag: (impl: PartC) => runExperiment(lagExperiment, impl, { count: 200, throttleMs: 5, sampleMs: 100 }),
  replay: (impl: PartC) => runExperiment(replayExperiment, impl, { seedCount: 100, duplicates: 4 }),
};
const onTarget = (t: Target, name: keyof typeof EXPERIMENTS) => withPartC(t, {}, (impl) => EXPERIMENTS[name](impl));
/** What each experiment checked and skipped on the hand-started target, to compare with lab.yml's. */
const seen: Record<string, ExperimentResult> = {};
const names = (checks: { check: string }[]) => checks.map((c) => c.check);
const WHITE_BOX = /lab's own services' \(managed_by: lab\)/;

describe("Part C through a target: the lab's own services, started by hand, judged from outside", () => {
  test("load: N OrderPlaced on the wire, one inventory event per order, analytics counts each once; hands off", async () => {
    const home = tempHome();
    const offsets = await offsetsOfBoth();
    const r = (seen.load = await onTarget(loadTarget(file), "load"));
    assert.equal(r.verdict, "PASS", JSON.stringify(r.checks));
    assert.equal(r.checks.length, 5, JSON.stringify(r.checks));
    assert.deepEqual(
      r.skipped.map((s) => s.check),
      ["the curve of events acknowledged by Kafka (the producer's /health)"],
    );
    assert.match(r.skipped[0].reason, WHITE_BOX);
    assert.equal(r.data.on_wire?.order_placed, 300);
    assert.equal(r.data.produced?.via, "load_test");
    assert.ok(
      r.notes.every((n) => n.passed),
      JSON.stringify(r.notes),
    );
    assert.equal(r.target.name, "hand-started-partc");
    assert.equal(r.target.endpoints.kafka, bootstrap);
    assert.ok(
      r.data.samples.some(
        (s: { series: string; value: number }) => s.series === "inventory events on the wire" && s.value === 300,
      ),
    );
    await assertHandsOff(home, offsets);
  });

  test("lag: inventory stopped by its pid file, the lag grows by the burst, started by its command (throttled), back to 0", async () => {
    const home = tempHome();
    const offsets = await offsetsOfBoth();
    const pidBefore = pidOf("inventory");
    const r = (seen.lag = await onTarget(loadTarget(file), "lag"));
    assert.equal(r.verdict, "PASS", JSON.stringify(r.checks));
    assert.deepEqual(r.skipped, []);
    assert.equal(r.checks.length, 4);
    assert.ok((r.data.lag_while_stopped ?? 0) >= 200, `lag while stopped: ${r.data.lag_while_stopped}`);
    assert.equal(isAlive(pidBefore), false, "the first inventory was not stopped");
    assert.ok(isAlive(pidOf("inventory")), "inventory was not started again");
    assert.equal(
      new Set(r.data.samples.map((s: { partition: number }) => s.partition)).size,
      3,
      "every partition sampled",
    );
    await assertHandsOff(home, offsets);
  });

  test("replay: equal metrics before and after; copies of OrderPlaced already counted are not counted again", async () => {
    const offsets = await offsetsOfBoth();
    const r = (seen.replay = await onTarget(loadTarget(file), "replay"));
    assert.deepEqual(
      r.checks.map((c) => c.passed),
      [true, true, true],
      JSON.stringify(r.checks),
    );
    assert.deepEqual(
      r.skipped.map((s) => s.check),
      ["the replay read the whole log again"],
    );
    assert.match(r.checks[1].observed, /each copy has the same eventId as its original/);
    assert.equal(r.data.duplicates?.copies, 4);
    await assertHandsOff(tempHome(), offsets);
  });

  test("what the file does not give is not observable, with the reason", async () => {
    const bare = path.join(dir, "bare.yml");
    fs.writeFileSync(bare, `name: bare\npartC:\n  services:\n    producer: ${url("producer")}\n`);
    const t = loadTarget(bare);
    const lag = await onTarget(t, "lag");
    assert.equal(lag.verdict, "NOT OBSERVABLE");
    assert.deepEqual(lag.checks, []);
    assert.match(lag.skipped.map((s) => s.reason).join("; "), /no Kafka \(partC\.broker/);
    const replay = await onTarget(t, "replay");
    assert.equal(replay.verdict, "NOT OBSERVABLE");
    assert.deepEqual(
      replay.skipped.map((s) => s.reason),
      ["the target gives no metrics URL (partC.metrics.url)"],
    );
  });

  test("C-duplicates runs through the file: copies of orders counted once, live and after a replay", async () => {
    const opts = { home: tempHome(), quick: true, seed: 42, log: () => {}, target: loadTarget(file) };
    const r = await runScenario("C-duplicates", opts);
    assert.deepEqual(
      r.invariants.filter((i) => !i.passed),
      [],
    );
    assert.equal(r.verdict, "PASS");
    assert.ok(r.orders_sent > 0 && r.orders_acknowledged === r.orders_sent, JSON.stringify(r));
  });

  test("C-consumer-crash runs through the file with its kill -9 at a chosen moment skipped, with the reason", async () => {
    const opts = { home: tempHome(), quick: true, seed: 42, log: () => {}, target: loadTarget(file) };
    const r = await runScenario("C-consumer-crash", opts);
    const skipped = (r.details?.skipped ?? []) as { check: string; reason: string }[];
    assert.match(skipped.map((s) => `${s.check}: ${s.reason}`).join("; "), /killed \(kill -9\).*managed_by: lab/);
    assert.equal(r.lost, 0, JSON.stringify(r.invariants));
    assert.ok(r.orders_sent > 0, "the burst was produced");
  });

  test("the fault scenarios that need the lab's own processes: not observable on the file, with the reason", async () => {
    const opts = { home: tempHome(), quick: true, seed: 42, log: () => {}, target: loadTarget(file) };
    for (const name of ["C-broker-restart", "C-bad-input"]) {
      const r = await runScenario(name, opts);
      assert.equal(r.verdict, "NOT OBSERVABLE", name);
      assert.equal(r.orders_sent, 0, `${name} sent nothing`);
      assert.match(JSON.stringify(r.details?.skipped), WHITE_BOX, name);
    }
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
      const r = await withPartC(loadTarget(faultyFile), {}, (impl) =>
        runExperiment(replayExperiment, impl, { seedCount: 20, duplicates: 3 }),
      );
      const [replay, once, replayed] = r.checks;
      assert.equal(r.verdict, "FAIL");
      assert.equal(replay.passed, true, JSON.stringify(replay));
      assert.equal(once.passed, false, JSON.stringify(once));
      assert.match(
        once.observed,
        /^orders \d+ → \d+ after 3 copies; .*analytics counted 3 redelivered event\(s\) again: it does not deduplicate by eventId/,
      );
      assert.equal(replayed.passed, false);
      assert.match(replayed.observed, /the replay counted 3 copies as orders/);
      // It has no orders_per_minute: skipped with the reason, in its own field names' terms.
      assert.deepEqual(r.skipped.map((s) => s.reason).slice(0, 1), [
        "the metrics have no field orders_per_minute (partC.metrics.fields.orders_per_minute)",
      ]);
    } finally {
      await faulty.close();
      await admin.deleteGroups([faulty.group]).catch(() => {});
    }
  });
});

describe("the same experiments through lab.yml: the lab's own services, started by the lab", () => {
  test("give the same checks as the hand-started copy, plus those only the lab's own can show", async () => {
    for (const name of SERVICES) {
      process.kill(pidOf(name), "SIGTERM");
      await waitUntil(() => !isAlive(pidOf(name)), `${name} to stop`, 30_000);
    }
    const home = env.LAB_HOME; // its Kafka is found running there, and stays
    const impl = await openPartC(loadTarget(LAB_TARGET_FILE), { home, ports: await freePortsFor("partC") });
    try {
      for (const name of ["load", "lag", "replay"] as const) {
        const lab = await EXPERIMENTS[name](impl);
        const team = seen[name];
        assert.ok(team, `${name} ran on the hand-started copy first`);
        assert.equal(lab.verdict, "PASS", `${name}: ${JSON.stringify(lab.checks)}`);
        assert.deepEqual(lab.skipped, [], name);
        assert.equal(lab.target.managed_by, "lab");
        const whiteBox = names(team.skipped);
        assert.deepEqual(
          names(lab.checks).filter((c) => !whiteBox.includes(c)),
          names(team.checks),
          name,
        );
      }
    } finally {
      await impl.close();
    }
    assert.deepEqual(
      listRecords(home).filter((r) => r.name.startsWith("partC-")),
      [],
      "the lab stopped what it started",
    );
  });
});
