// Part C's benchmark: the lab's producer and analytics against Kafka's own performance tools on
// the same broker, with the same record size and acks, in the same run. Each side is measured
// alone, as its baseline runs alone: inventory and analytics wait while the producer is timed,
// and analytics catches up while nothing else runs.
//   - /load-test: events per second until every event is acknowledged (acks = all);
//   - catch-up: analytics starts behind the whole load and reads it (its startup rebuild);
//   - replay: POST /replay over a log of 1,000,000 events (orders and inventory's answers).
import { newLoadTestOrderId } from "../../common/ids.js";
import { DEFAULT_ITEMS } from "../produce-orders.js";
import { orderPlaced, toMessage } from "../events.js";
import { ensureTopic } from "../kafka.js";
import { logSize, TOPICS, type AnalyticsMetrics } from "../lab/client.js";
import { labPartC } from "../lab/implementation.js";
import { openPart } from "../../harness/run/lifecycle.js";
import { freePortsFor } from "../../harness/run/ports.js";
import { readRecord } from "../../harness/run/processes.js";
import { brokerGroup, metered, round2, runBench } from "../../harness/measure/bench-runner.js";
import type { Bench, Measure } from "../../harness/measure/bench-runner.js";
import { describeCpu, PeakMemory } from "../../harness/measure/machine.js";
import type { BenchOptions, BenchResult } from "../../harness/show/bench-report.js";
import { partCFigures, type PartCRecord, type PartCSize, type PartCStack, type ReadRate } from "./figures.js";
import { consumerPerfTest, producerPerfTest } from "./kafka-baseline.js";

const SIZES = {
  quick: { warmup: 1_000, load: 10_000, replay: 50_000 },
  full: { warmup: 1_000, load: 100_000, replay: 1_000_000 },
};
const PERF_TOPIC = "bench-producer-perf";
const TIMEOUT_MS = 900_000;

async function open(opts: BenchOptions, size: PartCSize): Promise<PartCStack> {
  const lab = { home: opts.home, ports: await freePortsFor("partC"), nodeArgs: opts.nodeArgs };
  const part = await openPart("partC", lab);
  const impl = labPartC(part.running, lab);
  const close = () => impl.close().finally(part.close);
  try {
    const broker = brokerGroup("kafka", part.running.brokers.find((b) => b.id === "kafka")?.pid);
    const eventBytes = Buffer.byteLength(toMessage(orderPlaced(newLoadTestOrderId(0), DEFAULT_ITEMS)).value);
    const services = () => part.running.services; // a started service is updated in place
    const versions = { kafka: (readRecord("kafka", opts.home)?.meta?.version as string | undefined) ?? "unknown" };
    const [own, kafka] = [impl.whiteBox(), await impl.kafka()];
    const bootstrap = own.endpoints.kafka;
    return {
      size,
      impl,
      own,
      kafka,
      bootstrap,
      broker,
      versions,
      eventBytes,
      memory: new PeakMemory(),
      services,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Records in a topic now: the sum over its partitions of end − start offsets. */
const topicSize = async (s: PartCStack, topic: string) =>
  (await s.kafka.admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);

const rateOf = (events: number, seconds: number): ReadRate => ({
  events,
  seconds: round2(seconds),
  events_per_s: Math.round(events / seconds),
});

/** Wait for the replay `which` picks to finish; its own clock says how long the reading took. */
async function replayDone(s: PartCStack, which: (m: AnalyticsMetrics) => boolean): Promise<ReadRate> {
  const done = (m: AnalyticsMetrics) => which(m) && !m.replay.running && m.replay.duration_ms !== null;
  const { replay } = await s.own.waitForMetrics(done, "analytics to finish reading the log", TIMEOUT_MS, () => {}, 50);
  return rateOf(replay.events_read, replay.duration_ms! / 1000);
}

/** ConsumerPerformance over each topic of the log: all records over the time spent fetching them. */
async function consumeBoth(s: PartCStack) {
  const runs = [];
  for (const topic of [TOPICS.orders, TOPICS.inventoryEvents]) {
    const messages = await topicSize(s, topic);
    if (messages > 0)
      runs.push({ topic, messages, ...(await consumerPerfTest({ bootstrap: s.bootstrap, topic, messages })) });
  }
  const records = runs.reduce((a, r) => a + r.messages, 0);
  const fetchMs = runs.reduce((a, r) => a + r.fetch_ms, 0);
  return { records, fetch_ms: fetchMs, fetch_records_per_s: Math.round(records / (fetchMs / 1000)), runs };
}

const measures: Measure<PartCStack, PartCRecord>[] = [
  {
    says: (s) => `warm-up: ${s.size.warmup} events (inventory and analytics stopped)`,
    run: async (s) => {
      s.memory.sample(s.services()); // a service's peak goes with its process
      for (const name of ["inventory", "analytics"] as const) await s.impl.stop(name);
      return `${(await s.own.loadTest(s.size.warmup)).produced} events`;
    },
  },
  {
    says: (s) =>
      `baseline: kafka-producer-perf-test, ${s.size.load} records of ${s.eventBytes} B, acks=all, idempotent`,
    run: async (s, m) => {
      await ensureTopic(s.kafka.admin, PERF_TOPIC, 3);
      const perf = { bootstrap: s.bootstrap, topic: PERF_TOPIC, records: s.size.load, recordSize: s.eventBytes };
      const [tool, cpu] = await metered(s.broker, () => producerPerfTest(perf), s.size.load);
      m.producer_perf_test = { ...tool, cpu_ms_per_event: cpu };
      return `${tool.records_per_s} records/s`;
    },
  },
  {
    says: (s) => `/load-test: ${s.size.load} events (inventory and analytics stopped)`,
    run: async (s, m) => {
      const started = performance.now();
      const work = () => s.own.loadTest(s.size.load);
      const [r, cpu] = await metered({ producer: s.services().producer, ...s.broker }, work, (x) => x.produced);
      const rate = rateOf(r.produced, (performance.now() - started) / 1000);
      m.load = { ...rate, server_events_per_s: r.events_per_s, batch_size: r.batch_size, cpu_ms_per_event: cpu };
      return `${m.load.events_per_s} events/s (CPU per event: ${describeCpu(cpu)})`;
    },
  },
  {
    says: () => "catch-up: analytics starts behind the whole load and reads it",
    run: async (s, m) => {
      await s.impl.start("analytics");
      const c = (m.catch_up = await replayDone(s, (x) => x.replay.trigger === "startup"));
      return `${c.events} events in ${c.seconds} s: ${c.events_per_s} events/s`;
    },
  },
  {
    says: () => "baseline: kafka-consumer-perf-test reads the same orders",
    run: async (s, m) => {
      const perf = { bootstrap: s.bootstrap, topic: TOPICS.orders, messages: await topicSize(s, TOPICS.orders) };
      const p = (m.consumer_perf_test_catch_up = await consumerPerfTest(perf));
      return `${perf.messages} records at ${p.fetch_records_per_s} records/s fetching (${p.records_per_s} with the group join)`;
    },
  },
  {
    says: (s) => `replay log: inventory answers every order, and more orders fill the log to ${s.size.replay} events`,
    run: async (s, m) => {
      await s.impl.start("inventory");
      await s.own.waitForQuiet(TIMEOUT_MS); // inventory has answered every order so far
      const now = logSize(await s.own.lag());
      const more = Math.max(0, Math.ceil((s.size.replay - now) / 2)); // each order, and inventory's answer
      for (let done = 0; done < more; done += 100_000) await s.own.loadTest(Math.min(100_000, more - done));
      await s.own.waitForQuiet(TIMEOUT_MS);
      const { orders_read, answers_sent, commits } = await s.own.stats("inventory");
      m.inventory = { orders_read, answers_sent, commits };
      return `${logSize(await s.own.lag())} events in the log (${now} before)`;
    },
  },
  {
    says: () => "replay: POST /replay over the whole log",
    run: async (s, m) => {
      const work = async () => {
        const trigger = await s.own.replay();
        return replayDone(s, (x) => x.replay.started_at === trigger.started_at);
      };
      const [r, cpu] = await metered({ analytics: s.services().analytics, ...s.broker }, work, (x) => x.events);
      m.replay = { ...r, cpu_ms_per_event: cpu };
      return `${r.events} events in ${r.seconds} s: ${r.events_per_s} events/s`;
    },
  },
  {
    says: () => "baseline: kafka-consumer-perf-test reads both topics of the same log",
    run: async (s, m) =>
      `${(m.consumer_perf_test_replay = await consumeBoth(s)).fetch_records_per_s} records/s fetching`,
  },
];

const partCBench: Bench<PartCSize, PartCStack, PartCRecord> = {
  part: "C",
  sizes: SIZES,
  open,
  measures,
  figures: partCFigures,
  details: (_m, s) => ({ event_bytes: s.eventBytes }),
};

export const benchPartC = (opts: BenchOptions): Promise<BenchResult> => runBench(partCBench, opts);
