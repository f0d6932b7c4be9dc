// What Part C's benchmark runs on and records, and its figures read off the record: each beside
// the Kafka tool that does the same work, with its target and what explains it, every number
// from the same run.
import type { LabClient } from "../lab/client.js";
import type { PartC } from "../lab/implementation.js";
import type { PartCKafka } from "../lab/kafka-tap.js";
import { brokerGroup, n, type BenchRecord, type BenchStack } from "../../harness/measure/bench-runner.js";
import { describeCpu } from "../../harness/measure/machine.js";
import { againstBaseline, type Figure } from "../../harness/show/bench-report.js";
import type { consumerPerfTest } from "./kafka-baseline.js";

export type PartCSize = Record<"warmup" | "load" | "replay", number>;

export interface PartCStack extends BenchStack<PartCSize> {
  impl: PartC;
  /** The lab's own services' API: /load-test, analytics' metrics and replay, /health. */
  own: LabClient;
  kafka: PartCKafka;
  /** Its bootstrap address, for Kafka's own tools. */
  bootstrap: string;
  /** Kafka's processes, for the CPU meter. */
  broker: ReturnType<typeof brokerGroup>;
  /** The real event, byte for byte as /load-test appends it (the value; the key is the order id). */
  eventBytes: number;
}

type CpuPerUnit = Record<string, number>;
type ConsumerPerf = Awaited<ReturnType<typeof consumerPerfTest>>;
/** Events over the seconds they took (analytics: by its own clock). */
export interface ReadRate {
  events: number;
  seconds: number;
  events_per_s: number;
}

/** The record of a run, as its details hold it. */
export interface PartCRecord extends BenchRecord {
  producer_perf_test: { records_per_s: number; raw: string; cpu_ms_per_event: CpuPerUnit };
  load: ReadRate & { server_events_per_s: number; batch_size: number; cpu_ms_per_event: CpuPerUnit };
  catch_up: ReadRate;
  consumer_perf_test_catch_up: ConsumerPerf;
  inventory: Record<string, unknown>;
  replay: ReadRate & { cpu_ms_per_event: CpuPerUnit };
  consumer_perf_test_replay: {
    records: number;
    fetch_ms: number;
    fetch_records_per_s: number;
    runs: ({ topic: string; messages: number } & ConsumerPerf)[];
  };
}

const load = ({ size, eventBytes }: PartCStack, { load, producer_perf_test: perf }: PartCRecord) =>
  againstBaseline({
    id: "C.load",
    part: "C",
    figure: `/load-test events/s, ${n(load.events)} events`,
    unit: "events/s",
    better: "higher",
    value: load.events_per_s,
    baseline: { name: `kafka-producer-perf-test, ${eventBytes} B, acks=all`, value: perf.records_per_s },
    targetRatio: 0.5,
    notes:
      `/load-test sends batches of ${load.batch_size} events, one request in flight (the idempotent producer's rule in kafkajs), each waited for until every in-sync replica has it; ` +
      `Kafka's tool at its defaults sends batches of 16 KB (≈ ${Math.floor(16384 / (eventBytes + 30))} events) per partition, five requests in flight. CPU per event: ${describeCpu(load.cpu_ms_per_event)}. ` +
      `Measured from the request to the answer, after a ${size.warmup}-event warm-up; the tool's own run includes its JVM warming up.`,
  });

const catchUp = ({ catch_up: catchUp, consumer_perf_test_catch_up: perf }: PartCRecord) =>
  againstBaseline({
    id: "C.catchup",
    part: "C",
    figure: `analytics catch-up events/s, ${n(catchUp.events)} events`,
    unit: "events/s",
    better: "higher",
    value: catchUp.events_per_s,
    baseline: { name: "kafka-consumer-perf-test, fetch rate, same topic", value: perf.fetch_records_per_s },
    targetRatio: 0.3,
    notes:
      `Analytics starts with the whole load in the log and reads it (its start-up rebuild), timed by its own clock from after it joined its group; so the baseline is the tool's fetch.nMsg.sec, which leaves out its group join ` +
      `(with it: ${perf.records_per_s}/s, ${perf.rebalance_ms} ms joining). Per event analytics parses the JSON, checks it against the schema and counts its eventId once; a process just started also pays for its JIT warming up.`,
  });

const replay = ({ replay, consumer_perf_test_replay: perf }: PartCRecord) =>
  againstBaseline({
    id: "C.replay",
    part: "C",
    figure: `replay events/s, ${n(replay.events)} events`,
    unit: "events/s",
    better: "higher",
    value: replay.events_per_s,
    baseline: { name: "kafka-consumer-perf-test, fetch rate, both topics", value: perf.fetch_records_per_s },
    targetRatio: 0.3,
    notes:
      `POST /replay over orders and inventory's answers (${perf.runs.map((r) => `${r.topic} ${r.messages}`).join(", ")}); the baseline reads each topic with Kafka's tool, all records over the time spent fetching them. ` +
      `CPU per event: ${describeCpu(replay.cpu_ms_per_event)}. Per event analytics decodes the record with kafkajs, parses and checks it, and counts its eventId once; Kafka's tool decodes nothing.`,
  });

/** The figures of the table, each with its baseline, target and what explains it. */
export const partCFigures = (m: PartCRecord, s: PartCStack): Figure[] => [load(s, m), catchUp(m), replay(m)];
