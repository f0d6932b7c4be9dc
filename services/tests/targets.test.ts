// Targets: the implementation under test as a file. The shipped targets load; every kind of
// mistake in a target is one error with its line; a team that brings only its services starts
// just the lab's brokers.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import amqp from "amqplib";
import { Kafka, logLevel } from "kafkajs";
import { distDir, projectRoot } from "../common/paths.js";
import { answers, waitUntil } from "../common/wait.js";
import { latency, type LatencyOptions } from "../partA-sync-rest/experiments/latency.js";
import { connections } from "../partA-sync-rest/experiments/connections.js";
import { openPartA, withPartA } from "../partA-sync-rest/lab/implementation.js";
import { PARTA_SCENARIOS } from "../partA-sync-rest/experiments/index.js";
import { slowDependency } from "../partA-sync-rest/experiments/slow-dependency.js";
import { runExperiment } from "../harness/judge/experiment.js";
import { freePortsFor, runLabScript, tempHome } from "./support.js";
import { BROKERS, isolatedBrokerEnv } from "../harness/run/brokers/index.js";
import { portInUse } from "../harness/run/ports.js";
import { isAlive, listRecords } from "../harness/run/processes.js";
import {
  LAB_TARGET_FILE,
  loadTarget,
  parseTarget,
  targetFile,
  TargetError,
  type TargetProblem,
} from "../harness/judge/target.js";
import { NotObservable, runTargetCommand } from "../harness/judge/target-control.js";

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

  test("the docker compose example of docs/06-your-implementation.md is a valid target", () => {
    const chapter = fs.readFileSync(path.join(projectRoot, "docs", "06-your-implementation.md"), "utf8");
    const example = /## Example: services run by `docker compose`[\s\S]*?```yaml\n([\s\S]*?)```/.exec(chapter)?.[1];
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

describe("up.mjs brokers: the lab's brokers alone, for a team that brings its services", () => {
  test("up.mjs brokers starts RabbitMQ and Kafka with Part C's topics and no service; down.mjs brokers stops them", async () => {
    const env: Record<string, string> = { ...(await isolatedBrokerEnv("targets-brokers")), LAB_BROKER_MODE: "native" };
    const home = env.LAB_HOME;
    try {
      const up = await runLabScript("up.mjs", ["brokers"], env);
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

      const down = await runLabScript("down.mjs", ["kafka"], env);
      assert.equal(down.code, 0, down.stderr);
      assert.match(down.stdout, /stopped kafka/);
      assert.equal(await portInUse(Number(env.KAFKA_PORT)), false, "kafka still listens");
      assert.equal(await portInUse(Number(env.RABBITMQ_PORT)), true, "down.mjs kafka stopped rabbitmq too");
      const rest = await runLabScript("down.mjs", ["brokers"], env);
      assert.match(rest.stdout, /stopped rabbitmq/);
      assert.equal(await portInUse(Number(env.RABBITMQ_PORT)), false, "rabbitmq still listens");
    } finally {
      for (const id of ["rabbitmq", "kafka"] as const) await BROKERS[id].down({ home }).catch(() => {});
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------- Part A through a target

/**
 * The lab's own Part A started by hand on free ports, as a team starts its own: each service by
 * a shell command that writes its pid file. The target file says only that, and the URLs.
 */
describe("Part A through a target: the lab's own services, started by hand, measured as a foreign implementation", () => {
  let dir: string;
  let file: string;
  let ports: Record<string, number>;
  const pidFile = (name: string) => path.join(dir, `${name}.pid`);
  const startCommand = (name: string, env: Record<string, number | string>) =>
    `${Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join(
        " ",
      )} ${process.execPath} ${path.join(distDir, "partA-sync-rest", `${name}.js`)} >> ${name}.log 2>&1 & echo $! > ${name}.pid`;

  before(async () => {
    dir = tempHome("campusfood-target-");
    ports = await freePortsFor("partA");
    const url = (name: string) => `http://127.0.0.1:${ports[name]}`;
    const commands = {
      inventory: startCommand("inventory", { PORT: ports.inventory, DATA_DIR: dir }),
      notification: startCommand("notification", { PORT: ports.notification, DATA_DIR: dir }),
      order: startCommand("order", {
        PORT: ports.order,
        DATA_DIR: dir,
        INVENTORY_URL: url("inventory"),
        NOTIFICATION_URL: url("notification"),
      }),
    };
    const yaml = [
      "name: hand-started-lab",
      'version: "0.1.0"',
      "partA:",
      "  services:",
      ...["order", "inventory", "notification"].map((n) => `    ${n}: ${url(n)}`),
      "  place_order:",
      '    body: { order: "test" }',
      "  declares: { policy: true }",
      "  faults:",
      "    inventory_delay:",
      `      url: ${url("inventory")}/set-delay-time?delay-time={seconds}`,
      "    inventory_fail_rate:",
      `      url: ${url("inventory")}/set-fail-rate?fail-rate={rate}`,
      "  control:",
      "    inventory:",
      "      pid_file: inventory.pid",
      `      start: ${JSON.stringify(commands.inventory)}`,
      "",
    ].join("\n");
    file = path.join(dir, "target.yml");
    fs.writeFileSync(file, yaml);
    const target = loadTarget(file);
    for (const name of ["inventory", "notification", "order"] as const) {
      await runTargetCommand(target, commands[name]);
      await waitUntil(() => answers(`${url(name)}/health`), `${name} to answer`, 30_000);
    }
  });

  after(() => {
    for (const name of ["order", "inventory", "notification"]) {
      const pid = Number(fs.readFileSync(pidFile(name), "utf8"));
      if (isAlive(pid)) process.kill(pid, "SIGKILL");
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The latency experiment on a target file, through the one driver. */
  const latencyOn = (file: string, opts: LatencyOptions, home = tempHome()) =>
    withPartA(loadTarget(file), { home }, (impl) => runExperiment(latency, impl, opts));

  test("the same checks through lab.yml and through the hand-started copy; nothing of the lab is started for a team", async () => {
    const home = tempHome();
    const team = await latencyOn(file, { requests: 2 }, home);
    assert.deepEqual(listRecords(home), [], "the lab started something of its own");
    assert.deepEqual(team.skipped, []);
    assert.equal(team.verdict, "PASS", JSON.stringify(team.checks.filter((c) => !c.passed)));
    assert.deepEqual([...new Set(team.checks.map((c) => c.scenario))], ["baseline", "delay_2s", "failure", "timeout"]);
    assert.equal(team.target.name, "hand-started-lab");
    assert.equal(team.target.version, "0.1.0");
    assert.equal(team.target.endpoints.order, `http://127.0.0.1:${ports.order}`);
    const ownHome = tempHome();
    const own = await withPartA(
      loadTarget(LAB_TARGET_FILE),
      { home: ownHome, ports: await freePortsFor("partA") },
      (impl) => runExperiment(latency, impl, { requests: 2 }),
    );
    assert.deepEqual(listRecords(ownHome), [], "the lab's own services were left running");
    assert.equal(own.verdict, "PASS", JSON.stringify(own.checks.filter((c) => !c.passed)));
    const names = (r: typeof own) => r.checks.map((c) => `${c.scenario}: ${c.check}`);
    assert.deepEqual(names(team), names(own));
  });

  test("a fault scenario through the hand-started copy gives the lab's own checks; nothing of the lab is started", async () => {
    const opts = { home: tempHome(), quick: true, seed: 42, log: () => {} };
    const team = await PARTA_SCENARIOS["A-bad-input"].run({ ...opts, target: loadTarget(file) });
    assert.deepEqual(listRecords(opts.home), [], "the lab started something of its own");
    assert.equal(team.verdict, "PASS", JSON.stringify(team.invariants));
    assert.deepEqual(team.details?.skipped, []);
    assert.equal((team.details?.target as { name: string }).name, "hand-started-lab");
    const own = await PARTA_SCENARIOS["A-bad-input"].run(opts);
    assert.equal(own.verdict, "PASS", JSON.stringify(own.invariants));
    assert.deepEqual(
      team.invariants.map((c) => c.check),
      own.invariants.map((c) => c.check),
    );
    assert.ok(team.orders_sent > 0 && team.orders_sent === own.orders_sent - 60, "one switch fewer, 60 requests each");
  });

  test("the slow dependency on a team's target: what needs the lab's counters or a missing switch is not observable", async () => {
    const bursts = [
      { delay_s: 0, orders: 4 },
      { delay_s: 0, fail_after_reserve_rate: 0.5, orders: 4 },
    ];
    const result = await withPartA(loadTarget(file), { home: tempHome() }, (impl) =>
      runExperiment(slowDependency, impl, { bursts }),
    );
    assert.deepEqual(
      result.skipped.map((s) => s.check),
      [
        "reservations and orders in flight (white-box stats)",
        "burst 2: delay 0 s, fail-rate 0, fail-after-reserve 0.5",
      ],
    );
    assert.match(result.skipped[0].reason, /declares no counters \(partA\.declares\.stats\)/);
    assert.match(result.skipped[1].reason, /no such fault switch \(partA\.faults\.inventory_fail_after_reserve_rate\)/);
    assert.equal(result.verdict, "PASS", JSON.stringify(result.checks));
    assert.deepEqual(
      result.checks.map((c) => c.check),
      [
        "no order held past the 6 s deadline (+0.5 s)",
        "a reserve that timed out is not asked again",
        "every order got an answer",
      ],
    );
    assert.deepEqual(result.tally, {
      sent: 4,
      acknowledged: 4,
      final_states: { CONFIRMED: 4 },
      anomalies: { lost: 0, timeouts_retried: 0, past_deadline: 0 },
    });
    await assert.rejects(
      PARTA_SCENARIOS["A-slow-failing-dependency"].run({
        home: tempHome(),
        quick: true,
        seed: 42,
        log: () => {},
        target: loadTarget(file),
        without: "call-timeout",
      }),
      /a safeguard switch exists only for the lab's own services/,
    );
  });

  test("inventory stopped through its pid file and started by its command; what the file does not say is not observable", async () => {
    const impl = await openPartA(loadTarget(file));
    const before = Number(fs.readFileSync(pidFile("inventory"), "utf8"));
    await impl.stopService("inventory");
    assert.equal(isAlive(before), false);
    const down = await impl.placeOrder();
    assert.ok(down.status >= 500, `with inventory down: ${down.status}`);
    await impl.startService("inventory");
    assert.notEqual(Number(fs.readFileSync(pidFile("inventory"), "utf8")), before);
    assert.equal((await impl.placeOrder()).status, 200);
    await assert.rejects(impl.stopService("notification"), NotObservable);
    await assert.rejects(impl.stopService("notification"), /does not say how to stop notification/);
    await assert.rejects(impl.faults.inventoryFailAfterReserveRate(0.5), NotObservable);
    await assert.rejects(openPartA(loadTarget(file), { without: "call-timeout" }), /only for the lab's own services/);
    const conn = await runExperiment(connections, impl, { requests: 1 });
    assert.equal(conn.verdict, "NOT OBSERVABLE");
    assert.match(
      conn.skipped[0]?.reason ?? "",
      /starting order services with other settings exists only for the lab's own/,
    );
    await impl.close();
  });

  test("partA-latency.mjs --target: the lab's ports taken by the team's services do not stop it, and the summary names the target", async () => {
    const results = tempHome("campusfood-results-");
    const env = {
      LAB_HOME: tempHome(),
      RESULTS_DIR: results,
      // The lab's own Part A would need these ports, and the team's services hold them.
      PARTA_ORDER_PORT: String(ports.order),
      PARTA_INVENTORY_PORT: String(ports.inventory),
      PARTA_NOTIFICATION_PORT: String(ports.notification),
    };
    const run = await runLabScript(
      "partA-latency.mjs",
      ["--target", file, "--requests", "1", "--scenario", "baseline"],
      env,
    );
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /Target: hand-started-lab 0\.1\.0/);
    const summary = fs.readFileSync(path.join(results, "targets", "hand-started-lab", "partA", "summary.md"), "utf8");
    assert.match(
      summary,
      new RegExp(`Target: hand-started-lab 0\\.1\\.0 — order http://127\\.0\\.0\\.1:${ports.order}`),
    );
    const json = JSON.parse(
      fs.readFileSync(path.join(results, "targets", "hand-started-lab", "partA", "summary.json"), "utf8"),
    );
    assert.equal(json.target.name, "hand-started-lab");
    assert.deepEqual(listRecords(env.LAB_HOME), []);
    fs.rmSync(results, { recursive: true, force: true });
  });

  test("report.mjs --target: notebook 01 runs on the team's services alone, and every page and report.json name the target", async () => {
    const results = tempHome("campusfood-results-");
    const env = { LAB_HOME: tempHome(), RESULTS_DIR: results };
    const run = await runLabScript("report.mjs", ["--quick", "--target", file], env, 900_000);
    assert.equal(run.code, 0, `${run.stdout.slice(-3000)}\n${run.stderr.slice(-2000)}`);
    // A target with only partA: notebook 01, and 04 left out with the reason (it compares the lab's own models).
    assert.match(run.stdout, /04-compare left out: it compares the lab's own three models/);
    const reports = path.join(results, "targets", "hand-started-lab", "reports");
    const json = JSON.parse(fs.readFileSync(path.join(reports, "report.json"), "utf8"));
    assert.equal(json.target.name, "hand-started-lab");
    assert.equal(json.target.version, "0.1.0");
    assert.equal(json.target.endpoints["A order"], `http://127.0.0.1:${ports.order}`);
    assert.deepEqual(
      json.runs.map((r: { name: string; passed: boolean }) => [r.name, r.passed]),
      [["01-sync-rest", true]],
    );
    const page = fs.readFileSync(path.join(reports, "01-sync-rest.html"), "utf8");
    assert.match(page, /Measured: <strong>hand-started-lab 0\.1\.0 — A order http:\/\/127\.0\.0\.1:\d+/);
    // The lab's own-only steps say why they were not observable; nothing of the lab's was started.
    assert.match(page, /starting order services with other settings exists only for the lab/);
    assert.match(page, /not observable on hand-started-lab: .*a safeguard switch exists only for the lab/);
    assert.match(fs.readFileSync(path.join(reports, "index.html"), "utf8"), /report on hand-started-lab/);
    assert.deepEqual(listRecords(env.LAB_HOME), [], "the lab started something of its own");
    fs.rmSync(results, { recursive: true, force: true });
  });

  test("a target without fault switches: the delay, failure and timeout scenarios are skipped with the reason", async () => {
    const bare = path.join(dir, "bare.yml");
    fs.writeFileSync(bare, `name: bare\npartA:\n  services:\n    order: http://127.0.0.1:${ports.order}\n`);
    const result = await latencyOn(bare, { requests: 1 });
    assert.deepEqual(
      result.skipped.map((s) => s.check),
      ["the order service's declared policy (exact statuses, attempts, timeout)", "delay_2s", "failure", "timeout"],
    );
    assert.match(result.skipped[0].reason, /declares no call policy \(partA\.declares\.policy\)/);
    assert.match(result.skipped[1].reason, /no such fault switch \(partA\.faults\.inventory_delay\)/);
    assert.deepEqual(
      result.checks.map((c) => [c.scenario, c.passed]),
      [["baseline", true]],
    );
  });

  test("a faulty order service with no timeout on its inventory call fails the timeout check, and the reason names the fault", async () => {
    // Written for the test: it waits for inventory as long as inventory takes, then answers 200.
    const inventory = `http://127.0.0.1:${ports.inventory}`;
    const placeOrder = async (res: http.ServerResponse) => {
      const r = await fetch(`${inventory}/reserve`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ order_id: "o-faulty", items: [] }),
      });
      res.writeHead(r.ok ? 200 : 502, { "content-type": "application/json" });
      res.end(JSON.stringify(r.ok ? { order_id: "o-faulty", status: "CONFIRMED" } : { error: "reserve-failed" }));
    };
    const faulty = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => void placeOrder(res).catch(() => res.destroy()));
    });
    await new Promise<void>((resolve) => faulty.listen(0, "127.0.0.1", resolve));
    try {
      const port = (faulty.address() as AddressInfo).port;
      const faultyFile = path.join(dir, "faulty.yml");
      fs.writeFileSync(
        faultyFile,
        [
          "name: no-timeout",
          "partA:",
          "  services:",
          `    order: http://127.0.0.1:${port}`,
          "  faults:",
          `    inventory_delay: { url: "${inventory}/set-delay-time?delay-time={seconds}" }`,
          "",
        ].join("\n"),
      );
      const result = await latencyOn(faultyFile, { requests: 1, boundSeconds: 2, scenarios: ["timeout"] });
      assert.equal(result.verdict, "FAIL");
      const timeout = result.checks.find((c) => c.scenario === "timeout");
      assert.equal(timeout?.passed, false, JSON.stringify(result.checks));
      assert.match(timeout?.observed ?? "", /1× 200 after up to 4\.\d+ s: .*no timeout on its inventory call/);
    } finally {
      faulty.closeAllConnections();
      await new Promise((resolve) => faulty.close(resolve));
    }
  });
});
