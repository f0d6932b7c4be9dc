// The harness's lifecycle rule: an experiment starts what of a part is missing, brokers
// included, and stops exactly what it started — never what the student had running.
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, test } from "node:test";
import { BROKERS, isolatedBrokerEnv, useEnv } from "../harness/brokers/index.js";
import { down, openPart, processName, up, usePart } from "../harness/lifecycle.js";
import { isAlive, readRecord } from "../harness/processes.js";
import { freePortsFor } from "./support.js";

let home: string;
let restoreEnv: () => void;
let ports: Record<string, number>;

before(async () => {
  const env = await isolatedBrokerEnv("harness-test");
  home = env.LAB_HOME;
  restoreEnv = useEnv({ ...env, LAB_BROKER_MODE: "native" });
  ports = await freePortsFor("partB");
});

after(async () => {
  await down("partB", { home });
  restoreEnv();
  fs.rmSync(home, { recursive: true, force: true });
});

const alive = (service: string) => {
  const r = readRecord(processName("partB", service), home);
  return r !== undefined && isAlive(r.pid);
};
const brokerRunning = async () => (await BROKERS.rabbitmq.status({ home })).running;

test("openPart on nothing: starts the broker and every service, and close stops them all", async () => {
  const open = await openPart("partB", { home, ports });
  assert.deepEqual(open.running.started.brokers, ["rabbitmq"]);
  assert.deepEqual([...open.running.started.services].sort(), ["inventory", "notification", "order"]);
  assert.ok(await brokerRunning());
  await open.close();
  for (const s of ["inventory", "notification", "order"]) assert.equal(alive(s), false, `${s} stopped`);
  assert.equal(await brokerRunning(), false, "the broker it started is stopped");
});

test("usePart with the broker and one service already up: starts the rest, stops only those", async () => {
  const mine = await up("partB", { home, ports });
  await down("partB", { home, only: ["notification", "order"] });
  assert.deepEqual(mine.started.brokers, ["rabbitmq"]);
  const started = await usePart("partB", { home, ports }, async (running) => {
    assert.deepEqual(running.started.brokers, []);
    return [...running.started.services].sort();
  });
  assert.deepEqual(started, ["notification", "order"]);
  assert.ok(alive("inventory"), "the service that was running still runs");
  assert.equal(alive("order"), false);
  assert.ok(await brokerRunning(), "the broker that was running still runs");
});
