// Part B's benchmark: the lab's three services over RabbitMQ against raw amqplib on the same
// broker, with the same message size, in the same run (what RabbitMQ's PerfTest measures):
//   - sustained throughput: orders POSTed as fast as they are accepted, until every one is notified;
//   - the 202's p99 at half that rate, on a fixed schedule (coordinated omission corrected);
//   - the backlog drain: inventory stopped, a backlog placed, inventory started, time to empty it;
//   - throughput and drain again with every service at batch size 1: batching's own baseline.
import { orderPlacedFor } from "../events.js";
import { ensureStockFor } from "../experiments/orders.js";
import { labImplementation } from "../lab/implementation.js";
import { openPart } from "../../harness/run/lifecycle.js";
import { freePortsFor } from "../../harness/run/ports.js";
import { brokerGroup, metered, runBench, type Bench, type Measure } from "../../harness/measure/bench-runner.js";
import { describeCpu, PeakMemory } from "../../harness/measure/machine.js";
import type { BenchOptions, BenchResult } from "../../harness/show/bench-report.js";
import { partBFigures, type PartBRecord, type PartBSize, type PartBStack } from "./figures.js";
import { acceptLatency, backlogDrain, sustainedThroughput, warmUp, CONNECTIONS } from "./measures.js";
import { brokerVersion, rawConfirmLatency, rawDrain, rawPublishConsume, rawWorkflow } from "./rabbit-baseline.js";

const SIZES = {
  quick: { warmup: 200, raw: 5_000, sustained: 1_500, latencySeconds: 5, backlog: 1_500 },
  full: { warmup: 500, raw: 20_000, sustained: 10_000, latencySeconds: 20, backlog: 10_000 },
};

async function open(opts: BenchOptions, size: PartBSize): Promise<PartBStack> {
  const lab = { home: opts.home, ports: await freePortsFor("partB"), nodeArgs: opts.nodeArgs };
  const part = await openPart("partB", lab);
  try {
    const { running } = part;
    const impl = labImplementation(running, lab);
    // Enough stock that every order is reserved and notified: the whole workflow, every time.
    await ensureStockFor(impl, 1e9);
    // endpoints.amqp is for reports (its password hidden): the broker's own URL connects.
    const amqpUrl = impl.broker!.amqp_url;
    const broker = brokerGroup("rabbitmq", running.brokers.find((b) => b.id === "rabbitmq")?.pid);
    const versions = { rabbitmq: await brokerVersion(amqpUrl) };
    const services = () => running.services; // a restarted service is updated in place
    return { size, impl, amqpUrl, broker, versions, memory: new PeakMemory(), services, close: part.close };
  } catch (err) {
    await part.close();
    throw err;
  }
}

/** The raw baselines' connection and message: the broker, and OrderPlaced's size. */
const rawOf = (s: PartBStack, m: PartBRecord) => ({ amqpUrl: s.amqpUrl, size: m.message_bytes });
/** The backlog, placed at the 202's rate: the same load, with no consumer working. */
const backlogOf = (s: PartBStack, m: PartBRecord) => ({ count: s.size.backlog, rate: m.rate });
const sampleBeforeStop = (s: PartBStack) => () => s.memory.sample(s.services());

const measures: Measure<PartBStack, PartBRecord>[] = [
  {
    says: (s) => `warm-up: ${s.size.warmup} orders`,
    run: async (s, m) => {
      // The real OrderPlaced of a real order, byte for byte as the order service publishes it.
      const sample = await warmUp(s.impl, s.size.warmup);
      m.message_bytes = Buffer.byteLength(JSON.stringify(orderPlacedFor(sample)));
      m.batch_max = (await s.impl.stats("inventory")).batch_max as number;
      return `OrderPlaced is ${m.message_bytes} B; the services decide up to ${m.batch_max} messages at a time`;
    },
  },
  {
    says: (s, m) =>
      `baseline: raw amqplib, ${s.size.raw} messages of ${m.message_bytes} B, confirmed publish + one acking consumer`,
    run: async (s, m) => {
      const work = () => rawPublishConsume({ ...rawOf(s, m), messages: s.size.raw });
      const [raw, cpu] = await metered(s.broker, work, s.size.raw);
      m.raw_publish_consume = { ...raw, cpu_ms_per_msg: cpu };
      return `${raw.msgs_per_s} msgs/s (CPU per message: ${describeCpu(cpu)})`;
    },
  },
  {
    says: () =>
      "reference: Part B's message flow in raw amqplib (3 confirmed publishes, 4 deliveries per order; no HTTP, store or logs)",
    run: async (s, m) => {
      const orders = s.size.raw / 2;
      const [flow, cpu] = await metered(s.broker, () => rawWorkflow({ ...rawOf(s, m), messages: orders }), orders);
      m.message_flow = { ...flow, cpu_ms_per_order: cpu };
      return `${flow.orders_per_s} orders/s (CPU per order: ${describeCpu(cpu)})`;
    },
  },
  {
    says: (s) => `sustained: ${s.size.sustained} orders from ${CONNECTIONS} connections, POST /order → user notified`,
    run: async (s, m) => {
      const work = () => sustainedThroughput(s.impl, s.size.warmup, s.size.sustained);
      const [sustained, cpu] = await metered({ ...s.services(), ...s.broker }, work, (r) => r.orders);
      m.sustained = { ...sustained, cpu_ms_per_order: cpu };
      m.rate = Math.max(10, Math.round(sustained.orders_per_s / 2));
      return `${sustained.orders_per_s} orders/s end to end (POSTs accepted at ${sustained.accepted_per_s}/s; CPU per order: ${describeCpu(cpu)})`;
    },
  },
  {
    says: (s, m) =>
      `202 latency: ${m.rate} orders/s (half the sustained rate) for ${s.size.latencySeconds} s on a fixed schedule`,
    run: async (s, m) => {
      const a = (m.accept = await acceptLatency(s.impl, m.rate, m.rate * s.size.latencySeconds));
      return `p50 ${a.p50_ms} ms, p99 ${a.p99_ms} ms, max ${a.max_ms} ms, errors ${a.errors}`;
    },
  },
  {
    says: (s, m) => `reference: a bare confirmed publish of ${m.message_bytes} B at the same rate, one consumer acking`,
    run: async (s, m) => {
      const messages = m.rate * s.size.latencySeconds;
      const c = (m.raw_confirm = await rawConfirmLatency({ ...rawOf(s, m), rate: m.rate, messages }));
      return `p50 ${c.p50_ms} ms, p99 ${c.p99_ms} ms, max ${c.max_ms} ms`;
    },
  },
  {
    says: (s, m) => `baseline: raw amqplib drains ${s.size.backlog} messages of ${m.message_bytes} B`,
    run: async (s, m) => {
      m.raw_drain = await rawDrain({ ...rawOf(s, m), messages: s.size.backlog });
      return `${m.raw_drain.drain_per_s} msgs/s`;
    },
  },
  {
    says: (s, m) =>
      `backlog: inventory stopped, ${s.size.backlog} orders placed at ${m.rate}/s, inventory started again`,
    run: async (s, m) => {
      const b = (m.backlog = await backlogDrain(s.impl, backlogOf(s, m), sampleBeforeStop(s)));
      const down = b.accept_while_inventory_down;
      return `202 while inventory was down: p50 ${down.p50_ms} ms, p99 ${down.p99_ms} ms; ${b.backlog} messages drained in ${b.seconds} s: ${b.drain_per_s} orders/s`;
    },
  },
  {
    says: () => "batch size 1: the services restarted with BATCH_MAX=1, sustained throughput and backlog drain again",
    run: async (s, m) => {
      // Peak memory under the figures' loads: this phase starts new processes and lists a store
      // of twice as many orders, not what the ≤ 200 MB target is about.
      m.peak_rss_mb = s.memory.byRole();
      const one = { BATCH_MAX: "1" };
      await s.impl.batchSize(1);
      const sustained = await sustainedThroughput(s.impl, s.size.warmup + s.size.sustained, s.size.sustained);
      const drain = await backlogDrain(s.impl, { ...backlogOf(s, m), inventoryEnv: one }, sampleBeforeStop(s));
      m.batch_size_1 = { orders_per_s: sustained.orders_per_s, drain_per_s: drain.drain_per_s };
      return `${sustained.orders_per_s} orders/s end to end; ${drain.backlog} messages drained at ${drain.drain_per_s} orders/s`;
    },
  },
];

const partBBench: Bench<PartBSize, PartBStack, PartBRecord> = {
  part: "B",
  sizes: SIZES,
  open,
  measures,
  figures: partBFigures,
  details: (_m, s) => ({ peak_rss_mb_with_batch_size_1: s.memory.byRole() }),
};

export const benchPartB = (opts: BenchOptions): Promise<BenchResult> => runBench(partBBench, opts);
