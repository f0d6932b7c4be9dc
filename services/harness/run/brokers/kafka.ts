// Kafka run natively: the real Apache Kafka broker, one node in KRaft mode (broker and controller
// in one JVM), its storage, config and cluster id inside LAB_HOME, clients on 127.0.0.1 only.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { KAFKA_TOPICS, type TopicSpec } from "../../../common/kafka-topics.js";
import { isAlive, readRecord, startProcess, stopProcess, type ProcessRecord } from "../processes.js";
import { lastLines, run } from "./exec.js";
import { ensureJava, ensureKafkaJars } from "../../setup/kafka-install.js";
import { assertPortsFree, waitServing } from "./native.js";
import { kafkaClientEnv, kafkaSettings, type KafkaSettings } from "./settings.js";
import type { Broker, BrokerOptions, BrokerStatus } from "./types.js";

const PROCESS = "kafka";
const START_TIMEOUT_MS = 120_000;

function admin(port: number) {
  const kafka = new Kafka({
    clientId: "lab",
    brokers: [`127.0.0.1:${port}`],
    connectionTimeout: 2_000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  return kafka.admin();
}

/** Does the broker answer a metadata request? */
export async function kafkaServes(port: number): Promise<boolean> {
  const a = admin(port);
  try {
    await a.connect();
    const cluster = await a.describeCluster();
    return cluster.brokers.length > 0;
  } catch {
    return false;
  } finally {
    await a.disconnect().catch(() => {});
  }
}

/** Create the topics a part declares (auto-creation is off), growing any with too few partitions. */
export async function declareTopics(port: number, topics: readonly TopicSpec[] = KAFKA_TOPICS): Promise<void> {
  const a = admin(port);
  try {
    await a.connect();
    const existing = new Set(await a.listTopics());
    const missing = topics.filter((t) => !existing.has(t.name));
    if (missing.length) {
      await a.createTopics({
        topics: missing.map((t) => ({ topic: t.name, numPartitions: t.partitions, replicationFactor: 1 })),
        waitForLeaders: true,
      });
    }
    const present = topics.filter((t) => existing.has(t.name));
    if (present.length) {
      const meta = await a.fetchTopicMetadata({ topics: present.map((t) => t.name) });
      const grow = present.filter(
        (t) => (meta.topics.find((m) => m.name === t.name)?.partitions.length ?? 0) < t.partitions,
      );
      if (grow.length)
        await a.createPartitions({ topicPartitions: grow.map((t) => ({ topic: t.name, count: t.partitions })) });
    }
  } finally {
    await a.disconnect().catch(() => {});
  }
}

function writeConfig(s: KafkaSettings): KafkaConfig {
  const data = path.join(s.dir, "data");
  fs.mkdirSync(data, { recursive: true });
  const properties = path.join(s.dir, "server.properties");
  fs.writeFileSync(properties, serverProperties(s.ports, data));
  return { properties, logging: writeLoggingConfig(s.dir), data };
}

function serverProperties({ broker, controller }: KafkaSettings["ports"], data: string): string {
  return [
    "# Written by the lab on every start; change ports with KAFKA_PORT / KAFKA_CONTROLLER_PORT.",
    "# One node that is both broker and controller (KRaft, no ZooKeeper).",
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@127.0.0.1:${controller}`,
    `listeners=PLAINTEXT://127.0.0.1:${broker},CONTROLLER://127.0.0.1:${controller}`,
    "# Clients only ever learn the PLAINTEXT address; the controller port is internal.",
    `advertised.listeners=PLAINTEXT://127.0.0.1:${broker}`,
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    `log.dirs=${data}`,
    "# Topics are created explicitly by the lab, with 3 partitions each.",
    "auto.create.topics.enable=false",
    "num.partitions=3",
    "# A single node: one copy of everything.",
    "default.replication.factor=1",
    "min.insync.replicas=1",
    "offsets.topic.replication.factor=1",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "# Consumers join a group at once instead of waiting 3 s for others.",
    "group.initial.rebalance.delay.ms=0",
    "",
  ].join("\n");
}

/**
 * Everything to stdout, which the lab writes to its log file for this process. Kafka 4.x logs
 * through log4j2, an installed 3.x through log4j 1: both files are written, each JVM reads its own.
 * Returns the JVM flags that point at them.
 */
function writeLoggingConfig(dir: string): string[] {
  const quiet = ["kafka.request.logger", "state.change.logger", "org.apache.kafka.clients"];
  const log4j = path.join(dir, "log4j.properties");
  fs.writeFileSync(
    log4j,
    [
      "log4j.rootLogger=INFO, stdout",
      "log4j.appender.stdout=org.apache.log4j.ConsoleAppender",
      "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout",
      "log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n",
      ...quiet.map((name) => `log4j.logger.${name}=WARN`),
      "",
    ].join("\n"),
  );
  const log4j2 = path.join(dir, "log4j2.properties");
  fs.writeFileSync(
    log4j2,
    [
      "appender.stdout.type=Console",
      "appender.stdout.name=STDOUT",
      "appender.stdout.layout.type=PatternLayout",
      "appender.stdout.layout.pattern=[%d] %p %m (%c)%n",
      "rootLogger.level=INFO",
      "rootLogger.appenderRef.stdout.ref=STDOUT",
      ...quiet.flatMap((name, i) => [`logger.q${i}.name=${name}`, `logger.q${i}.level=WARN`]),
      "",
    ].join("\n"),
  );
  return [`-Dlog4j.configuration=file:${log4j}`, `-Dlog4j2.configurationFile=${log4j2}`];
}

/**
 * A new KRaft cluster id: 16 random bytes, base64url without padding, as kafka-storage makes them
 * — and, as Kafka's own Uuid.randomUuid does, never starting with "-": `format -t -x…` would read
 * it as an option and fail (one fresh LAB_HOME in 64).
 */
function clusterId(s: KafkaSettings): string {
  const file = path.join(s.dir, "cluster-id");
  if (!fs.existsSync(file)) {
    let id: string;
    do id = crypto.randomBytes(16).toString("base64url");
    while (id.startsWith("-"));
    fs.writeFileSync(file, id + "\n");
  }
  return fs.readFileSync(file, "utf8").trim();
}

interface KafkaConfig {
  properties: string;
  /** JVM flags that point both log4j generations at the lab's logging config. */
  logging: string[];
  data: string;
}

async function formatStorage(
  java: string,
  libs: string,
  s: KafkaSettings,
  cfg: KafkaConfig,
  log: (line: string) => void,
): Promise<void> {
  if (fs.existsSync(path.join(cfg.data, "meta.properties"))) return;
  const args = [
    ...cfg.logging,
    "-cp",
    path.join(libs, "*"),
    "kafka.tools.StorageTool",
    "format",
    "-t",
    clusterId(s),
    "-c",
    cfg.properties,
  ];
  const res = await run(java, args, { timeoutMs: 120_000 });
  if (res.code !== 0)
    throw new Error(
      `kafka: formatting the storage in ${cfg.data} failed (exit ${res.code}):\n${lastLines(res.output)}`,
    );
  log(`kafka storage formatted in ${cfg.data}`);
}

function describe(s: KafkaSettings, r: ProcessRecord, running: boolean, detail?: string): BrokerStatus {
  return {
    id: "kafka",
    running,
    mode: "native",
    pid: r.pid,
    endpoint: `127.0.0.1:${s.ports.broker}`,
    ports: { broker: s.ports.broker, controller: s.ports.controller },
    log: r.log,
    detail,
    env: kafkaClientEnv(s.ports.broker),
  };
}

const recordedSettings = (r: ProcessRecord, fallback: KafkaSettings): KafkaSettings =>
  (r.meta?.settings as KafkaSettings | undefined) ?? fallback;

async function status(opts: BrokerOptions): Promise<BrokerStatus> {
  const s = kafkaSettings(opts.home);
  const record = readRecord(PROCESS, opts.home);
  if (!record)
    return { id: "kafka", running: false, mode: "native", detail: "not started", env: kafkaClientEnv(s.ports.broker) };
  const started = recordedSettings(record, s);
  if (!isAlive(record.pid))
    return describe(
      started,
      record,
      false,
      `process ${record.pid} is gone (killed or crashed); \`up\` starts it again`,
    );
  const serves = await kafkaServes(started.ports.broker);
  return describe(
    started,
    record,
    serves,
    serves ? undefined : `process ${record.pid} is alive but does not answer metadata requests (still starting?)`,
  );
}

async function up(opts: BrokerOptions): Promise<BrokerStatus> {
  const log = opts.log ?? (() => {});
  const s = kafkaSettings(opts.home);
  const existing = readRecord(PROCESS, opts.home);
  if (existing && isAlive(existing.pid)) {
    const started = recordedSettings(existing, s);
    await waitServing("kafka", existing, opts.home, () => kafkaServes(started.ports.broker), START_TIMEOUT_MS);
    await declareTopics(started.ports.broker);
    log(`kafka already running (pid ${existing.pid}, ${started.ports.broker})`);
    return status(opts);
  }
  if (existing) await down(opts); // a crashed one: clear what is left of it first

  const java = await ensureJava();
  const jars = await ensureKafkaJars(s.libsDir, log);
  await assertPortsFree("kafka", [
    { port: s.ports.broker, what: "Kafka clients", envVar: "KAFKA_PORT" },
    { port: s.ports.controller, what: "Kafka controller", envVar: "KAFKA_CONTROLLER_PORT" },
  ]);
  const cfg = writeConfig(s);
  await formatStorage(java, jars.libs, s, cfg, log);
  const started = Date.now();
  const record = startProcess(
    {
      name: PROCESS,
      command: java,
      args: [
        `-Xmx${s.heap}`,
        `-Xms${s.heap}`,
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-Djava.awt.headless=true",
        ...cfg.logging,
        "-cp",
        path.join(jars.libs, "*"),
        "kafka.Kafka",
        cfg.properties,
      ],
      meta: { broker: "kafka", settings: s, version: jars.version, jars: jars.source },
    },
    opts.home,
  );
  log(`kafka ${jars.version} starting (${s.ports.broker}, controller ${s.ports.controller}, log ${record.log})`);
  await waitServing("kafka", record, opts.home, () => kafkaServes(s.ports.broker), START_TIMEOUT_MS);
  await declareTopics(s.ports.broker);
  log(
    `kafka up in ${((Date.now() - started) / 1000).toFixed(1)} s (pid ${record.pid}); topics ${KAFKA_TOPICS.map((t) => t.name).join(", ")}`,
  );
  return status(opts);
}

async function down(opts: BrokerOptions): Promise<void> {
  const record = readRecord(PROCESS, opts.home);
  if (!record) return;
  await stopProcess(PROCESS, opts.home, 30_000);
  opts.log?.(`kafka stopped (pid ${record.pid})`);
}

export const nativeKafka: Broker = { id: "kafka", up, down, status };
