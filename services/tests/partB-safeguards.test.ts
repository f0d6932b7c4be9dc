// Part B's safeguards against a RabbitMQ of the test's own, at quick sizes: each one's scenario
// WITH it counts no anomaly, and WITHOUT it counts the anomaly it exists to prevent. A name the
// part does not know stops a service at start; /health says which switches are off.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { isolatedBrokerEnv, useEnv } from "../harness/run/brokers/index.js";
import { down } from "../harness/run/lifecycle.js";
import { safeguardSource, type SafeguardRun } from "../harness/judge/safeguards.js";
import type { ScenarioOptions } from "../harness/judge/verdict.js";
import { projectRoot } from "../common/paths.js";
import { stackOptions } from "../harness/run/stack.js";
import { LAB_TARGET_FILE, loadTarget } from "../harness/judge/target.js";
import { PARTB_SAFEGUARD_EXPERIMENTS as SAFEGUARDS } from "../partB-rabbitmq/experiments/index.js";
import { withPartB } from "../partB-rabbitmq/lab/implementation.js";
import { PARTB_SAFEGUARDS } from "../partB-rabbitmq/switches.js";

let opts: ScenarioOptions;
let restoreEnv: () => void;

before(async () => {
  const env = await isolatedBrokerEnv("partB-safeguards-test");
  restoreEnv = useEnv({ ...env, LAB_BROKER_MODE: "native" });
  opts = { home: env.LAB_HOME, quick: true, seed: 42, log: () => {} };
});

after(async () => {
  await down("partB", { home: opts.home });
  restoreEnv();
  fs.rmSync(opts.home, { recursive: true, force: true });
});

const experiment = (name: string) => {
  const found = SAFEGUARDS.find((s) => s.safeguard === name);
  assert.ok(found, `no experiment for ${name}`);
  return found;
};

test("every safeguard of the catalogue has its experiment, and only those", () => {
  assert.deepEqual(SAFEGUARDS.map((s) => s.safeguard).sort(), Object.keys(PARTB_SAFEGUARDS).sort());
  for (const s of SAFEGUARDS)
    assert.equal(s.prevents, PARTB_SAFEGUARDS[s.safeguard as keyof typeof PARTB_SAFEGUARDS].prevents);
});

test("every safeguard's code is a marked region of the service's source (what the notebook shows)", () => {
  const src = (f: string) => path.join(projectRoot, "services", "partB-rabbitmq", f);
  const where = {
    confirms: "order.ts",
    durability: "topology.ts",
    "manual-ack": "connection.ts",
    "idempotent-consumer": "inventory-store.ts",
    "dead-letter": "connection.ts",
  };
  for (const [name, file] of Object.entries(where)) assert.ok(safeguardSource(src(file), name).trim().length > 0, name);
  assert.match(safeguardSource(src("inventory-store.ts"), "idempotent-consumer"), /processedDb\.get\(messageId\)/);
});

test("an unknown safeguard name stops a service at start, and the message lists the names", () => {
  const r = spawnSync(process.execPath, [path.join(projectRoot, "dist", "partB-rabbitmq", "inventory.js")], {
    env: { ...process.env, SAFEGUARDS_OFF: "idempotency", DATA_DIR: path.join(opts.home, "unknown-name") },
    encoding: "utf8",
    timeout: 20_000,
  });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /SAFEGUARDS_OFF/);
  for (const name of Object.keys(PARTB_SAFEGUARDS)) assert.ok(r.stderr.includes(name), `the message names ${name}`);
});

test("/health reports each service's switches; a switch off is warned about at start", async () => {
  const lab = await stackOptions("partB", opts, "T-health");
  lab.env = { ...lab.env, SAFEGUARDS_OFF: "idempotent-consumer,confirms" };
  await withPartB(loadTarget(LAB_TARGET_FILE), lab, async (impl) => {
    assert.deepEqual((await impl.stats("inventory")).safeguards, {
      "manual-ack": "on",
      "idempotent-consumer": "off",
      "dead-letter": "on",
    });
    assert.deepEqual((await impl.stats("order")).safeguards, { confirms: "off", durability: "on" });
    assert.deepEqual((await impl.stats("notification")).safeguards, {});
    const log = fs.readFileSync(path.join(lab.home!, "logs", "partB-inventory.log"), "utf8");
    assert.match(log, /SAFEGUARD OFF: idempotent-consumer/);
    assert.doesNotMatch(log, /SAFEGUARD OFF: confirms/); // the order service's to say
  });
});

/** Both runs of one safeguard, WITH first, as `npm run safeguards` does them. */
async function bothRuns(name: string): Promise<{ with: SafeguardRun; without: SafeguardRun }> {
  const exp = experiment(name);
  return { with: await exp.run(opts, true), without: await exp.run(opts, false) };
}

describe("with each safeguard: 0 anomalies; without it: the anomaly, counted", () => {
  test("idempotent-consumer: a redelivered OrderPlaced reserves again (stock taken twice, a second event)", async () => {
    const r = await bothRuns("idempotent-consumer");
    assert.equal(r.with.anomalies, 0, r.with.observed);
    assert.equal(r.with.counts.duplicated, 0);
    assert.ok(r.without.counts.duplicated > 0, r.without.observed);
    assert.match(r.without.observed, /burger: 9 → [0-8]/);
  });

  test("dead-letter: poison is requeued, not dead-lettered", async () => {
    const r = await bothRuns("dead-letter");
    assert.equal(r.with.anomalies, 0, r.with.observed);
    assert.ok(r.without.counts.not_dead_lettered >= 2, r.without.observed);
  });

  test("manual-ack: kill -9 of inventory with auto-acked messages in hand loses them", async () => {
    const r = await bothRuns("manual-ack");
    assert.equal(r.with.anomalies, 0, r.with.observed);
    assert.ok(r.without.counts.lost > 0, r.without.observed);
  });

  test("confirms: orders answered 202 while RabbitMQ restarts are lost without the outbox's confirms", async () => {
    const r = await bothRuns("confirms");
    assert.equal(r.with.anomalies, 0, r.with.observed);
    assert.ok(r.without.counts.lost > 0, r.without.observed);
  });

  test("durability: a RabbitMQ restart empties transient queues; the next run declares them durable again", async () => {
    const r = await bothRuns("durability");
    assert.equal(r.with.anomalies, 0, r.with.observed);
    assert.ok(r.without.counts.lost > 0, r.without.observed);
    // The run without it deleted its transient queues on close: services with it declare them
    // durable again and become ready (a queue left transient would refuse them: PRECONDITION_FAILED).
    const lab = await stackOptions("partB", opts, "T-durable-again");
    await withPartB(loadTarget(LAB_TARGET_FILE), lab, async (impl) => (await impl.probe()).close());
  });
});
