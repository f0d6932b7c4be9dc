// Part C's safeguards against a real Kafka of this test's own: each safeguard's experiment at
// quick sizes, with it (0 anomalies) and without it (the anomaly, counted by the same checker);
// the switch itself (an unknown name stops a service at start; /health reports the switches).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { isolatedBrokerEnv, useEnv } from "../harness/run/brokers/index.js";
import { down, up, type LabOptions } from "../harness/run/lifecycle.js";
import { PART_IDS } from "../harness/run/parts.js";
import { labHome } from "../common/paths.js";
import { healthOf, endpoints } from "../partC-kafka/lab/client.js";
import { PARTC_SAFEGUARD_EXPERIMENTS as SAFEGUARDS } from "../partC-kafka/experiments/index.js";
import { PARTC_SAFEGUARDS } from "../partC-kafka/switches.js";
import type { SafeguardRun } from "../harness/judge/safeguards.js";
import { freePortsFor } from "./support.js";

let restoreEnv: () => void;
before(async () => {
  const env = await isolatedBrokerEnv("partC-safeguards");
  restoreEnv = useEnv({ ...env, LAB_BROKER_MODE: "native", RESULTS_DIR: path.join(env.LAB_HOME, "results") });
});
after(async () => {
  for (const part of PART_IDS) await down(part, { home: labHome() });
  restoreEnv();
});

const opts = () => ({ home: labHome(), quick: true, seed: 42, log: () => {} });
const experiment = (name: string) => SAFEGUARDS.find((s) => s.safeguard === name)!;
const explain = (r: SafeguardRun) => `${r.observed} ${JSON.stringify(r.counts)}`;

test("every Part C safeguard of the catalogue has its experiment", () => {
  assert.deepEqual(SAFEGUARDS.map((s) => s.safeguard).sort(), Object.keys(PARTC_SAFEGUARDS).sort());
});

test("an unknown safeguard name stops a service at start, naming the known ones", async () => {
  const lab: LabOptions = {
    home: labHome(),
    ports: await freePortsFor("partC"),
    mode: "native",
    only: ["producer"],
    env: { SAFEGUARDS_OFF: "event-time,dedup" },
  };
  await assert.rejects(up("partC", lab), (err: Error) => {
    assert.match(err.message, /did not become healthy/);
    assert.match(err.message, /SAFEGUARDS_OFF/);
    assert.match(err.message, /commit-after-ack\|dedupe\|event-time\|idempotent-producer/);
    return true;
  });
});

test("/health reports each service's switches, and a switch off is warned at start", async () => {
  const lab: LabOptions = {
    home: labHome(),
    ports: await freePortsFor("partC"),
    mode: "native",
    env: { SAFEGUARDS_OFF: "event-time,idempotent-producer" },
  };
  const running = await up("partC", lab);
  try {
    const urls = endpoints(running);
    assert.deepEqual((await healthOf(urls.producer)).safeguards, { "idempotent-producer": "off" });
    assert.deepEqual((await healthOf(urls.inventory)).safeguards, { "commit-after-ack": "on" });
    assert.deepEqual((await healthOf(urls.analytics)).safeguards, { dedupe: "on", "event-time": "off" });
    assert.match(fs.readFileSync(running.services.analytics.log, "utf8"), /SAFEGUARD OFF: event-time/);
    assert.doesNotMatch(fs.readFileSync(running.services.inventory.log, "utf8"), /SAFEGUARD OFF/);
  } finally {
    await down("partC", { ...lab, keepBrokers: true });
  }
});

test("commit-after-ack: kill -9 of inventory loses no order with it; without it, the committed chunk in hand is lost", async () => {
  const exp = experiment("commit-after-ack");
  const withIt = await exp.run(opts(), true);
  assert.equal(withIt.anomalies, 0, explain(withIt));
  const without = await exp.run(opts(), false);
  assert.ok(without.counts.lost > 0, `orders lost without the safeguard: ${explain(without)}`);
  assert.equal(without.counts["answered twice"], 0, explain(without));
  assert.equal(without.anomalies, without.counts.lost);
});

test("dedupe: every copy counted once with it; without it, each copy counted, live and in a replay", async () => {
  const exp = experiment("dedupe");
  const withIt = await exp.run(opts(), true);
  assert.equal(withIt.anomalies, 0, explain(withIt));
  const without = await exp.run(opts(), false);
  // Each copy counted once more as it arrives, and once more by the replay of the log that holds it.
  assert.equal(without.counts["counted twice"], 2 * without.counts.acknowledged, explain(without));
  assert.ok(without.counts.acknowledged > 0, explain(without));
});

test("event-time: a day-old log counted in its own minutes with it; without it, in the minute it is read", async () => {
  const exp = experiment("event-time");
  const withIt = await exp.run(opts(), true);
  assert.equal(withIt.anomalies, 0, explain(withIt));
  const without = await exp.run(opts(), false);
  // The history's 5 minutes get nothing, and the minute (or two) it was read in gets them all.
  const wrong = without.counts["minutes counted wrong"];
  assert.ok(wrong >= 6 && wrong <= 7, explain(without));
});

test("idempotent-producer: a retried send is written once with it; without it, twice", async () => {
  const exp = experiment("idempotent-producer");
  const withIt = await exp.run(opts(), true);
  // Every order acknowledged, each in the log once and at the offset it was acknowledged with
  // (kafkajs with concurrent sends lost some and acknowledged them at another order's offset).
  assert.equal(withIt.counts.acknowledged, withIt.counts.sent, explain(withIt));
  assert.equal(withIt.anomalies, 0, explain(withIt));
  assert.equal(withIt.counts["acknowledged at another order's offset"], 0, explain(withIt));
  const without = await exp.run(opts(), false);
  assert.ok(without.counts["written twice"] > 0, `written twice without the safeguard: ${explain(without)}`);
  assert.equal(without.counts.lost, 0, explain(without));
  // No sequence numbers: the broker appends every batch it gets, each answered with its own offset.
  assert.equal(without.counts["acknowledged at another order's offset"], 0, explain(without));
});
