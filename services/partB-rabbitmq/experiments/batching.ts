// Batching: the same load at batch sizes 1, 4, 16, 64 and 256 (BATCH_MAX of all three of the lab's
// own services: capability "batch size"). A batch shares one store transaction, one confirm wait
// and one ack; what it costs is that a message may wait for its batch. Two phases per size: a
// burst of orders from many clients, timed until the last user is notified (what the chain
// sustains), then orders at a fixed rate every size can keep up with (what a user waits: placed →
// notified, p50 and p99). The checker counts, over both phases, orders that never became final
// (lost) and reservations or notifications beyond one per order (duplicated).
import http from "node:http";
import type { Experiment, ExperimentOptions, Run } from "../../harness/judge/experiment.js";
import { groupedBarSpec } from "../../harness/show/plots.js";
import { fixedRateLoad } from "../../harness/measure/fixed-rate.js";
import { LatencyRecorder } from "../../harness/measure/histogram.js";
import { postJson } from "../../harness/measure/raw-http.js";
import { check } from "../../harness/judge/check.js";
import type { Row } from "../../common/table.js";
import { sleep, waitUntil } from "../../common/wait.js";
import type { OrderRecord } from "../lab/client.js";
import type { PartB } from "../lab/implementation.js";

export const BATCH_SIZES = [1, 4, 16, 64, 256];

export interface BatchingOptions extends ExperimentOptions {
  sizes?: number[];
  /** Orders of the burst, per size. */
  burst?: number;
  /** Clients posting the burst at once. */
  connections?: number;
  /** The fixed rate of the latency phase (orders/s) and how long it runs (s). */
  rate?: number;
  seconds?: number;
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

export interface BatchingLoad {
  sizes: number[];
  burst: number;
  connections: number;
  rate: number;
  seconds: number;
}

export interface BatchingRun extends Run<PartB, BatchingOptions> {
  load: BatchingLoad;
  rows: BatchingRow[];
}

const SKU = "burger";

/** Wait until these orders are all CONFIRMED or FAILED (or a minute without progress), then read them. */
async function waitFinal(impl: PartB, ids: string[]): Promise<OrderRecord[]> {
  const wanted = new Set(ids);
  let lastFinal = -1;
  let lastChange = Date.now();
  await waitUntil(
    async () => {
      const counts = await impl.orderCounts();
      if (counts.by_status.PLACED + counts.by_status.RESERVED === 0) return true;
      const final = counts.by_status.CONFIRMED + counts.by_status.FAILED;
      if (final !== lastFinal) [lastFinal, lastChange] = [final, Date.now()];
      return Date.now() - lastChange > 60_000; // stuck: read what there is, the checker counts the rest as lost
    },
    "the orders to be final",
    600_000,
    50,
  );
  return (await impl.recentOrders(100_000)).filter((o) => wanted.has(o.order_id));
}

function latencies(orders: OrderRecord[]): { p50_ms: number; p99_ms: number } {
  const recorder = new LatencyRecorder();
  for (const o of orders) if (o.placed_to_notified_ms !== undefined) recorder.recordMs(o.placed_to_notified_ms);
  const p = recorder.percentiles();
  return { p50_ms: Math.round(p.p50_ms * 10) / 10, p99_ms: Math.round(p.p99_ms * 10) / 10 };
}

/** The burst, then the fixed rate, at one batch size: the orders placed and the burst's orders/s. */
async function placeBoth(impl: PartB, size: number, load: BatchingLoad) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const body = (n: number) => ({
    user_id: `u-batching-${size}`,
    restaurant_id: "r-lab",
    items: [{ sku: SKU, qty: 1 }],
    n,
  });
  // The measured loop keeps a raw keep-alive client: the driver's axios would add its CPU per order.
  const post = async (i: number) => {
    const res = await postJson(`${impl.endpoints.order}/order`, body(i), agent).catch(() => ({ status: 0, body: "" }));
    return res.status === 202 ? (JSON.parse(res.body) as { order_id: string }).order_id : undefined;
  };
  try {
    const burstIds: string[] = [];
    let next = 0;
    const t0 = Date.now();
    const client = async () => {
      for (let i = next++; i < load.burst; i = next++) {
        const id = await post(i);
        if (id) burstIds.push(id);
      }
    };
    await Promise.all(Array.from({ length: load.connections }, client));
    const burst = await waitFinal(impl, burstIds);
    const done = burst.map((o) => Date.parse(o.notified_at ?? o.failed_at ?? "")).filter(Number.isFinite);
    const ordersPerS = Math.round(burstIds.length / ((Math.max(t0, ...done) - t0) / 1000));
    const rateIds: string[] = [];
    const send = async (i: number) => {
      const id = await post(load.burst + i);
      if (id) rateIds.push(id);
      return id !== undefined;
    };
    await fixedRateLoad({ rate: load.rate, count: load.rate * load.seconds, send });
    return { burst, steady: await waitFinal(impl, rateIds), accepted: burstIds.length + rateIds.length, ordersPerS };
  } finally {
    agent.destroy();
  }
}

async function oneSize(r: BatchingRun, size: number): Promise<BatchingRow> {
  const impl = r.impl;
  r.progress(`batch size ${size}: restarting the services with BATCH_MAX=${size}`);
  await impl.batchSize(size);
  await impl.faults.stock({ [SKU]: 1_000_000_000 });
  const [inv0, note0] = [await impl.stats("inventory"), await impl.stats("notification")];
  const { burst, steady, accepted, ordersPerS } = await placeBoth(impl, size, r.load);
  const all = [...burst, ...steady];
  const confirmed = all.filter((o) => o.status === "CONFIRMED").length;
  const final = all.filter((o) => o.status === "CONFIRMED" || o.status === "FAILED").length;
  await sleep(300); // time for any (wrong) second effect to show
  const [inv1, note1] = [await impl.stats("inventory"), await impl.stats("notification")];
  const reservations = (inv0.stock[SKU] as number) - (inv1.stock[SKU] as number);
  const notifications = (note1.sent as number) - (note0.sent as number);
  const batches = (inv1.batches as number) - (inv0.batches as number);
  const received = (inv1.received as number) - (inv0.received as number);
  const row: BatchingRow = {
    batch_size: size,
    orders_per_s: ordersPerS,
    ...latencies(steady),
    lost: accepted - final,
    duplicated: Math.max(0, reservations - confirmed) + Math.max(0, notifications - confirmed),
    burst_p99_ms: latencies(burst).p99_ms,
    inventory_batch_mean: size === 1 ? 1 : batches > 0 ? Math.round((received / batches) * 10) / 10 : 0,
    orders: accepted,
  };
  r.progress(
    `batch size ${size}: ${row.orders_per_s} orders/s; placed → notified p50 ${row.p50_ms} ms, p99 ${row.p99_ms} ms; ` +
      `inventory's batches ${row.inventory_batch_mean} on average; lost ${row.lost}, duplicated ${row.duplicated}`,
  );
  return row;
}

export const batching: Experiment<PartB, BatchingOptions, BatchingRun, { load: BatchingLoad; rows: BatchingRow[] }> = {
  name: "batching",
  part: "partB",
  title: "Part B — batching: one transaction, one confirm wait and one ack per batch",
  lesson: "Bigger batches buy throughput at a bounded wait, and lose or double nothing.",
  needs: ["batch size"],
  safeguards: [],
  begin: (run) => {
    const q = run.opts.quick;
    const load = {
      sizes: run.opts.sizes ?? BATCH_SIZES,
      burst: run.opts.burst ?? (q ? 400 : 3000),
      connections: run.opts.connections ?? 32,
      rate: run.opts.rate ?? (q ? 100 : 200),
      seconds: run.opts.seconds ?? (q ? 3 : 10),
    };
    return { ...run, load, rows: [] };
  },
  steps: [
    {
      name: "run each batch size",
      run: async (r) => {
        for (const size of r.load.sizes) r.rows.push(await oneSize(r, size));
      },
    },
  ],
  cleanup: async (r) => {
    r.progress("putting the services back as they were");
    await r.impl.batchSize(undefined).catch(() => {});
  },
  judge: ({ load, rows }) => {
    const best = rows.reduce((a, b) => (b.orders_per_s > a.orders_per_s ? b : a), rows[0]);
    const one = rows.find((x) => x.batch_size === 1);
    return {
      params: { ...load },
      checks: [
        check(
          "lost = 0 at every batch size: every accepted order reached CONFIRMED or FAILED",
          rows.every((x) => x.lost === 0),
          rows.map((x) => `${x.batch_size}: ${x.lost}`).join(", "),
        ),
        check(
          "duplicated = 0 at every batch size: one reservation and one notification per order",
          rows.every((x) => x.duplicated === 0),
          rows.map((x) => `${x.batch_size}: ${x.duplicated}`).join(", "),
        ),
        check(
          "batches formed: inventory's batches hold more than one message once BATCH_MAX > 1",
          rows.filter((x) => x.batch_size > 1).every((x) => x.inventory_batch_mean > 1),
          rows.map((x) => `${x.batch_size}: mean ${x.inventory_batch_mean}`).join(", "),
        ),
      ],
      figures: {
        "best batch size": best?.batch_size ?? "–",
        "its orders/s": best?.orders_per_s ?? "–",
        "× batch size 1":
          one?.orders_per_s && best ? Math.round((best.orders_per_s / one.orders_per_s) * 10) / 10 : "–",
      },
      data: { load, rows },
    };
  },
  files: (result) => {
    const rows = result.data.rows;
    const bars = (f: (x: BatchingRow) => { series: string; value: number }[]) =>
      rows.flatMap((x) => f(x).map((b) => ({ group: String(x.batch_size), ...b })));
    return {
      data: { "batching.csv": rows as unknown as Row[] },
      plots: {
        "throughput.svg": groupedBarSpec(
          bars((x) => [{ series: "orders/s", value: x.orders_per_s }]),
          `Part B — orders/s, POST → user notified, by batch size (burst of ${result.data.load.burst})`,
          "orders/s",
        ),
        "latency.svg": groupedBarSpec(
          bars((x) => [
            { series: "p50", value: x.p50_ms },
            { series: "p99", value: x.p99_ms },
          ]),
          `Part B — placed → user notified at ${result.data.load.rate} orders/s, by batch size`,
          "ms",
        ),
      },
    };
  },
};
