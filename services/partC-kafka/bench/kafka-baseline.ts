// Part C's baselines: Kafka's own performance tools (from the kafka-tools jar the lab fetched),
// against the same broker, topic, record size and acks as the lab's services.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { kafkaSettings } from "../../harness/run/brokers/settings.js";

const run = promisify(execFile);

async function kafkaTool(mainClass: string, args: string[]): Promise<string> {
  const { libsDir } = kafkaSettings();
  const { stdout } = await run(
    "java",
    ["-Xmx512m", "-cp", path.join(libsDir, "*"), `-Dlog4j.configuration=`, mainClass, ...args],
    { maxBuffer: 64 * 1024 * 1024, timeout: 600_000 },
  );
  return stdout;
}

/** kafka-producer-perf-test: records per second at acks=all (what the idempotent producer uses). */
export async function producerPerfTest(opts: {
  bootstrap: string;
  topic: string;
  records: number;
  recordSize: number;
}): Promise<{ records_per_s: number; raw: string }> {
  const out = await kafkaTool("org.apache.kafka.tools.ProducerPerformance", [
    "--topic",
    opts.topic,
    "--num-records",
    String(opts.records),
    "--record-size",
    String(opts.recordSize),
    "--throughput",
    "-1",
    "--producer-props",
    `bootstrap.servers=${opts.bootstrap}`,
    "acks=all",
    "enable.idempotence=true",
  ]);
  // The final line: "100000 records sent, 52631.578947 records/sec (5.02 MB/sec), ..."
  const last = out
    .trim()
    .split("\n")
    .reverse()
    .find((l) => l.includes("records sent"));
  const m = last && /records sent, ([\d.]+) records\/sec/.exec(last);
  if (!m) throw new Error(`could not read ProducerPerformance's result:\n${out.slice(-500)}`);
  return { records_per_s: Math.round(Number(m[1])), raw: last };
}

/**
 * kafka-consumer-perf-test: read `messages` records of a topic from the beginning, in a new group.
 * Its CSV has two rates: nMsg.sec over the whole run, which includes joining the group (a few
 * seconds with a fresh group), and fetch.nMsg.sec over the fetching alone. The lab's analytics
 * times its reading from after it joined its group, so fetch.nMsg.sec is the one to compare.
 */
export async function consumerPerfTest(opts: { bootstrap: string; topic: string; messages: number }): Promise<{
  records_per_s: number;
  fetch_records_per_s: number;
  fetch_ms: number;
  rebalance_ms: number;
  raw: string;
}> {
  const out = await kafkaTool("org.apache.kafka.tools.ConsumerPerformance", [
    "--bootstrap-server",
    opts.bootstrap,
    "--topic",
    opts.topic,
    "--messages",
    String(opts.messages),
    "--group",
    `bench-consumer-perf-${Date.now()}`,
    "--hide-header",
  ]);
  // CSV: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec,
  //      rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const line = out
    .trim()
    .split("\n")
    .reverse()
    .find((l) => l.split(",").length >= 10);
  const cols = line?.split(",").map((c) => Number(c.trim()));
  if (!cols || !Number.isFinite(cols[5]) || !Number.isFinite(cols[9]))
    throw new Error(`could not read ConsumerPerformance's result:\n${out.slice(-500)}`);
  return {
    records_per_s: Math.round(cols[5]),
    fetch_records_per_s: Math.round(cols[9]),
    fetch_ms: cols[7],
    rebalance_ms: cols[6],
    raw: line!,
  };
}
