// The backlog experiment (the assignment's "kill Inventory for 60 s while orders keep coming"):
// orders at a fixed rate the whole time; inventory stopped after a warm-up, started again after
// the outage; the depth of order.placed.q sampled several times a second; then a check that
// every accepted order reached a final state. Queues buffer the work, so nothing is lost and
// POST /order never notices the outage.
import { fixedRateLoad } from "../../harness/fixed-rate.js";
import { sampleEvery } from "../../harness/sampler.js";
import type { LabOptions } from "../../harness/lifecycle.js";
import { timeSeriesSpec } from "../../harness/plots.js";
import { summarize, type LatencySummary } from "../../harness/stats.js";
import { toCsv, type Row } from "../../common/table.js";
import { sleep } from "../../common/wait.js";
import { QUEUES } from "../topology.js";
import { round1, withPartB } from "./experiment.js";
import type { PartBImplementation } from "./implementation.js";
import type { InventoryOutage } from "./outage.js";
import { summaryMarkdown, type Check } from "../../harness/check.js";
import { ResultFiles } from "../../harness/results.js";
import type { TargetSummary } from "../../harness/target.js";
import { targetSection } from "./outside.js";

export interface BacklogOptions extends LabOptions {
  /** How long inventory stays down (the assignment: 60 s). */
  outageSeconds: number;
  /** Orders per second, the whole run. */
  rate: number;
  /** How inventory goes down: a graceful stop (SIGTERM), or kill -9 with messages in hand. */
  stop?: "graceful" | "kill";
  /** Normal operation before the outage. */
  warmupSeconds?: number;
  /** Orders keep coming this long after inventory is back (default: a third of the outage, at least 5 s). */
  afterSeconds?: number;
  sampleEveryMs?: number;
  /** Give up waiting for the backlog to drain after this long. */
  drainTimeoutMs?: number;
  onProgress?: (line: string) => void;
}

export type BacklogPhase = "before" | "outage" | "recovery" | "after load";

export interface BacklogSample {
  t_s: number;
  phase: BacklogPhase;
  /** Messages ready in order.placed.q. */
  queue_depth: number;
  /** Consumers on order.placed.q (0 while inventory is down). */
  consumers: number;
  /** Orders accepted (202) so far in this run. */
  accepted: number;
  /** Accepted orders not yet CONFIRMED or FAILED. */
  waiting: number;
}

export interface BacklogOrder {
  seq: number;
  sent_s: number;
  order_id: string;
  http_status: number;
  accept_ms: number;
  published: boolean;
  status: string;
  reason: string;
  /** From placed to CONFIRMED (user notified) or FAILED. */
  placed_to_final_ms?: number;
}

export interface BacklogTimeline {
  inventory_stopped_s: number;
  inventory_started_s: number;
  inventory_healthy_s: number;
  load_stopped_s: number;
  /** First sample with inventory subscribed to order.placed.q again. */
  consuming_s?: number;
  /** The last sample before that: the drain is measured from here. */
  drain_from_s?: number;
  /** First sample after that with order.placed.q empty. */
  drained_s?: number;
  /** First sample after that with every accepted order CONFIRMED or FAILED. */
  all_final_s?: number;
}

export interface BacklogMetrics {
  sent: number;
  accepted: number;
  not_accepted: number;
  accepted_during_outage: number;
  accept_ms: LatencySummary;
  peak_queue_depth: number;
  peak_at_s: number;
  /** From the restart command until inventory consumed again. */
  restart_s: number;
  /** Messages in the queue when inventory started consuming again. */
  backlog_at_restart: number;
  /** From then until the queue was empty (at most one sampling interval too long). */
  drain_s?: number;
  /** Backlog plus the orders that arrived meanwhile, over the drain time. */
  consume_rate_per_s?: number;
  confirmed: number;
  failed: number;
  lost: number;
  placed_to_final_ms: LatencySummary;
  inventory_processed: number;
  duplicates_ignored: number;
}

export interface BacklogResult {
  params: {
    rate: number;
    outage_s: number;
    warmup_s: number;
    after_s: number;
    sample_every_ms: number;
    stop: "graceful" | "kill";
  };
  started_at: string;
  timeline: BacklogTimeline;
  samples: BacklogSample[];
  orders: BacklogOrder[];
  metrics: BacklogMetrics;
  checks: Check[];
  passed: boolean;
}

const SKUS = ["burger", "fries", "pizza", "soda", "salad"];

/** Order n: one item, skus in turn, both item shapes of the seeds in turn. */
export function experimentOrder(n: number, user = "u-backlog"): Record<string, unknown> {
  const sku = SKUS[n % SKUS.length];
  return { user_id: user, restaurant_id: "r-lab", items: n % 2 === 0 ? [{ sku, qty: 1 }] : { [sku]: 1 } };
}

/** Enough stock for `orders` orders of experimentOrder, without lowering anything. */
export async function ensureStockFor(impl: PartBImplementation, orders: number): Promise<void> {
  const stock = (await impl.stats("inventory")).stock as Record<string, number>;
  const need = Math.ceil(orders / SKUS.length) + 10;
  const raise = Object.fromEntries(SKUS.filter((s) => (stock[s] ?? 0) < need).map((s) => [s, need]));
  if (Object.keys(raise).length) await impl.faults.stock(raise);
}

export async function runBacklogExperiment(opts: BacklogOptions): Promise<BacklogResult> {
  return withPartB(opts, (impl) => backlogRun(impl, opts));
}

async function backlogRun(impl: PartBImplementation, opts: BacklogOptions): Promise<BacklogResult> {
  const warmup = opts.warmupSeconds ?? 5;
  const outage = opts.outageSeconds;
  const after = opts.afterSeconds ?? Math.max(5, Math.round(outage / 3));
  const everyMs = opts.sampleEveryMs ?? 100;
  const count = Math.round(opts.rate * (warmup + outage + after));
  const progress = opts.onProgress ?? (() => {});
  const at = (t: number) => `t=${t.toFixed(1).padStart(5)} s`;

  await ensureStockFor(impl, count);
  const probe = await impl.broker();
  const counts0 = await impl.orderCounts();
  const final0 = counts0.by_status.CONFIRMED + counts0.by_status.FAILED;
  const inventory0 = await impl.stats("inventory");
  const started_at = new Date().toISOString();
  const t0 = performance.now();
  const now = () => Math.round((performance.now() - t0) / 10) / 100; // seconds since the start

  const orders: BacklogOrder[] = [];
  let accepted = 0;
  const timeline: Partial<BacklogTimeline> = {};
  let inventoryOutage: InventoryOutage | undefined;
  const phase = (t: number): BacklogPhase =>
    timeline.inventory_stopped_s === undefined || t < timeline.inventory_stopped_s
      ? "before"
      : timeline.inventory_healthy_s === undefined || t < timeline.inventory_healthy_s
        ? "outage"
        : timeline.load_stopped_s === undefined || t < timeline.load_stopped_s
          ? "recovery"
          : "after load";

  // Sampling, several times a second, until told to stop.
  const samples: BacklogSample[] = [];
  const sampler = sampleEvery(everyMs, async () => {
    const [q, c] = await Promise.all([probe.queue(QUEUES.orderPlaced.name), impl.orderCounts()]);
    const t = now();
    const final = c.by_status.CONFIRMED + c.by_status.FAILED - final0;
    samples.push({
      t_s: t,
      phase: phase(t),
      queue_depth: q.messages,
      consumers: q.consumers,
      accepted,
      waiting: Math.max(0, accepted - final),
    });
  });
  const ticker = setInterval(() => {
    const s = samples[samples.length - 1];
    if (s)
      progress(
        `${at(s.t_s)}  ${s.phase.padEnd(10)} queue depth ${String(s.queue_depth).padStart(5)}  waiting ${String(s.waiting).padStart(5)}  accepted ${s.accepted}`,
      );
  }, 2000);

  try {
    progress(
      `placing ${count} orders at ${opts.rate}/s: ${warmup} s normal, ${outage} s with inventory down, ${after} s after it is back`,
    );
    const load = fixedRateLoad({
      rate: opts.rate,
      count,
      connections: Math.max(4, Math.ceil(opts.rate / 10)),
      send: async (i) => {
        const sent_s = now();
        const r = await impl.placeOrder(experimentOrder(i));
        if (r.status === 202) accepted++;
        orders.push({
          seq: i,
          sent_s,
          order_id: r.body?.order_id ?? "",
          http_status: r.status,
          accept_ms: r.ms,
          published: r.body?.published ?? false,
          status: "",
          reason: "",
        });
        return r.status === 202;
      },
    });

    await sleep(warmup * 1000);
    timeline.inventory_stopped_s = now();
    progress(
      `${at(timeline.inventory_stopped_s)}  ${opts.stop === "kill" ? "killing inventory (kill -9)" : "stopping inventory"} for ${outage} s`,
    );
    inventoryOutage = await impl.stopConsumer(opts.stop === "kill" ? "kill" : "graceful");
    await sleep(Math.max(0, (timeline.inventory_stopped_s + outage - now()) * 1000));
    timeline.inventory_started_s = now();
    progress(`${at(timeline.inventory_started_s)}  starting inventory again`);
    await inventoryOutage.end();
    timeline.inventory_healthy_s = now();
    progress(`${at(timeline.inventory_healthy_s)}  inventory is back (subscribed and healthy)`);

    await load;
    timeline.load_stopped_s = now();
    progress(`${at(timeline.load_stopped_s)}  all ${count} orders sent; waiting until every order has its answer`);

    // Drained: the queue is empty and every accepted order has its answer.
    const deadline = Date.now() + (opts.drainTimeoutMs ?? 120_000);
    while (Date.now() < deadline) {
      const s = samples[samples.length - 1];
      if (s && s.t_s > timeline.load_stopped_s && s.queue_depth === 0 && s.waiting === 0) break;
      await sleep(everyMs);
    }
    await sleep(1500); // a flat tail on the plot
  } finally {
    clearInterval(ticker);
    await sampler.stop();
    await probe.close();
    // Never leave the student's inventory stopped, whatever happened.
    await inventoryOutage?.ensureEnded();
  }

  // Where is every order now?
  orders.sort((a, b) => a.seq - b.seq);
  const records = await impl.orders(orders.filter((o) => o.order_id).map((o) => o.order_id));
  for (const o of orders) {
    const r = records.get(o.order_id);
    if (!r) continue;
    o.status = r.status;
    o.reason = r.reason ?? "";
    const end = r.notified_at ?? r.failed_at;
    if (end) o.placed_to_final_ms = Date.parse(end) - Date.parse(r.placed_at);
  }
  const inventory1 = await impl.stats("inventory");
  // The broker's consumer count says when inventory subscribed again (before its /health answers).
  const restarted = samples.filter((s) => s.t_s >= timeline.inventory_started_s!);
  const firstConsuming = restarted.findIndex((s) => s.consumers >= 1);
  if (firstConsuming >= 0) {
    timeline.consuming_s = restarted[firstConsuming].t_s;
    // From the last sample without a consumer: an upper bound, at most one sampling interval long.
    timeline.drain_from_s = firstConsuming > 0 ? restarted[firstConsuming - 1].t_s : timeline.inventory_started_s;
    timeline.drained_s = restarted.slice(firstConsuming).find((s) => s.queue_depth === 0)?.t_s;
    timeline.all_final_s = restarted.slice(firstConsuming).find((s) => s.waiting === 0)?.t_s;
  }
  const result: Omit<BacklogResult, "metrics" | "checks" | "passed"> = {
    params: {
      rate: opts.rate,
      outage_s: outage,
      warmup_s: warmup,
      after_s: after,
      sample_every_ms: everyMs,
      stop: opts.stop ?? "graceful",
    },
    started_at,
    timeline: timeline as BacklogTimeline,
    samples,
    orders,
  };
  const metrics = backlogMetrics(
    result,
    inventory1.processed_total - inventory0.processed_total,
    inventory1.duplicates_ignored ?? 0,
  );
  const checks = backlogChecks(result, metrics);
  return { ...result, metrics, checks, passed: checks.every((c) => c.passed) };
}

export function backlogMetrics(
  r: Omit<BacklogResult, "metrics" | "checks" | "passed">,
  inventoryProcessed: number,
  duplicatesIgnored: number,
): BacklogMetrics {
  const tl = r.timeline;
  const ok = r.orders.filter((o) => o.http_status === 202);
  const peak = r.samples.reduce(
    (best, s) => (s.queue_depth > best.queue_depth ? s : best),
    r.samples[0] ?? { queue_depth: 0, t_s: 0 },
  );
  const drained = tl.drained_s !== undefined && tl.drain_from_s !== undefined;
  const drain_s = drained ? Math.round((tl.drained_s! - tl.drain_from_s!) * 100) / 100 : undefined;
  const backlog = r.samples.find((s) => s.t_s === tl.drain_from_s)?.queue_depth ?? peak.queue_depth;
  const arrivalsDuringDrain = drained
    ? r.orders.filter((o) => o.sent_s >= tl.drain_from_s! && o.sent_s < tl.drained_s!).length
    : 0;
  return {
    sent: r.orders.length,
    accepted: ok.length,
    not_accepted: r.orders.length - ok.length,
    accepted_during_outage: ok.filter((o) => o.sent_s >= tl.inventory_stopped_s && o.sent_s < tl.inventory_healthy_s)
      .length,
    accept_ms: summarize(ok.map((o) => o.accept_ms)),
    peak_queue_depth: peak.queue_depth,
    peak_at_s: peak.t_s,
    restart_s: round1((tl.consuming_s ?? tl.inventory_healthy_s) - tl.inventory_started_s),
    backlog_at_restart: backlog,
    drain_s,
    consume_rate_per_s: drain_s ? Math.round((backlog + arrivalsDuringDrain) / Math.max(drain_s, 0.01)) : undefined,
    confirmed: ok.filter((o) => o.status === "CONFIRMED").length,
    failed: ok.filter((o) => o.status === "FAILED").length,
    lost: ok.filter((o) => o.status !== "CONFIRMED" && o.status !== "FAILED").length,
    placed_to_final_ms: summarize(
      ok.filter((o) => o.placed_to_final_ms !== undefined).map((o) => o.placed_to_final_ms!),
    ),
    inventory_processed: inventoryProcessed,
    duplicates_ignored: duplicatesIgnored,
  };
}

export function backlogChecks(r: Omit<BacklogResult, "metrics" | "checks" | "passed">, m: BacklogMetrics): Check[] {
  return [
    {
      check: "every order was accepted with 202, outage or not",
      passed: m.not_accepted === 0 && m.sent > 0,
      observed: `${m.accepted}/${m.sent} accepted`,
    },
    {
      check: "POST /order did not slow down during the outage (p95 of 202s < 250 ms)",
      passed: m.accept_ms.p95 < 250,
      observed: `p95 ${m.accept_ms.p95.toFixed(1)} ms, max ${m.accept_ms.max.toFixed(1)} ms`,
    },
    {
      check: "the orders of the outage waited in order.placed.q (peak depth ≥ 90 % of them)",
      passed: m.peak_queue_depth >= 0.9 * m.accepted_during_outage && m.accepted_during_outage > 0,
      observed: `peak ${m.peak_queue_depth} at t=${m.peak_at_s} s; ${m.accepted_during_outage} accepted during the outage`,
    },
    {
      check: "the backlog drained once inventory was back",
      passed: m.drain_s !== undefined,
      observed:
        m.drain_s === undefined
          ? "queue not empty at the end"
          : `${m.backlog_at_restart} messages gone ${m.drain_s} s after inventory consumed again (≈ ${m.consume_rate_per_s} orders/s)`,
    },
    {
      check: "lost = 0: every accepted order reached CONFIRMED or FAILED",
      passed: m.lost === 0 && m.accepted > 0,
      observed: `lost ${m.lost} (confirmed ${m.confirmed}, failed ${m.failed})`,
    },
    {
      check: "each order was reserved once (inventory processed one message id per order)",
      passed: m.inventory_processed === m.accepted,
      observed: `${m.inventory_processed} processed for ${m.accepted} orders`,
    },
  ];
}

export async function writeBacklogResults(
  result: BacklogResult & { target?: TargetSummary },
  dir?: string,
): Promise<string[]> {
  const out = ResultFiles.for("partB", "backlog", dir);
  const m = result.metrics;
  out.write("samples.csv", toCsv(result.samples as unknown as Row[]));
  out.write("orders.csv", toCsv(result.orders as unknown as Row[]));
  out.write("result.json", JSON.stringify(result, null, 2));
  const outage = {
    from_s: result.timeline.inventory_stopped_s,
    to_s: result.timeline.inventory_healthy_s,
    label: `inventory ${result.params.stop === "kill" ? "killed" : "down"} (${result.params.outage_s} s)`,
  };
  const depthRows = result.samples.flatMap((s) => [
    { t_s: s.t_s, value: s.queue_depth, series: "messages in order.placed.q" },
    { t_s: s.t_s, value: s.waiting, series: "orders waiting for an answer" },
  ]);
  await out.plot(
    "queue-depth.svg",
    timeSeriesSpec({
      rows: depthRows,
      title: `Part B — backlog while inventory is down (${result.params.rate} orders/s)`,
      yTitle: "orders",
      marks: [outage],
    }),
  );
  const waitRows = result.orders
    .filter((o) => o.placed_to_final_ms !== undefined)
    .map((o) => ({
      t_s: o.sent_s,
      value: round1(o.placed_to_final_ms! / 1000),
      series: "placed → confirmed or failed",
    }));
  await out.plot(
    "wait-per-order.svg",
    timeSeriesSpec({
      rows: waitRows,
      title: "Part B — how long each order waited for its answer, by when it was placed",
      yTitle: "seconds",
      marks: [outage],
    }),
  );
  const ms = (x: number | undefined) => (x === undefined ? "–" : x.toFixed(1));
  out.write(
    "summary.md",
    summaryMarkdown(
      `Part B — backlog and recovery (inventory down ${result.params.outage_s} s, ${result.params.rate} orders/s)`,
      [
        ...targetSection(result.target),
        {
          text:
            "Orders kept coming at a fixed rate; inventory was stopped after the warm-up and started again after the outage. " +
            "RabbitMQ kept every OrderPlaced in `order.placed.q` (durable queue, persistent messages) until inventory came back and worked through the backlog. " +
            "See `queue-depth.svg` and `wait-per-order.svg`.",
        },
        {
          heading: "Figures",
          rows: [
            { figure: "orders sent / accepted (202)", value: `${m.sent} / ${m.accepted}` },
            {
              figure: "202 latency median / p95 / max (ms)",
              value: `${ms(m.accept_ms.median)} / ${ms(m.accept_ms.p95)} / ${ms(m.accept_ms.max)}`,
            },
            { figure: "peak queue depth", value: `${m.peak_queue_depth} (t = ${m.peak_at_s} s)` },
            { figure: "inventory restart until consuming (s)", value: m.restart_s },
            { figure: "backlog when it consumed again", value: m.backlog_at_restart },
            { figure: "drain time from then (s)", value: m.drain_s ?? "not drained" },
            { figure: "consume rate while draining (orders/s)", value: m.consume_rate_per_s ?? "–" },
            {
              figure: "placed → final, median / max (s)",
              value: `${ms(m.placed_to_final_ms.median / 1000)} / ${ms(m.placed_to_final_ms.max / 1000)}`,
            },
            { figure: "confirmed / failed / lost", value: `${m.confirmed} / ${m.failed} / ${m.lost}` },
          ],
        },
      ],
      result.checks,
    ),
  );
  return out.files;
}
