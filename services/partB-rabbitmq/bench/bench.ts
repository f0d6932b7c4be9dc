// Part B benchmarks: the lab's three services over RabbitMQ against raw amqplib on the same
// broker, with the same message size, in the same run (what RabbitMQ's PerfTest measures).
//   - sustained throughput: orders POSTed as fast as they are accepted, until every one is notified;
//   - the 202's p99 at half that rate, on a fixed schedule (coordinated omission corrected);
//   - the backlog drain: inventory stopped, a backlog placed, inventory started, time to empty it.
import os from "node:os";
import { orderPlacedFor } from "../events.js";
import { openPart, restartService, type RunningPart } from "../../harness/run/lifecycle.js";
import { labImplementation } from "../lab/implementation.js";
import { freePortsFor } from "../../harness/run/ports.js";
import { CpuMeter, describeCpu, PeakMemory } from "../../harness/measure/machine.js";
import type { FixedRateResult } from "../../harness/measure/fixed-rate.js";
import { rawConfirmLatency, rawDrain, rawPublishConsume, rawWorkflow } from "./rabbit-baseline.js";
import {
  acceptLatency,
  backlogDrain,
  brokerVersion,
  CONNECTIONS,
  n,
  placeOrders,
  sustainedThroughput,
  waitAllFinal,
  type DrainResult,
  type SustainedResult,
} from "./measures.js";
import {
  againstBaseline,
  memoryFigures,
  ratioOf,
  type BenchOptions,
  type BenchResult,
  type Figure,
} from "../../harness/show/bench-report.js";

/**
 * What was changed in the services after profiling (`npm run bench -- --profile`), with the
 * numbers of the same benchmark run on the code before and after, one after the other, on the
 * 2-core reference machine.
 */
const FIXES = {
  throughput:
    "Fixed after profiling: TCP_NODELAY on every connection (amqplib leaves Nagle's algorithm on, so a publish sent after a consumer's ack waited for a delayed TCP ack, up to 40 ms: POST /order alone went from 43 to 3 ms at the median); " +
    "prefetch 10 → 100 (the consumers were idle 60 % of the time, waiting); order counts kept up to date instead of read from every order (17 % of the order service's CPU under a poll five times a second); LMDB commits flushed outside the write lock. " +
    "Before → after: 609 → 761 orders/s, 2.93 → 2.41 ms of CPU per order.",
  accept:
    "Before → after: p50 20.1 → 15.2 ms, p99 71.5 → 44.4 ms, at 305 and 381 orders/s (half of each run's sustained rate), from TCP_NODELAY, the order's commit flushed outside the write lock (3.0 → 0.8 ms at 50 orders/s) and the outbox entry cleared after the 202 instead of before it.",
  drain: "Before → after: 590 → 1,534 orders/s (prefetch 10 → 100, TCP_NODELAY, flushes outside the write lock).",
};

/** What batching changed (issue: one disk commit and one confirm wait per batch), measured before → after on the 2-core reference machine. */
const BATCHING = {
  throughput:
    "Measured while other work shared the 2-core reference machine (the raw baseline ranged 3,205–10,407 msgs/s between runs of the same sitting), so only figures of one run compare. " +
    "Batch size 1 → batches of up to 64, same run: 214 → 311 and 426 → 591 orders/s (1.45 ×, 1.39 ×); the base commit without batching in the same sitting: 363 and 257 orders/s. " +
    "CPU per order over all processes, quieter run: 1.94 ms (inventory 0.28, notification 0.26, order 0.60, RabbitMQ 0.55 ms), against 3.26 ms before batching (inventory 0.54, notification 0.50, order 0.91, RabbitMQ 0.93). " +
    "What a batch cannot share stays: the order service's one thread pays HTTP, a commit and a confirmed publish per POST, and RabbitMQ 3 persistent publishes and 4 deliveries per order; 0.15 × the baseline (≈ 1,560 orders/s) needs ≈ 1.3 ms of CPU per order on 2 cores, not 1.94.",
  drain:
    "Batch size 1 → batches of up to 64, same run: 820 → 1,133 orders/s (1.38 ×; in a run under a load average of 13 from other work, 662 → 643); the base commit in the same sitting: 745 and 935. " +
    "During the drain inventory shares the 2 cores with notification, the order service's status updates and RabbitMQ, ≈ 1.7 ms of CPU per order together (the sustained run's 1.94 ms less the load generator's 0.26): ≈ 1,150 orders/s is where it stops, whatever inventory alone could do, far from 0.3 × a consumer that only acks.",
  accept:
    "Batching leaves the 202's path as it was (one commit and one confirmed publish per order). Its p99 was 280 ms with batching and 280 ms on the base commit, in runs where a bare confirmed publish at the same rate had a p99 of 33–60 ms (2.9 ms on a quiet machine): the tail is the machine's other work; " +
    "the p50 was 44 ms at 296 orders/s with batching against 15.8 ms at 129 orders/s before (half of each run's sustained rate: the cores are busier at twice the rate).",
};

const SIZES = {
  quick: { warmup: 200, raw: 5_000, sustained: 1_500, latencySeconds: 5, backlog: 1_500 },
  full: { warmup: 500, raw: 20_000, sustained: 10_000, latencySeconds: 20, backlog: 10_000 },
};

export async function benchPartB(opts: BenchOptions): Promise<BenchResult> {
  const size = opts.quick ? SIZES.quick : SIZES.full;
  const lab = { home: opts.home, ports: await freePortsFor("partB"), nodeArgs: opts.nodeArgs };
  const memory = new PeakMemory();
  let running: RunningPart | undefined;
  const part = await openPart("partB", lab);
  try {
    running = part.running;
    const impl = labImplementation(running, lab);
    // endpoints.amqp is for reports (its password hidden): the broker's own URL connects.
    const urls = { order: impl.endpoints.order, amqp: impl.broker!.amqp_url };
    // Enough stock that every order is reserved and notified: the whole workflow, every time.
    await impl.faults.stock({ burger: 1e9, fries: 1e9, pizza: 1e9, soda: 1e9, salad: 1e9 });
    const rabbitmq = await brokerVersion(urls.amqp);
    const brokerPid = running.brokers.find((b) => b.id === "rabbitmq")?.pid;
    const broker: Record<string, { pid: number; group: boolean }> = brokerPid
      ? { rabbitmq: { pid: brokerPid, group: true } }
      : {};
    const pids = (services: RunningPart["services"]) =>
      Object.fromEntries(Object.values(services).map((s) => [s.name, { pid: s.pid }]));

    opts.log(`warm-up: ${size.warmup} orders`);
    const warm = await placeOrders(urls.order, 0, size.warmup, CONNECTIONS);
    await waitAllFinal(impl, warm.ids.length);
    // The real OrderPlaced of a real order, byte for byte as the order service publishes it.
    const sample = (await impl.order(warm.ids[0]))!;
    const messageBytes = Buffer.byteLength(JSON.stringify(orderPlacedFor(sample)));

    opts.log(
      `baseline: raw amqplib, ${size.raw} messages of ${messageBytes} B, confirmed publish + one acking consumer`,
    );
    let cpu = new CpuMeter(broker).start();
    const raw = {
      ...(await rawPublishConsume({ amqpUrl: urls.amqp, messages: size.raw, size: messageBytes })),
      cpu_ms_per_msg: {} as Record<string, number>,
    };
    raw.cpu_ms_per_msg = cpu.perUnit(size.raw);
    opts.log(`  ${raw.msgs_per_s} msgs/s (CPU per message: ${describeCpu(raw.cpu_ms_per_msg)})`);

    opts.log(
      `reference: Part B's message flow in raw amqplib (3 confirmed publishes, 4 deliveries per order; no HTTP, store or logs)`,
    );
    cpu = new CpuMeter(broker).start();
    const flow = {
      ...(await rawWorkflow({ amqpUrl: urls.amqp, messages: size.raw / 2, size: messageBytes })),
      cpu_ms_per_order: {} as Record<string, number>,
    };
    flow.cpu_ms_per_order = cpu.perUnit(size.raw / 2);
    opts.log(`  ${flow.orders_per_s} orders/s (CPU per order: ${describeCpu(flow.cpu_ms_per_order)})`);

    opts.log(`sustained: ${size.sustained} orders from ${CONNECTIONS} connections, POST /order → user notified`);
    cpu = new CpuMeter({ ...pids(running.services), ...broker }).start();
    const sustained = {
      ...(await sustainedThroughput(impl, size.warmup, size.sustained)),
      cpu_ms_per_order: {} as Record<string, number>,
    };
    sustained.cpu_ms_per_order = cpu.perUnit(sustained.orders);
    opts.log(
      `  ${sustained.orders_per_s} orders/s end to end (POSTs accepted at ${sustained.accepted_per_s}/s; CPU per order: ${describeCpu(sustained.cpu_ms_per_order)})`,
    );

    const rate = Math.max(10, Math.round(sustained.orders_per_s / 2));
    opts.log(
      `202 latency: ${rate} orders/s (half the sustained rate) for ${size.latencySeconds} s on a fixed schedule`,
    );
    const accept = await acceptLatency(impl, rate, rate * size.latencySeconds);
    opts.log(`  p50 ${accept.p50_ms} ms, p99 ${accept.p99_ms} ms, max ${accept.max_ms} ms, errors ${accept.errors}`);
    opts.log(`reference: a bare confirmed publish of ${messageBytes} B at the same rate, one consumer acking`);
    const confirm = await rawConfirmLatency({
      amqpUrl: urls.amqp,
      rate,
      messages: rate * size.latencySeconds,
      size: messageBytes,
    });
    opts.log(`  p50 ${confirm.p50_ms} ms, p99 ${confirm.p99_ms} ms, max ${confirm.max_ms} ms`);

    opts.log(`baseline: raw amqplib drains ${size.backlog} messages of ${messageBytes} B`);
    const rawBacklog = await rawDrain({ amqpUrl: urls.amqp, messages: size.backlog, size: messageBytes });
    opts.log(`  ${rawBacklog.drain_per_s} msgs/s`);

    opts.log(`backlog: inventory stopped, ${size.backlog} orders placed at ${rate}/s, inventory started again`);
    const backlog = await backlogDrain(running, impl, size.backlog, rate, () => memory.sample(running!.services));
    const alone = backlog.accept_while_inventory_down;
    opts.log(`  202 while inventory was down: p50 ${alone.p50_ms} ms, p99 ${alone.p99_ms} ms`);
    opts.log(`  ${backlog.backlog} messages drained in ${backlog.seconds} s: ${backlog.drain_per_s} orders/s`);

    running = { ...running, services: { ...running.services, ...backlog.restarted.services } };
    memory.sample(running.services);

    // Peak memory under the figures' loads (the batch-size-1 phase below starts new processes and
    // lists a store of twice as many orders: not what the ≤ 200 MB target is about).
    const peaks = memory.byRole();

    // The baseline of batching, in the same run: every service at BATCH_MAX=1 (a message at a time, as before batching).
    opts.log(`batch size 1: the services restarted with BATCH_MAX=1, sustained throughput and backlog drain again`);
    const one = { ...lab, env: { BATCH_MAX: "1" } };
    for (const s of ["inventory", "notification", "order"]) await restartService(running, s, one, one.env);
    const impl1 = labImplementation(running, one); // its consumer restarts keep BATCH_MAX=1
    const sustained1 = await sustainedThroughput(impl1, size.warmup + size.sustained, size.sustained);
    opts.log(`  ${sustained1.orders_per_s} orders/s end to end at batch size 1`);
    const backlog1 = await backlogDrain(running, impl1, size.backlog, rate, () => memory.sample(running!.services));
    opts.log(
      `  ${backlog1.backlog} messages drained in ${backlog1.seconds} s at batch size 1: ${backlog1.drain_per_s} orders/s`,
    );
    const batch1 = { orders_per_s: sustained1.orders_per_s, drain_per_s: backlog1.drain_per_s };

    const measured = { size, messageBytes, raw, flow, sustained, rate, accept, confirm, rawBacklog, backlog, batch1 };
    return {
      figures: [...partBFigures(measured), ...memoryFigures("B", peaks, "under the loads above")],
      details: {
        message_bytes: messageBytes,
        batch_max: 64,
        batch_size_1: batch1,
        raw_publish_consume: raw,
        message_flow: flow,
        sustained,
        accept,
        raw_confirm: confirm,
        raw_drain: rawBacklog,
        backlog: { ...backlog, restarted: undefined },
        peak_rss_mb: peaks,
        peak_rss_mb_with_batch_size_1: memory.byRole(),
      },
      versions: { rabbitmq },
    };
  } finally {
    if (running) memory.sample(running.services);
    await part.close();
  }
}

interface PartBMeasured {
  size: (typeof SIZES)["quick"];
  messageBytes: number;
  raw: { msgs_per_s: number; cpu_ms_per_msg: Record<string, number> };
  flow: { orders_per_s: number };
  sustained: SustainedResult & { cpu_ms_per_order: Record<string, number> };
  rate: number;
  accept: FixedRateResult;
  confirm: FixedRateResult;
  rawBacklog: { drain_per_s: number };
  backlog: DrainResult;
  /** The same figures with every service at BATCH_MAX=1, measured in the same run. */
  batch1: { orders_per_s: number; drain_per_s: number };
}

/** The figures of the table, each with its baseline, target and what explains it. */
function partBFigures({
  size,
  messageBytes,
  raw,
  flow,
  sustained,
  rate,
  accept,
  confirm,
  rawBacklog,
  backlog,
  batch1,
}: PartBMeasured): Figure[] {
  return [
    againstBaseline({
      id: "B.throughput",
      part: "B",
      figure: `orders/s sustained, POST /order → user notified (${n(size.sustained)} orders, ${CONNECTIONS} connections)`,
      unit: "orders/s",
      better: "higher",
      value: sustained.orders_per_s,
      baseline: {
        name: `raw amqplib, ${messageBytes} B, confirms + 1 acking consumer`,
        value: raw.msgs_per_s,
        unit: "msgs/s",
      },
      targetRatio: 0.15,
      holds: sustained.not_accepted === 0,
      notes:
        `In batches of up to 64 (BATCH_MAX); at batch size 1, in the same run: ${batch1.orders_per_s} orders/s (batching: ${ratioOf(sustained.orders_per_s, batch1.orders_per_s)} ×). ${BATCHING.throughput} ` +
        `Part B's message flow alone (raw amqplib: 3 confirmed publishes and 4 deliveries per order, no HTTP, store or logs) does ${flow.orders_per_s} orders/s here, ${ratioOf(flow.orders_per_s, raw.msgs_per_s)} × the baseline: ` +
        `the target is about the ceiling of the design before any service work. CPU per order, all processes: ${describeCpu(sustained.cpu_ms_per_order)}; per bare message: ${describeCpu(raw.cpu_ms_per_msg)}; ` +
        `${sustained.cpu_ms_per_order.total} ms per order (the load generator included) lets ${os.availableParallelism()} cores do at most ≈ ${Math.round((1000 * os.availableParallelism()) / sustained.cpu_ms_per_order.total)} orders/s. ${FIXES.throughput}`,
    }),
    {
      id: "B.accept.p99",
      part: "B",
      figure: `202 response p99 at half the sustained rate (${rate} orders/s, ${n(accept.count)} orders)`,
      unit: "ms",
      better: "lower",
      value: accept.p99_ms,
      target: "≤ 20 ms",
      met: accept.p99_ms <= 20 && accept.errors === 0,
      notes:
        `p50 ${accept.p50_ms} ms, p90 ${accept.p90_ms} ms, max ${accept.max_ms} ms, ${accept.errors} errors. The 202 waits for one disk commit (the order and its outbox entry) and the broker's confirm of a persistent message; ` +
        `a bare confirmed publish at the same rate, to a queue one consumer acks, takes p50 ${confirm.p50_ms} ms, p99 ${confirm.p99_ms} ms here. ` +
        `The same orders at the same rate with inventory stopped (the backlog's arrival): p50 ${backlog.accept_while_inventory_down.p50_ms} ms, p99 ${backlog.accept_while_inventory_down.p99_ms} ms. ` +
        `The difference is not waiting for inventory but sharing the cores with it: the rest of each order's work (inventory, notification, the order's two status updates, RabbitMQ's four deliveries) runs on the same ${os.availableParallelism()} cores at that moment. ${BATCHING.accept} ${FIXES.accept}`,
    },
    againstBaseline({
      id: "B.drain",
      part: "B",
      figure: `backlog drain rate after the outage (${n(backlog.backlog)} orders)`,
      unit: "orders/s",
      better: "higher",
      value: backlog.drain_per_s,
      baseline: { name: "raw amqplib consumer, same backlog", value: rawBacklog.drain_per_s, unit: "msgs/s" },
      targetRatio: 0.3,
      notes:
        `In batches of up to 64; at batch size 1, in the same run: ${batch1.drain_per_s} orders/s (batching: ${ratioOf(backlog.drain_per_s, batch1.drain_per_s)} ×). ${BATCHING.drain} ` +
        `The raw consumer only acks; inventory, per message, validates it, reserves in one disk commit (stock and message id together), publishes its answer with a confirm, notes that in a second commit, then acks, while notification and the order service work through the answers on the same cores. ` +
        `Inventory's own work is ${sustained.cpu_ms_per_order.inventory ?? "?"} ms of CPU per order against ${raw.cpu_ms_per_msg.client ?? "?"} ms for the bare consumer: ` +
        `even with a core to itself it could not pass ≈ ${Math.round(1000 / (sustained.cpu_ms_per_order.inventory ?? Infinity))} orders/s, ${ratioOf(1000 / (sustained.cpu_ms_per_order.inventory ?? Infinity), rawBacklog.drain_per_s)} × this baseline. ${FIXES.drain}`,
    }),
  ];
}
