// Part B's safeguards against a RabbitMQ of the test's own, at quick sizes: each one's scenario
// WITH it counts no anomaly, and WITHOUT it counts the anomaly it exists to prevent. A name the
// part does not know stops a service at start; /health says which switches are off.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { isolatedBrokerEnv, useEnv } from "../harness/brokers/index.js";
import { down } from "../harness/lifecycle.js";
import { safeguardSource, type SafeguardRun } from "../harness/safeguards.js";
import type { ScenarioOptions } from "../harness/verdict.js";
import { projectRoot } from "../common/paths.js";
import { SAFEGUARDS } from "../partB-rabbitmq/safeguards/index.js";
import { openPartBStack } from "../partB-rabbitmq/faults/stack.js";
import { labImplementation } from "../partB-rabbitmq/lab/implementation.js";
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
  const stack = await openPartBStack({ ...opts, without: "idempotent-consumer,confirms" }, "T-health");
  try {
    const impl = labImplementation(stack.running, stack.lab);
    assert.deepEqual((await impl.stats("inventory")).safeguards, {
      "manual-ack": "on",
      "idempotent-consumer": "off",
      "dead-letter": "on",
    });
    assert.deepEqual((await impl.stats("order")).safeguards, { confirms: "off", durability: "on" });
    assert.deepEqual((await impl.stats("notification")).safeguards, {});
    const log = fs.readFileSync(stack.running.services.inventory.log, "utf8");
    assert.match(log, /SAFEGUARD OFF: idempotent-consumer/);
    assert.doesNotMatch(log, /SAFEGUARD OFF: confirms/); // the order service's to say
  } finally {
    await stack.release();
  }
});

/** Both runs of one safeguard, WITH first, as `npm run safeguards` does them. */
async function bothRuns(name: string): Promise<{ with: SafeguardRun; without: SafeguardRun }> {
  const exp = experiment(name);
  return { with: await exp.run(opts, true), without: await exp.run(opts, false) };
}

describe("with each safeguard: 0 anomalies; without it: the anomaly, counted", () => {
  test("idempotent-consumer: a redelivered OrderPlaced reserves twice (stock 10 → 8, not 9)", async () => {
    const r = await bothRuns("idempotent-consumer");
    assert.equal(r.with.anomalies, 0, r.with.observed);
    assert.equal(r.with.counts.stock_after, 9);
    assert.equal(r.with.counts.duplicates_recognised, 1);
    assert.equal(r.without.counts.stock_after, 8, r.without.observed);
    assert.equal(r.without.counts.reserved_twice, 1);
    assert.equal(r.without.anomalies, 1);
  });

  test("dead-letter: requeued poison holds the good orders back past the bound", async () => {
    const r = await bothRuns("dead-letter");
    assert.equal(r.with.anomalies, 0, r.with.observed);
    assert.equal(r.with.counts.poison_dead_lettered, 2);
    assert.equal(r.without.counts.poison_dead_lettered, 0);
    assert.ok(r.without.counts.delayed > 0, r.without.observed);
    assert.equal(r.without.anomalies, r.without.counts.delayed);
  });

  test("manual-ack: kill -9 of inventory with auto-acked messages in hand loses them", async () => {
    const r = await bothRuns("manual-ack");
    assert.equal(r.with.anomalies, 0, r.with.observed);
    assert.ok(r.without.counts.lost > 0, r.without.observed);
    // An order killed between its reservation and its answer (the scenario's settle window) keeps
    // its stock with no redelivery to answer it: the checker counts that stock as taken beyond the
    // confirmed orders' (duplicated_effects), an anomaly too — so no assertion that it is 0.
    assert.equal(r.without.anomalies, r.without.counts.lost + r.without.counts.duplicated_effects);
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
    // The run without it deleted its transient queues on release: services with it declare them
    // durable again and become ready (a queue left transient would refuse them: PRECONDITION_FAILED).
    const again = await openPartBStack(opts, "T-durable-again");
    try {
      const probe = await labImplementation(again.running, again.lab).probe();
      await probe.close();
    } finally {
      await again.release();
    }
  });
});
