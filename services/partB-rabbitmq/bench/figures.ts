// What Part B's benchmark runs on and records, and its figures read off the record: each beside
// its baseline, with its target and what explains it, every number from the same run.
import os from "node:os";
import type { PartB } from "../lab/implementation.js";
import { brokerGroup, n, type BenchRecord, type BenchStack } from "../../harness/measure/bench-runner.js";
import type { FixedRateResult } from "../../harness/measure/fixed-rate.js";
import { describeCpu } from "../../harness/measure/machine.js";
import { againstBaseline, ratioOf, type Figure } from "../../harness/show/bench-report.js";
import { CONNECTIONS, type DrainResult, type SustainedResult } from "./measures.js";

export type PartBSize = Record<"warmup" | "raw" | "sustained" | "latencySeconds" | "backlog", number>;

export interface PartBStack extends BenchStack<PartBSize> {
  impl: PartB;
  amqpUrl: string;
  /** RabbitMQ's processes, for the CPU meter. */
  broker: ReturnType<typeof brokerGroup>;
}

type CpuPerUnit = Record<string, number>;

/** The record of a run, as its details hold it. */
export interface PartBRecord extends BenchRecord {
  message_bytes: number;
  /** BATCH_MAX of the services, as inventory reports it. */
  batch_max: number;
  raw_publish_consume: { msgs_per_s: number; seconds: number; cpu_ms_per_msg: CpuPerUnit };
  message_flow: { orders_per_s: number; seconds: number; cpu_ms_per_order: CpuPerUnit };
  sustained: SustainedResult & { cpu_ms_per_order: CpuPerUnit };
  /** Half the sustained rate: the 202's latency and the backlog's arrival. */
  rate: number;
  accept: FixedRateResult;
  raw_confirm: FixedRateResult;
  raw_drain: { drain_per_s: number; seconds: number };
  backlog: DrainResult;
  /** The same figures with every service at BATCH_MAX=1, measured in the same run. */
  batch_size_1: { orders_per_s: number; drain_per_s: number };
}

const cores = () => os.availableParallelism();

function throughput(
  { size }: PartBStack,
  { message_bytes, batch_max, raw_publish_consume: raw, message_flow: flow, sustained, batch_size_1 }: PartBRecord,
) {
  const cpu = sustained.cpu_ms_per_order;
  return againstBaseline({
    id: "B.throughput",
    part: "B",
    figure: `orders/s sustained, POST /order → user notified (${n(size.sustained)} orders, ${CONNECTIONS} connections)`,
    unit: "orders/s",
    better: "higher",
    value: sustained.orders_per_s,
    baseline: {
      name: `raw amqplib, ${message_bytes} B, confirms + 1 acking consumer`,
      value: raw.msgs_per_s,
      unit: "msgs/s",
    },
    targetRatio: 0.15,
    holds: sustained.not_accepted === 0,
    notes:
      `In batches of up to ${batch_max} (BATCH_MAX); at batch size 1, in the same run: ${batch_size_1.orders_per_s} orders/s (batching: ${ratioOf(sustained.orders_per_s, batch_size_1.orders_per_s)} ×). ` +
      `Part B's message flow alone (raw amqplib: 3 confirmed publishes and 4 deliveries per order, no HTTP, store or logs) does ${flow.orders_per_s} orders/s here, ${ratioOf(flow.orders_per_s, raw.msgs_per_s)} × the baseline: ` +
      `the ceiling of the design before any service work. CPU per order, all processes: ${describeCpu(cpu)}; per bare message: ${describeCpu(raw.cpu_ms_per_msg)}; ` +
      `${cpu.total} ms per order (the load generator included) lets ${cores()} cores do at most ≈ ${Math.round((1000 * cores()) / cpu.total)} orders/s.`,
  });
}

function accept202({ rate, accept, raw_confirm: confirm, backlog }: PartBRecord): Figure {
  const down = backlog.accept_while_inventory_down;
  return {
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
      `The same orders at the same rate with inventory stopped (the backlog's arrival): p50 ${down.p50_ms} ms, p99 ${down.p99_ms} ms.` +
      (down.p99_ms < accept.p99_ms
        ? ` The difference is not waiting for inventory but sharing the cores with it: the rest of each order's work (inventory, notification, the order's two status updates, RabbitMQ's four deliveries) runs on the same ${cores()} cores at that moment.`
        : ""),
  };
}

function drain({ batch_max, raw_publish_consume: raw, sustained, raw_drain, backlog, batch_size_1 }: PartBRecord) {
  const inventoryMs = sustained.cpu_ms_per_order.inventory ?? Infinity;
  return againstBaseline({
    id: "B.drain",
    part: "B",
    figure: `backlog drain rate after the outage (${n(backlog.backlog)} orders)`,
    unit: "orders/s",
    better: "higher",
    value: backlog.drain_per_s,
    baseline: { name: "raw amqplib consumer, same backlog", value: raw_drain.drain_per_s, unit: "msgs/s" },
    targetRatio: 0.3,
    notes:
      `In batches of up to ${batch_max}; at batch size 1, in the same run: ${batch_size_1.drain_per_s} orders/s (batching: ${ratioOf(backlog.drain_per_s, batch_size_1.drain_per_s)} ×). ` +
      `The raw consumer only acks; inventory, per message, validates it, reserves in one disk commit (stock and message id together), publishes its answer with a confirm, notes that in a second commit, then acks, while notification and the order service work through the answers on the same cores. ` +
      `Inventory's own work is ${inventoryMs} ms of CPU per order against ${raw.cpu_ms_per_msg.client ?? "?"} ms for the bare consumer: ` +
      `even with a core to itself it could not pass ≈ ${Math.round(1000 / inventoryMs)} orders/s, ${ratioOf(1000 / inventoryMs, raw_drain.drain_per_s)} × this baseline.`,
  });
}

/** The figures of the table, each with its baseline, target and what explains it. */
export const partBFigures = (m: PartBRecord, s: PartBStack): Figure[] => [throughput(s, m), accept202(m), drain(m)];
