// The lab's brokers, for real: a native RabbitMQ and a native Kafka of this test's own (a temporary
// LAB_HOME and free ports), started, reported and stopped through the interface lab.up / down /
// status (and so up.mjs, down.mjs, status.mjs) use, beside whatever brokers a student has up.
// The parts' services are tested by their own files; here only the brokers start.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import amqp from "amqplib";
import axios from "axios";
import { Kafka, logLevel } from "kafkajs";
import YAML from "yaml";
import { KAFKA_TOPICS } from "../common/kafka-topics.js";
import {
  BROKERS,
  chooseMode,
  dockerEngineReachable,
  isolatedBrokerEnv,
  KAFKA_VERSION,
  useEnv,
} from "../harness/run/brokers/index.js";
import { supportedKafka } from "../harness/setup/kafka-install.js";
import {
  installedVersion,
  RABBITMQ_4_MINOR,
  rabbitmq4RootDir,
  rabbitmq4RootReady,
} from "../harness/setup/rabbitmq-root.js";
import { rabbitmqChoice, rabbitSettings } from "../harness/run/brokers/settings.js";
import { down } from "../harness/run/lifecycle.js";
import { status } from "../harness/run/status.js";
import { projectRoot } from "../common/paths.js";
import { portInUse } from "../harness/run/ports.js";
import { crashProcess, isAlive, listRecords, readRecord } from "../harness/run/processes.js";
import { waitUntil } from "../common/wait.js";

let env: Record<string, string>;
let home: string;
let restoreEnv: () => void;
const port = (name: string) => Number(env[name]);
const brokerPorts = () =>
  [
    "RABBITMQ_PORT",
    "RABBITMQ_MANAGEMENT_PORT",
    "RABBITMQ_DIST_PORT",
    "ERL_EPMD_PORT",
    "KAFKA_PORT",
    "KAFKA_CONTROLLER_PORT",
  ].map(port);

const kafkaAdmin = () =>
  new Kafka({
    clientId: "brokers-test",
    brokers: [`127.0.0.1:${port("KAFKA_PORT")}`],
    logLevel: logLevel.NOTHING,
  }).admin();
const up = (id: "rabbitmq" | "kafka") => BROKERS[id].up({ home });
const pidsOf = async () => Object.fromEntries((await status({ home })).brokers.map((b) => [b.id, b.pid]));

/** Processes (by /proc) whose command line or environment mention this test's LAB_HOME. */
function processesUsing(dir: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8");
      const environ = fs.readFileSync(`/proc/${entry}/environ`, "utf8");
      if (cmd.includes(dir) || environ.includes(`LAB_HOME=${dir}`)) found.push(Number(entry));
    } catch {
      /* gone, or not ours to read */
    }
  }
  return found;
}

before(async () => {
  env = await isolatedBrokerEnv("brokers-test");
  home = env.LAB_HOME;
  // Native on purpose: this is what a machine without Docker (and CI) runs.
  restoreEnv = useEnv({ ...env, LAB_BROKER_MODE: "native" });
});

after(async () => {
  await BROKERS.rabbitmq.down({ home });
  await BROKERS.kafka.down({ home });
  restoreEnv();
  fs.rmSync(home, { recursive: true, force: true });
});

describe("native brokers through the lab", () => {
  test("partB brings up RabbitMQ: AMQP carries a message, the management API answers, as the lab's own node", async () => {
    const rabbit = await up("rabbitmq");
    assert.ok(rabbit?.running, rabbit?.detail);
    assert.equal(rabbit.mode, "native");
    assert.equal(rabbit.env?.AMQP_URL, `amqp://guest:guest@127.0.0.1:${port("RABBITMQ_PORT")}`);

    const conn = await amqp.connect(rabbit.env.AMQP_URL);
    try {
      const ch = await conn.createChannel();
      const { queue } = await ch.assertQueue("", { exclusive: true });
      ch.sendToQueue(queue, Buffer.from("hello"));
      await waitUntil(async () => (await ch.checkQueue(queue)).messageCount === 1, "the message to be queued", 5_000);
      const msg = await ch.get(queue, { noAck: true });
      assert.equal(msg && msg.content.toString(), "hello");
    } finally {
      await conn.close();
    }

    const overview = await axios.get(`${rabbit.env.RABBITMQ_MANAGEMENT_URL}/api/overview`, {
      auth: { username: "guest", password: "guest" },
    });
    assert.equal(overview.status, 200);
    assert.equal(overview.data.node, env.RABBITMQ_NODENAME); // ours, not a student's broker
    // The server LAB_RABBITMQ asked for: RabbitMQ 4's root, or the machine's package.
    const version = String(overview.data.rabbitmq_version);
    if (rabbitmqChoice() === "4")
      assert.ok(version.startsWith(`${RABBITMQ_4_MINOR}.`), `LAB_RABBITMQ=4 runs ${version}`);
    else if (installedVersion("/")) assert.equal(version, installedVersion("/"), "the machine's rabbitmq-server");
    assert.ok(fs.existsSync(path.join(home, "rabbitmq", "mnesia")), "data inside LAB_HOME");
    assert.ok(
      rabbit.log && fs.readFileSync(rabbit.log, "utf8").includes("Server startup complete"),
      "the broker log is kept",
    );
  });

  test("partC brings up Kafka with the part's topics, 3 partitions each, auto-creation off, only the client port advertised", async () => {
    const kafka = await up("kafka");
    assert.ok(kafka?.running, kafka?.detail);
    assert.equal(kafka.env?.KAFKA_BROKERS, `127.0.0.1:${port("KAFKA_PORT")}`);

    const admin = kafkaAdmin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: KAFKA_TOPICS.map((t) => t.name) });
      assert.deepEqual(
        meta.topics.map((t) => [t.name, t.partitions.length]).sort(),
        KAFKA_TOPICS.map((t) => [t.name, 3]).sort(),
      );
      const cluster = await admin.describeCluster();
      assert.deepEqual(
        cluster.brokers.map((b) => b.port),
        [port("KAFKA_PORT")],
      );
      const configs = await admin.describeConfigs({
        resources: [{ type: 4, name: String(cluster.brokers[0].nodeId) }],
        includeSynonyms: false,
      });
      const config = Object.fromEntries(configs.resources[0].configEntries.map((e) => [e.configName, e.configValue]));
      assert.equal(config["auto.create.topics.enable"], "false");
      assert.equal(config["group.initial.rebalance.delay.ms"], "0");
      assert.equal(config["offsets.topic.replication.factor"], "1");
    } finally {
      await admin.disconnect();
    }
  });

  test("a second up is a no-op: the same broker processes keep running", async () => {
    const before = await pidsOf();
    assert.ok(before.rabbitmq && before.kafka);
    await up("rabbitmq");
    await up("kafka");
    assert.deepEqual(await pidsOf(), before);
  });

  test("a broker killed from outside is reported down by status.mjs, and the next up brings it back with its topics", async () => {
    const killed = readRecord("kafka", home)!.pid;
    crashProcess("kafka", home);
    await waitUntil(() => !isAlive(killed), "kafka to die", 10_000);

    const kafka = (await status({ home })).brokers.find((b) => b.id === "kafka")!;
    assert.equal(kafka.running, false);
    assert.match(kafka.detail ?? "", /killed or crashed/);
    const { stdout } = await promisify(execFile)(
      path.join(projectRoot, "node_modules", ".bin", "zx"),
      [path.join(projectRoot, "lab-scripts", "status.mjs")],
      {
        env: { ...process.env, FORCE_COLOR: "0" },
      },
    );
    assert.match(stdout, /kafka\s+down\s+process \d+ is gone \(killed or crashed\)/);
    assert.match(stdout, /rabbitmq\s+running\s+native/);

    const again = await up("kafka");
    assert.ok(again.running && again.pid !== killed);
    const admin = kafkaAdmin();
    await admin.connect();
    const topics = await admin.listTopics();
    await admin.disconnect();
    for (const t of KAFKA_TOPICS) assert.ok(topics.includes(t.name), `${t.name} survived the crash`);
  });

  test("down stops every broker process the lab started (epmd too) and frees every port", async () => {
    const groups = listRecords(home).map((r) => r.pid);
    assert.equal(groups.length, 3, "rabbitmq, its epmd and kafka");
    assert.ok(processesUsing(home).length >= 3);

    await down("partB", { home });
    await down("partC", { home });

    assert.deepEqual(listRecords(home), []);
    for (const pid of groups) assert.equal(isAlive(pid), false, `pid ${pid} still alive`);
    assert.deepEqual(processesUsing(home), [], "no process of this LAB_HOME is left");
    for (const p of brokerPorts()) assert.equal(await portInUse(p), false, `port ${p} still taken`);
    for (const b of (await status({ home })).brokers) assert.equal(b.running, false);
  });

  test("a taken port gives one clear line naming the port and the env var to change it", async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(port("KAFKA_PORT"), "127.0.0.1", resolve));
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(port("RABBITMQ_MANAGEMENT_PORT"), "127.0.0.1", resolve));
    try {
      await assert.rejects(up("kafka"), (err: Error) => {
        assert.equal(
          err.message,
          `kafka: port ${port("KAFKA_PORT")} (Kafka clients) is already taken by another program; stop that program, or set KAFKA_PORT to a free port`,
        );
        return true;
      });
      await assert.rejects(up("rabbitmq"), (err: Error) => {
        assert.equal(
          err.message,
          `rabbitmq: port ${port("RABBITMQ_MANAGEMENT_PORT")} (management UI) is already taken by another program; stop that program, or set RABBITMQ_MANAGEMENT_PORT to a free port`,
        );
        return true;
      });
      assert.deepEqual(processesUsing(home), [], "nothing was started");
    } finally {
      squatter.close();
      blocker.close();
      await down("partB", { home });
    }
  });
});

test("an installed Kafka is used when the lab supports its version, and the pinned one is among them", () => {
  for (const v of ["3.3.2", "3.9.1", "4.0.0", "4.1.1", "4.4.0", KAFKA_VERSION]) assert.ok(supportedKafka(v), v);
  for (const v of ["2.8.2", "3.2.3", "4.5.0", "5.0.0", "unknown"]) assert.ok(!supportedKafka(v), v);
});

describe("choosing Docker or native", () => {
  test("a forced mode wins, docker only with an engine; unforced follows `docker info`; LAB_RABBITMQ is checked", async () => {
    const restore = useEnv({ LAB_BROKER_MODE: "", LAB_RABBITMQ: process.env.LAB_RABBITMQ ?? "" });
    try {
      const engine = await dockerEngineReachable();
      assert.equal(await chooseMode(), engine ? "docker" : "native");
      assert.equal(await chooseMode("native"), "native");
      if (engine) assert.equal(await chooseMode("docker"), "docker");
      else
        await assert.rejects(
          chooseMode("docker"),
          /no Docker engine answers `docker info`; start Docker, or use --broker-mode native/,
        );
      await assert.rejects(chooseMode("podman"), /unknown broker mode "podman"/);
      for (const [value, choice] of [
        ["", "system"],
        ["system", "system"],
        ["4", "4"],
      ]) {
        Object.assign(process.env, { LAB_RABBITMQ: value });
        assert.equal(rabbitSettings().choice, choice, `LAB_RABBITMQ=${value}`);
      }
      process.env.LAB_RABBITMQ = "3.10";
      assert.throws(() => rabbitSettings(), /LAB_RABBITMQ=3\.10 is not one of system, 4 \(system: the machine's/);
    } finally {
      restore();
    }
  });
});

describe("compose files for Docker users", () => {
  const compose = (file: string) => YAML.parse(fs.readFileSync(path.join(projectRoot, "compose", file), "utf8"));

  test("Kafka: the same version as native, the same ports and settings, health-checked, topics created", () => {
    const { services } = compose("streaming-kafka.yml");
    assert.equal(services.kafka.image, `apache/kafka:${KAFKA_VERSION}`);
    assert.deepEqual(services.kafka.ports, ["127.0.0.1:${KAFKA_PORT:-9092}:9092"]);
    assert.ok(services.kafka.healthcheck.test);
    assert.equal(services.kafka.environment.KAFKA_AUTO_CREATE_TOPICS_ENABLE, "false");
    assert.equal(services.kafka.environment.KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS, 0);
    assert.deepEqual(services["kafka-init"].depends_on, { kafka: { condition: "service_healthy" } });
    const script = services["kafka-init"].command.join("\n");
    for (const t of KAFKA_TOPICS)
      assert.ok(script.includes(t.name) && script.includes(`--partitions ${t.partitions}`), t.name);
  });

  test("RabbitMQ: the management image of native RabbitMQ 4's minor version, loopback ports, health-checked", () => {
    const { services } = compose("async-rabbitmq.yml");
    assert.equal(services.rabbitmq.image, `rabbitmq:${RABBITMQ_4_MINOR}-management`);
    if (rabbitmq4RootReady())
      assert.ok(installedVersion(rabbitmq4RootDir())!.startsWith(`${RABBITMQ_4_MINOR}.`), "the root's rabbitmq-server");
    assert.deepEqual(services.rabbitmq.ports, [
      "127.0.0.1:${RABBITMQ_PORT:-5672}:5672",
      "127.0.0.1:${RABBITMQ_MANAGEMENT_PORT:-15672}:15672",
    ]);
    assert.ok(services.rabbitmq.healthcheck.test);
  });

  test("all.yml includes every part's file", () => {
    assert.deepEqual(compose("all.yml").include, ["sync-rest.yml", "async-rabbitmq.yml", "streaming-kafka.yml"]);
  });
});
