// The batching experiment: the same load at batch sizes 1, 4, 16, 64 and 256 (BATCH_MAX of all
// three services). A batch shares one store transaction, one confirm wait and one ack; what it
// costs is that a message may wait for its batch. Two phases per size: a burst of orders from
// many clients, timed until the last user is notified (what the chain sustains), then orders at
// a fixed rate every size can keep up with (what a user waits: placed → notified, p50 and p99).
// The checker counts, over both phases, orders that never became final (lost) and reservations
// or notifications beyond one per order (duplicated).
import http from "node:http";
import { groupedBarSpec } from "../../harness/plots.js";
import { toCsv, type Row } from "../../common/table.js";
import { waitUntil } from "../../common/wait.js";
import { restartService, serviceEnv, usePart, type LabOptions, type RunningPart } from "../../harness/lifecycle.js";
import { fixedRateLoad } from "../../harness/fixed-rate.js";
import { LatencyRecorder } from "../../harness/histogram.js";
import { postJson } from "../../harness/raw-http.js";
import { check, type Check } from "../../harness/check.js";
import { ResultFiles } from "../../harness/results.js";
import type { OrderRecord } from "./client.js";
import { labImplementation, type PartBImplementation } from "./implementation.js";

export const BATCH_SIZES = [1, 4, 16, 64, 256];

export interface BatchingOptions extends LabOptions {
  sizes?: number[];
  /** Orders of the burst, per size. */
  burst?: number;
  /** Clients posting the burst at once. */
  connections?: number;
  /** The fixed rate of the latency phase (orders/s) and how long it runs (s). */
  rate?: number;
  seconds?: number;
  /** Small sizes: 400 orders of burst, 100 orders/s for 3 s. */
  quick?: boolean;
  onProgress?: (line: string) => void;
}

export interface BatchingRow {
  batch_size: number;
  /** Burst: orders from the first POST until the last user was notified. */
  orders_per_s: number;
  /** Fixed rate: placed → user notified. */
  p50_ms: number;
  p99_ms: number;
  /** Both phases: accepted orders that never reached CONFIRMED or FAILED. */
  lost: number;
  /** Both phases: reservations and notifications beyond one per order. */
  duplicated: number;
  /** Burst: placed → notified p99, mostly time spent queued behind the burst. */
  burst_p99_ms: number;
  /** How full inventory's batches were (mean over both phases). */
  inventory_batch_mean: number;
  orders: number;
}

export interface BatchingResult {
  sizes: number[];
  burst: number;
  connections: number;
  rate: number;
  seconds: number;
  rows: BatchingRow[];
  checks: Check[];
  passed: boolean;
}

const SERVICES = ["inventory", "notification", "order"] as const;
const SKU = "burger";

export async function runBatchingExperiment(opts: BatchingOptions = {}): Promise<BatchingResult> {
  // Every service is restarted at each batch size, so the run needs the part itself, not only its implementation.
  return usePart("partB", opts, (running) => batchingRun(running, labImplementation(running, opts), opts));
}

async function batchingRun(
  running: RunningPart,
  impl: PartBImplementation,
  opts: BatchingOptions,
): Promise<BatchingResult> {
  const sizes = opts.sizes ?? BATCH_SIZES;
  const burst = opts.burst ?? (opts.quick ? 400 : 3000);
  const connections = opts.connections ?? 32;
  const rate = opts.rate ?? (opts.quick ? 100 : 200);
  const seconds = opts.seconds ?? (opts.quick ? 3 : 10);
  const progress = opts.onProgress ?? (() => {});
  // The services' own env, to put back afterwards (a running lab stays as it was).
  const before = Object.fromEntries(SERVICES.map((s) => [s, serviceEnv("partB", s, opts.home)]));
  const rows: BatchingRow[] = [];
  try {
    for (const size of sizes) {
      progress(`batch size ${size}: restarting the services with BATCH_MAX=${size}`);
      for (const s of SERVICES) await restartService(running, s, opts, { ...before[s], BATCH_MAX: String(size) });
      rows.push(await oneSize(impl, size, { burst, connections, rate, seconds }, progress));
    }
  } finally {
    progress("putting the services back as they were");
    for (const s of SERVICES) await restartService(running, s, opts, before[s]).catch(() => {});
  }
  const checks: Check[] = [
    check(
      "lost = 0 at every batch size: every accepted order reached CONFIRMED or FAILED",
      rows.every((r) => r.lost === 0),
      rows.map((r) => `${r.batch_size}: ${r.lost}`).join(", "),
    ),
    check(
      "duplicated = 0 at every batch size: one reservation and one notification per order",
      rows.every((r) => r.duplicated === 0),
      rows.map((r) => `${r.batch_size}: ${r.duplicated}`).join(", "),
    ),
    check(
      "batches formed: inventory's batches hold more than one message once BATCH_MAX > 1",
      rows.filter((r) => r.batch_size > 1).every((r) => r.inventory_batch_mean > 1),
      rows.map((r) => `${r.batch_size}: mean ${r.inventory_batch_mean}`).join(", "),
    ),
  ];
  return { sizes, burst, connections, rate, seconds, rows, checks, passed: checks.every((c) => c.passed) };
}

async function oneSize(
  impl: PartBImplementation,
  size: number,
  load: { burst: number; connections: number; rate: number; seconds: number },
  progress: (l: string) => void,
): Promise<BatchingRow> {
  await impl.faults.stock({ [SKU]: 1_000_000_000 });
  const [inv0, note0] = [await impl.stats("inventory"), await impl.stats("notification")];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const body = (i: number) => ({
    user_id: `u-batching-${size}`,
    restaurant_id: "r-lab",
    items: [{ sku: SKU, qty: 1 }],
    n: i,
  });
  const post = async (i: number) => {
    // The measured loop keeps a raw keep-alive client: the interface's axios would add its CPU per order.
    const res = await postJson(`${impl.endpoints.order}/order`, body(i), agent).catch(() => ({ status: 0, body: "" }));
    return res.status === 202 ? (JSON.parse(res.body) as { order_id: string }).order_id : undefined;
  };
  try {
    // 1. The burst: as fast as the order service accepts, clock until the last user is notified.
    const burstIds: string[] = [];
    let next = 0;
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: load.connections }, async () => {
        for (let i = next++; i < load.burst; i = next++) {
          const id = await post(i);
          if (id) burstIds.push(id);
        }
      }),
    );
    const burstOrders = await waitFinal(impl, burstIds);
    const lastAt = Math.max(
      t0,
      ...burstOrders.map((o) => Date.parse(o.notified_at ?? o.failed_at ?? "")).filter(Number.isFinite),
    );
    const ordersPerS = Math.round(burstIds.length / ((lastAt - t0) / 1000));
    const burstLatency = latencies(burstOrders);

    // 2. A fixed rate every size keeps up with: what a user waits.
    const rateIds: string[] = [];
    await fixedRateLoad({
      rate: load.rate,
      count: load.rate * load.seconds,
      send: async (i) => {
        const id = await post(load.burst + i);
        if (id) rateIds.push(id);
        return id !== undefined;
      },
    });
    const rateOrders = await waitFinal(impl, rateIds);
    const steady = latencies(rateOrders);

    const all = [...burstOrders, ...rateOrders];
    const accepted = burstIds.length + rateIds.length;
    const confirmed = all.filter((o) => o.status === "CONFIRMED").length;
    const final = all.filter((o) => o.status === "CONFIRMED" || o.status === "FAILED").length;
    await new Promise((r) => setTimeout(r, 300)); // time for any (wrong) second effect to show
    const [inv1, note1] = [await impl.stats("inventory"), await impl.stats("notification")];
    const reservations = (inv0.stock[SKU] as number) - (inv1.stock[SKU] as number);
    const notifications = (note1.sent as number) - (note0.sent as number);
    const batches = (inv1.batches as number) - (inv0.batches as number);
    const row: BatchingRow = {
      batch_size: size,
      orders_per_s: ordersPerS,
      p50_ms: steady.p50_ms,
      p99_ms: steady.p99_ms,
      lost: accepted - final,
      duplicated: Math.max(0, reservations - confirmed) + Math.max(0, notifications - confirmed),
      burst_p99_ms: burstLatency.p99_ms,
      inventory_batch_mean:
        size === 1
          ? 1
          : batches > 0
            ? Math.round((((inv1.received as number) - (inv0.received as number)) / batches) * 10) / 10
            : 0,
      orders: accepted,
    };
    progress(
      `batch size ${size}: ${row.orders_per_s} orders/s (burst of ${burstIds.length}); at ${load.rate}/s placed → notified p50 ${row.p50_ms} ms, p99 ${row.p99_ms} ms; ` +
        `inventory's batches ${row.inventory_batch_mean} on average; lost ${row.lost}, duplicated ${row.duplicated}`,
    );
    return row;
  } finally {
    agent.destroy();
  }
}

/** Wait until these orders are all CONFIRMED or FAILED (or a minute without progress), then read them. */
async function waitFinal(impl: PartBImplementation, ids: string[]): Promise<OrderRecord[]> {
  const wanted = new Set(ids);
  let orders: OrderRecord[] = [];
  let lastFinal = -1;
  let lastChange = Date.now();
  await waitUntil(
    async () => {
      const counts = await impl.orderCounts();
      if (counts.by_status.PLACED + counts.by_status.RESERVED > 0) {
        const final = counts.by_status.CONFIRMED + counts.by_status.FAILED;
        if (final !== lastFinal) [lastFinal, lastChange] = [final, Date.now()];
        return Date.now() - lastChange > 60_000; // stuck: read what there is, the checker counts the rest as lost
      }
      return true;
    },
    "the orders to be final",
    600_000,
    50,
  );
  orders = (await impl.recentOrders(100_000)).filter((o) => wanted.has(o.order_id));
  return orders;
}

function latencies(orders: OrderRecord[]): { p50_ms: number; p99_ms: number } {
  const recorder = new LatencyRecorder();
  for (const o of orders) if (o.placed_to_notified_ms !== undefined) recorder.recordMs(o.placed_to_notified_ms);
  const p = recorder.percentiles();
  return { p50_ms: Math.round(p.p50_ms * 10) / 10, p99_ms: Math.round(p.p99_ms * 10) / 10 };
}

export async function writeBatchingResults(result: BatchingResult, dir?: string): Promise<string[]> {
  const out = ResultFiles.for("partB", "batching", dir);
  out.write("result.json", JSON.stringify(result, null, 2));
  out.write("batching.csv", toCsv(result.rows as unknown as Row[]));
  await out.plot(
    "throughput.svg",
    groupedBarSpec(
      result.rows.map((r) => ({ group: String(r.batch_size), series: "orders/s", value: r.orders_per_s })),
      `Part B — orders/s, POST → user notified, by batch size (burst of ${result.burst})`,
      "orders/s",
    ),
  );
  await out.plot(
    "latency.svg",
    groupedBarSpec(
      result.rows.flatMap((r) => [
        { group: String(r.batch_size), series: "p50", value: r.p50_ms },
        { group: String(r.batch_size), series: "p99", value: r.p99_ms },
      ]),
      `Part B — placed → user notified at ${result.rate} orders/s, by batch size`,
      "ms",
    ),
  );
  const best = result.rows.reduce((a, b) => (b.orders_per_s > a.orders_per_s ? b : a), result.rows[0]);
  const one = result.rows.find((r) => r.batch_size === 1);
  out.summary(
    "Part B — batching: one transaction, one confirm wait and one ack per batch",
    [
      {
        text:
          "Each batch size is BATCH_MAX of all three services (1: one message at a time, as before batching). " +
          `Throughput: a burst of ${result.burst} orders from ${result.connections} clients, timed from the first POST until the last user was notified. ` +
          `Latency: ${result.rate} orders/s for ${result.seconds} s, placed → user notified. ` +
          "A batch is what arrived while the previous one was worked on (or, when idle, within BATCH_WAIT_MS): under load batches fill by themselves, and when idle a message waits at most BATCH_WAIT_MS for company.",
      },
      { heading: "By batch size", rows: result.rows as unknown as Row[] },
      ...(one && best
        ? [
            `Best: batch size ${best.batch_size}, ${best.orders_per_s} orders/s, ${one.orders_per_s ? Math.round((best.orders_per_s / one.orders_per_s) * 10) / 10 : "?"} × batch size 1.`,
          ]
        : []),
    ],
    result.checks,
  );
  return out.files;
}
