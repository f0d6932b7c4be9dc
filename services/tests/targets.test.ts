// Targets: the implementation under test as a file. The shipped targets load; every kind of
// mistake in a target is one error with its line; a team that brings only its services starts
// just the lab's brokers.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import amqp from "amqplib";
import { Kafka, logLevel } from "kafkajs";
import { projectRoot } from "../common/paths.js";
import { BROKERS, isolatedBrokerEnv } from "../harness/brokers/index.js";
import { portInUse } from "../harness/ports.js";
import { listRecords } from "../harness/processes.js";
import {
  LAB_TARGET_FILE,
  loadTarget,
  parseTarget,
  targetFile,
  TargetError,
  type TargetProblem,
} from "../harness/target.js";

const targetsDir = path.join(projectRoot, "lab-scripts", "targets");

/** The problems of a target text that must not load. */
function problemsOf(text: string): TargetProblem[] {
  try {
    parseTarget(text, "/nowhere/t.yml");
  } catch (err) {
    assert.ok(err instanceof TargetError, `not a TargetError: ${(err as Error).message}`);
    return err.problems;
  }
  assert.fail("the target loaded");
}

describe("targets: the shipped files", () => {
  test("lab.yml is the lab's own services and the default; original-lab.yml is the original contract, run by its owner", () => {
    assert.equal(targetFile(undefined, {}), LAB_TARGET_FILE);
    const lab = loadTarget(path.join(targetsDir, "lab.yml"));
    assert.equal(lab.lab, true);
    const original = loadTarget(path.join(targetsDir, "original-lab.yml"));
    assert.equal(original.lab, false);
    assert.equal(original.partA?.services.order, "http://localhost:8080");
    assert.match(original.partA?.faults?.inventory_delay?.url ?? "", /\/set-delay-time\?delay-time=\{seconds\}$/);
    assert.equal(original.partB?.broker?.exchange, "orders-ex");
    assert.equal(original.partB?.broker?.dlq, "order.placed.dlq");
    assert.deepEqual(original.partC?.broker?.topics, { orders: "orders", inventory_events: "inventory-events" });
    assert.equal(original.partC?.broker?.groups?.inventory, "inventory-service-group");
  });

  test("--target wins over LAB_TARGET, which wins over the lab's own", () => {
    assert.equal(targetFile("a.yml", { LAB_TARGET: "b.yml" }), path.resolve("a.yml"));
    assert.equal(targetFile(undefined, { LAB_TARGET: "b.yml" }), path.resolve("b.yml"));
  });

  test("the README's docker compose example is a valid target", () => {
    const readme = fs.readFileSync(path.join(targetsDir, "README.md"), "utf8");
    const example = /## Example: services run by `docker compose`[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(example, "no yaml block under the docker compose example");
    const t = parseTarget(example, path.join(targetsDir, "target.yml"));
    assert.equal(t.partA?.control?.inventory?.stop, "docker compose stop inventory_service");
  });
});

describe("targets: every mistake is one error with its line", () => {
  const cases: [string, string, number, RegExp][] = [
    [
      "unknown field",
      "name: t\npartA:\n  services:\n    order: http://h:1\n    ordr: http://h:2\n",
      5,
      /partA\.services\.ordr: unknown field "ordr" \(did you mean "order"\?\)/,
    ],
    [
      "wrong type",
      "name: t\npartA:\n  services:\n    order: 8080\n",
      4,
      /partA\.services\.order: expected a string, found a number 8080/,
    ],
    [
      "missing required field",
      "name: t\npartA:\n  place_order: { path: /order }\n",
      2,
      /partA: missing required field "services"/,
    ],
    ["missing name", "partA:\n  services: { order: http://h:1 }\n", 1, /missing required field "name"/],
    [
      "bad URL",
      "name: t\npartA:\n  services:\n    order: localhost:8080\n",
      4,
      /"localhost:8080" is not an http\(s\):\/\/ URL/,
    ],
    [
      "bad AMQP URL",
      "name: t\npartB:\n  services: { order: http://h:1 }\n  broker:\n    amqp_url: http://h:5672\n    exchange: e\n    routing_key: k\n",
      5,
      /partB\.broker\.amqp_url: "http:\/\/h:5672" is not an amqp:\/\/ URL/,
    ],
    [
      "bad bootstrap",
      "name: t\npartC:\n  services: { producer: http://h:1 }\n  broker:\n    bootstrap: h\n    topics: { orders: o, inventory_events: i }\n",
      5,
      /not host:port/,
    ],
    [
      "a fault switch without its placeholder",
      "name: t\npartA:\n  services: { order: http://h:1 }\n  faults:\n    inventory_delay:\n      url: http://h:2/delay\n",
      5,
      /inventory_delay: needs the placeholder \{seconds\}/,
    ],
    [
      "an unknown placeholder",
      "name: t\npartA:\n  services: { order: http://h:1 }\n  faults:\n    inventory_fail_rate:\n      url: http://h:2/f?r={ratio}\n",
      6,
      /unknown placeholder \{ratio\}: use \{rate\}/,
    ],
    [
      "a method not allowed",
      "name: t\npartC:\n  services: { producer: http://h:1 }\n  replay: { method: PATCH, url: http://h:2/r }\n",
      4,
      /"PATCH" is not one of "GET", "POST", "PUT"/,
    ],
    ["not YAML", "name: t\npartA: x: y\nfoo: 1\n", 2, /not valid YAML/],
    ["a duplicate key", "name: t\nname: u\n", 2, /not valid YAML: Map keys must be unique/],
    ["no part", "name: t\n", 1, /names no part/],
  ];
  for (const [what, text, line, message] of cases) {
    test(what, () => {
      const problems = problemsOf(text);
      assert.equal(problems.length, 1, `one mistake, one error: ${JSON.stringify(problems)}`);
      assert.equal(problems[0].line, line, `${what}: ${JSON.stringify(problems[0])}`);
      assert.match(`${problems[0].where}: ${problems[0].message}`, message);
    });
  }

  test("several mistakes: each its own error with its own line, in order, in the thrown message", () => {
    const text = "name: t\nversion: 2\npartA:\n  services:\n    order: nope\n  helth_path: /h\n";
    const problems = problemsOf(text);
    assert.deepEqual(
      problems.map((p) => p.line),
      [2, 5, 6],
    );
    assert.throws(
      () => parseTarget(text, "/nowhere/t.yml"),
      /3 mistakes\n {2}line 2: version: .*\n {2}line 5: .*\n {2}line 6: /,
    );
  });

  test("a file that does not exist says so", () => {
    assert.throws(() => loadTarget("/nowhere/missing.yml"), /target file \/nowhere\/missing\.yml does not exist/);
  });
});

/** A lab script run as a student would, with this env on top (exit code and output). */
export function runScript(
  script: string,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 300_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const zx = path.join(projectRoot, "node_modules", "zx", "build", "cli.js");
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [zx, path.join(projectRoot, "lab-scripts", script), ...args],
      { cwd: projectRoot, timeout: timeoutMs, env: { ...process.env, ...env } },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

describe("up.mjs brokers: the lab's brokers alone, for a team that brings its services", () => {
  test("up.mjs brokers starts RabbitMQ and Kafka with Part C's topics and no service; down.mjs brokers stops them", async () => {
    const env: Record<string, string> = { ...(await isolatedBrokerEnv("targets-brokers")), LAB_BROKER_MODE: "native" };
    const home = env.LAB_HOME;
    try {
      const up = await runScript("up.mjs", ["brokers"], env);
      assert.equal(up.code, 0, `up.mjs brokers: ${up.stdout}\n${up.stderr}`);
      assert.match(up.stdout, /rabbitmq\s+amqp:\/\//);
      assert.match(up.stdout, /kafka\s+127\.0\.0\.1:/);
      assert.deepEqual(
        listRecords(home).filter((r) => r.meta?.part),
        [],
        "a service of the lab was started",
      );
      const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${env.RABBITMQ_PORT}`);
      await conn.close();
      const admin = new Kafka({
        clientId: "targets-test",
        brokers: [`127.0.0.1:${env.KAFKA_PORT}`],
        logLevel: logLevel.NOTHING,
      }).admin();
      await admin.connect();
      const topics = await admin.listTopics();
      await admin.disconnect();
      for (const t of ["orders", "inventory-events"]) assert.ok(topics.includes(t), `topic ${t}: ${topics.join(", ")}`);

      const down = await runScript("down.mjs", ["kafka"], env);
      assert.equal(down.code, 0, down.stderr);
      assert.match(down.stdout, /stopped kafka/);
      assert.equal(await portInUse(Number(env.KAFKA_PORT)), false, "kafka still listens");
      assert.equal(await portInUse(Number(env.RABBITMQ_PORT)), true, "down.mjs kafka stopped rabbitmq too");
      const rest = await runScript("down.mjs", ["brokers"], env);
      assert.match(rest.stdout, /stopped rabbitmq/);
      assert.equal(await portInUse(Number(env.RABBITMQ_PORT)), false, "rabbitmq still listens");
    } finally {
      for (const id of ["rabbitmq", "kafka"] as const) await BROKERS[id].down({ home }).catch(() => {});
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
