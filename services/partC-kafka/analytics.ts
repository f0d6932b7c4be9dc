// Part C analytics (:8002, group `analytics-group`). Reads `orders` and `inventory-events` and
// keeps the metrics in memory (metrics.ts). The log is the source of truth: at start, and on
// POST /replay, analytics moves its group back to the beginning of both topics and reads it
// all again. Because the metrics depend only on the events, the numbers come out the same.
//   GET  /metrics   the metrics, and whether a replay is running / when it finished
//   POST /replay    reset the group's offsets to the log start and recompute → {"status": "replay_triggered"}
//   GET  /lag       per group and partition: committed offset, end offset, lag
//   POST /report    write the metrics report to results/partC/ ({"label"?})
import type { Consumer, EachBatchPayload } from "kafkajs";
import { Type, loadConfig, serviceBase } from "../common/config.js";
import { safeguardSwitches, safeguardsSetting } from "../common/safeguards.js";
import { HttpError, createService, runService } from "../common/server.js";
import { resultsDir } from "../common/paths.js";
import { parseEvent } from "./events.js";
import { consumerConfig, consumerReadiness, createKafka, joined, kafkaSettings, waitForTopics } from "./kafka.js";
import { lagOfGroups } from "./lag.js";
import { MetricsView, type AnalyticsMetrics, type ReplayState, type ReplayTrigger } from "./metrics.js";
import { writeMetricsReport } from "./report.js";
import { PARTC_SAFEGUARDS } from "./switches.js";
import { GROUPS, GROUP_TOPICS, TOPICS } from "./topics.js";

const config = loadConfig(
  Type.Object({
    ...serviceBase,
    ...kafkaSettings,
    ...safeguardsSetting(PARTC_SAFEGUARDS),
    PORT: Type.Integer({ default: 8002 }),
  }),
);

const TOPICS_READ = GROUP_TOPICS[GROUPS.analytics];

const safeguards = safeguardSwitches(PARTC_SAFEGUARDS, "analytics", config.SAFEGUARDS_OFF);
const newView = () => new MetricsView({ dedupe: safeguards.on("dedupe"), eventTime: safeguards.on("event-time") });
let view = newView();
let replay: ReplayState = {
  running: false,
  trigger: null,
  requested: 0,
  started_at: null,
  finished_at: null,
  duration_ms: null,
  events_read: 0,
  target: {},
};
/** Next offset to read, per "topic/partition". */
let positions = new Map<string, bigint>();
let target = new Map<string, bigint>();
let consumer: Consumer | null = null;
let consumerState: AnalyticsMetrics["consumer"]["state"] = "stopped";
let assigned: Record<string, number[]> = {};
/** For /ready: why the current consumer cannot count events, or null. */
let consumerNotReady: () => string | null = () => "Kafka consumer not started";

const app = createService({
  name: "analytics",
  logLevel: config.LOG_LEVEL,
  bodyLimitBytes: config.BODY_LIMIT_BYTES,
  ready: () => consumerNotReady(),
  health: () => ({
    group: GROUPS.analytics,
    consumer: consumerState,
    replaying: replay.running,
    events_read: replay.events_read,
    safeguards: safeguards.health(),
  }),
});

const kafka = createKafka({
  clientId: "analytics",
  brokers: config.KAFKA_BROKERS,
  logLevel: config.KAFKA_LOG_LEVEL,
  logger: app.log,
});
const admin = kafka.admin();
const key = (topic: string, partition: number) => `${topic}/${partition}`;

/** Count one batch of events, then commit: the committed offsets show how far analytics has read. */
// eslint-disable-next-line @typescript-eslint/unbound-method -- kafkajs types the payload's callbacks as methods, but they are closures: destructuring them is its documented use
async function countBatch(c: Consumer, { batch, resolveOffset, heartbeat, isStale }: EachBatchPayload): Promise<void> {
  if (batch.messages.length === 0 || isStale()) return; // stale: fetched before a replay's seek
  const expected =
    batch.topic === TOPICS.orders ? (["OrderPlaced"] as const) : (["InventoryReserved", "InventoryFailed"] as const);
  for (const message of batch.messages) {
    const parsed = parseEvent(message.value, expected);
    if (parsed.ok) view.apply(parsed.event);
    else {
      view.skipUnreadable();
      app.log.warn(
        { topic: batch.topic, partition: batch.partition, offset: message.offset, reason: parsed.reason },
        "unreadable event skipped",
      );
    }
  }
  replay.events_read += batch.messages.length;
  const next = BigInt(batch.lastOffset()) + 1n;
  positions.set(key(batch.topic, batch.partition), next);
  resolveOffset(batch.lastOffset());
  // Not awaited: the commit only shows in /lag how far analytics has read (it rebuilds from the
  // log at every start), so the next batch need not wait for the broker's answer to this one.
  c.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next.toString() }]).catch((err) =>
    app.log.warn(
      { err: (err as Error).message, topic: batch.topic, partition: batch.partition },
      "could not commit the offset read (a rebalance?); the next batch commits further",
    ),
  );
  await heartbeat();
  finishReplayIfCaughtUp();
}

function finishReplayIfCaughtUp(): void {
  if (!replay.running) return;
  for (const [k, end] of target) if ((positions.get(k) ?? 0n) < end) return;
  replay.running = false;
  replay.finished_at = new Date().toISOString();
  replay.duration_ms = Date.parse(replay.finished_at) - Date.parse(replay.started_at!);
  app.log.info(
    {
      trigger: replay.trigger,
      events_read: replay.events_read,
      duration_ms: replay.duration_ms,
      metrics: view.metrics(),
    },
    "replay finished: the whole log has been read",
  );
}

async function startConsumer(): Promise<void> {
  // A replay's seek takes effect at the next fetch; at the end of the log a fetch waits for new
  // events for up to maxWaitTimeInMs (kafkajs: 5 s), so keep that short.
  const c = kafka.consumer({ ...consumerConfig(GROUPS.analytics), maxWaitTimeInMs: 500 });
  consumer = c;
  consumerState = "joining";
  consumerNotReady = consumerReadiness(c);
  c.on(c.events.GROUP_JOIN, (e) => {
    assigned = e.payload.memberAssignment;
    consumerState = "joined";
  });
  c.on(c.events.CRASH, (e) => {
    app.log.error({ err: e.payload.error, restart: e.payload.restart }, "consumer crashed");
    if (!e.payload.restart) process.exit(1); // see inventory-consumer.ts: die visibly, not idle
  });
  await c.connect();
  const ready = joined(c);
  await c.subscribe({ topics: TOPICS_READ, fromBeginning: true });
  // All six partitions (three per topic) are worked on side by side: while one batch is counted,
  // the others are being fetched. (Measured: a replay of 2.4 million events 29 → 23 s.)
  await c.run({ autoCommit: false, partitionsConsumedConcurrently: 6, eachBatch: (payload) => countBatch(c, payload) });
  await ready;
}

async function stopConsumer(): Promise<void> {
  const c = consumer;
  consumer = null;
  consumerState = "stopped";
  consumerNotReady = () => "Kafka consumer stopped";
  await c?.disconnect();
}

/**
 * Read the whole log again: seek every partition back to the start of the log and commit that
 * as the group's offset, forget the metrics, and count again. The replay is over once every
 * partition has been read up to where the log ended when it started.
 */
async function rebuild(c: Consumer, trigger: ReplayTrigger): Promise<void> {
  const ends = await Promise.all(
    TOPICS_READ.map(async (topic) => ({ topic, offsets: await admin.fetchTopicOffsets(topic) })),
  );
  const starts = ends.flatMap(({ topic, offsets }) =>
    offsets.map(({ partition, low }) => ({ topic, partition, offset: low })),
  );
  // Batches already fetched from the old positions are now stale; countBatch drops them.
  for (const start of starts) c.seek(start);
  view = newView();
  positions = new Map(starts.map((s) => [key(s.topic, s.partition), BigInt(s.offset)]));
  target = new Map(
    ends.flatMap(({ topic, offsets }) => offsets.map((o) => [key(topic, o.partition), BigInt(o.high)] as const)),
  );
  replay = {
    running: true,
    trigger,
    requested: replay.requested + (trigger === "request" ? 1 : 0),
    started_at: new Date().toISOString(),
    finished_at: null,
    duration_ms: null,
    events_read: 0,
    target: Object.fromEntries([...target].map(([k, v]) => [k, Number(v)])),
  };
  try {
    await c.commitOffsets(starts); // the group's committed offsets show the reset at once
  } catch (err) {
    // During a rebalance the commit is refused; the seek still holds and the next commits follow.
    app.log.warn({ err }, "could not commit the reset offsets yet");
  }
  app.log.info({ trigger, target: replay.target }, "replay started: offsets reset to the log start");
  finishReplayIfCaughtUp(); // an empty log is read at once
}

/** One replay at a time: a second request waits for the first to be set up, then starts over. */
let replaying: Promise<void> = Promise.resolve();
function replayFromStart(trigger: ReplayTrigger): Promise<void> {
  const c = consumer;
  if (!c || consumerState !== "joined")
    return Promise.reject(
      new HttpError(503, "not-ready", "the analytics consumer is not in its group yet; try again shortly"),
    );
  replaying = replaying.catch(() => {}).then(() => rebuild(c, trigger));
  return replaying;
}

const metricsNow = (): AnalyticsMetrics => ({
  ...view.metrics(),
  replay,
  consumer: { group: GROUPS.analytics, state: consumerState, assigned },
  computed_at: new Date().toISOString(),
});

app.get("/metrics", async () => metricsNow());

app.post("/replay", async () => {
  await replayFromStart("request");
  return {
    status: "replay_triggered",
    group: GROUPS.analytics,
    topics: TOPICS_READ,
    started_at: replay.started_at,
    target_offsets: replay.target,
  };
});

app.get("/lag", async () => ({ sampled_at: new Date().toISOString(), groups: await lagOfGroups(admin, GROUP_TOPICS) }));

app.addHook("preValidation", async (req) => {
  if (req.method === "POST" && req.body === undefined) req.body = {};
});

app.post(
  "/report",
  {
    schema: {
      body: Type.Object(
        { label: Type.Optional(Type.String({ minLength: 1, maxLength: 60, pattern: "^[A-Za-z0-9_-]+$" })) },
        { additionalProperties: true },
      ),
    },
  },
  async (req) => {
    const files = writeMetricsReport(metricsNow(), resultsDir("partC"), req.body.label);
    req.log.info(files, "metrics report written");
    return { status: "written", files };
  },
);

async function main(): Promise<void> {
  await admin.connect();
  await waitForTopics(admin, TOPICS_READ, config.TOPIC_WAIT_MS, app.log);
  await startConsumer();
  await replayFromStart("startup"); // the metrics live in memory: rebuild them from the log
  await runService(app, config.PORT, config.HOST, async () => {
    await stopConsumer();
    await admin.disconnect();
  });
}

main().catch((err) => {
  app.log.fatal({ err }, "analytics could not start");
  process.exit(1);
});
