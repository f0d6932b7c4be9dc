// The backlog experiment on any target (the assignment's "kill Inventory while orders keep
// coming, restart it and show the backlog drain"). The lab's own services: the usual experiment.
// A foreign implementation, from outside: its inventory stopped by the file's command, orders
// placed at a fixed rate meanwhile (each 2xx = accepted), the depth of its queue watched by a
// passive declare, inventory started again; then, on the lab's tap, every accepted order must
// get exactly one InventoryReserved/InventoryFailed — none is lost, none is doubled.
import path from "node:path";
import { sampleEvery } from "../../harness/sampler.js";
import type { Check } from "../../harness/check.js";
import { fixedRateLoad } from "../../harness/fixed-rate.js";
import { timeSeriesSpec } from "../../harness/plots.js";
import { summarize, type LatencySummary } from "../../harness/stats.js";
import type { Target } from "../../harness/target.js";
import { toCsv, type Row } from "../../common/table.js";
import { sleep } from "../../common/wait.js";
import { runBacklogExperiment, writeBacklogResults, type BacklogOptions, type BacklogResult } from "./backlog.js";
import {
  labRun,
  NO_INVENTORY_EXCHANGE,
  outsideSummary,
  unlessNotObservable,
  writeOutsideResults,
  type LabRun,
  type OutsideRunBase,
  type Skipped,
} from "./outside.js";
import type { WireTap } from "./tap.js";
import { targetImplementation } from "./target.js";

export interface BacklogOutsideSample {
  t_s: number;
  /** Messages ready in the target's queue (absent: the file names no queue). */
  queue_depth?: number;
  consumers?: number;
  accepted: number;
  /** Accepted orders with no inventory event on the wire yet. */
  unanswered: number;
}

export interface BacklogOutsideOrder {
  seq: number;
  sent_s: number;
  http_status: number;
  accept_ms: number;
  order_id: string;
  /** InventoryReserved/InventoryFailed seen on the wire for it. */
  events: number;
  kinds: string;
  /** First event after the order was placed (s). */
  answered_s?: number;
}

export interface BacklogOutsideResult extends OutsideRunBase {
  params: { rate: number; outage_s: number; stop: "graceful" | "kill"; sample_every_ms: number; queue?: string };
  timeline: {
    inventory_stopped_s?: number;
    inventory_started_s?: number;
    /** First sample with a consumer on the queue again. */
    consuming_s?: number;
    /** The last sample before it: the drain is measured from here (at most one sampling interval too long). */
    drain_from_s?: number;
    /** First sample after that with the queue empty. */
    drained_s?: number;
  };
  samples: BacklogOutsideSample[];
  orders: BacklogOutsideOrder[];
  metrics: {
    sent: number;
    accepted: number;
    accept_ms: LatencySummary;
    peak_queue_depth?: number;
    backlog_at_restart?: number;
    /** From inventory consuming again until the last accepted order had its event. */
    drain_s?: number;
    drain_rate_per_s?: number;
    reserved: number;
    failed: number;
    lost: number;
    duplicated: number;
  };
}

export type BacklogRun = LabRun<BacklogResult> | BacklogOutsideResult;

/** The experiment on any target: the lab's own as always; a foreign implementation from outside. */
export async function runBacklogThrough(target: Target, opts: BacklogOptions): Promise<BacklogRun> {
  if (target.lab) return labRun(target, await runBacklogExperiment(opts));
  return backlogOutside(target, opts);
}

const EXACTLY_ONE =
  "after the outage every accepted order got exactly one InventoryReserved/InventoryFailed on the wire";

async function backlogOutside(target: Target, opts: BacklogOptions): Promise<BacklogOutsideResult> {
  const impl = targetImplementation(target);
  const broker = impl.broker;
  const everyMs = opts.sampleEveryMs ?? 100;
  const count = Math.max(1, Math.round(opts.rate * opts.outageSeconds));
  const progress = opts.onProgress ?? (() => {});
  const skipped: Skipped[] = [];
  const t0 = performance.now();
  const now = () => Math.round((performance.now() - t0) / 10) / 100;
  const timeline: BacklogOutsideResult["timeline"] = {};
  const samples: BacklogOutsideSample[] = [];
  const orders: BacklogOutsideOrder[] = [];

  const tap: WireTap | undefined = await unlessNotObservable("the wire", skipped, () => impl.tap());
  const queue = broker?.queue;
  const seesEvents = !!tap && !!broker?.inventory_exchange;
  const unanswered = () =>
    seesEvents ? orders.filter((o) => o.order_id && !tap.inventoryEvents(o.order_id).length).length : 0;
  const sampler = sampleEvery(everyMs, async () => {
    const q = queue && tap ? await tap.depth(queue).catch(() => undefined) : undefined;
    const accepted = orders.filter(accepted2xx).length;
    samples.push({
      t_s: now(),
      ...(q ? { queue_depth: q.messages, consumers: q.consumers } : {}),
      accepted,
      unanswered: unanswered(),
    });
  });

  let stopped = false;
  try {
    timeline.inventory_stopped_s = now();
    const how = opts.stop === "kill" ? "kill" : "graceful";
    progress(`${how === "kill" ? "killing" : "stopping"} ${target.name}'s inventory by its command`);
    stopped = !!(await unlessNotObservable("the outage", skipped, () => impl.stopInventory(how).then(() => true)));
    if (stopped) {
      progress(`placing ${count} orders at ${opts.rate}/s while inventory is down (${opts.outageSeconds} s)`);
      await fixedRateLoad({
        rate: opts.rate,
        count,
        connections: Math.max(4, Math.ceil(opts.rate / 10)),
        send: async (i) => {
          const sent_s = now();
          const r = await impl.placeOrder();
          const id = typeof r.body?.order_id === "string" ? r.body.order_id : "";
          orders.push({ seq: i, sent_s, http_status: r.status, accept_ms: r.ms, order_id: id, events: 0, kinds: "" });
          return r.status >= 200 && r.status < 300;
        },
      });
      await sleep(Math.max(0, (timeline.inventory_stopped_s + opts.outageSeconds - now()) * 1000));
      timeline.inventory_started_s = now();
      progress(`starting inventory again by its command`);
      await impl.startInventory();
      stopped = false;
      const deadline = Date.now() + (opts.drainTimeoutMs ?? 120_000);
      progress(`inventory is back; waiting until every accepted order has its answer on the wire`);
      while (Date.now() < deadline) {
        const depth = queue && tap ? (await tap.depth(queue).catch(() => undefined))?.messages : 0;
        if (depth === 0 && unanswered() === 0) break;
        await sleep(everyMs);
      }
      // A second event for an order comes soon after the first, if it comes: wait for it before judging.
      await sleep(opts.afterSeconds !== undefined ? opts.afterSeconds * 1000 : 2000);
    }
  } finally {
    await sampler.stop();
    // Never leave the team's inventory stopped, whatever happened.
    if (stopped) await impl.startInventory().catch(() => {});
    await tap?.close();
  }

  for (const o of orders) {
    const events = o.order_id && tap ? tap.inventoryEvents(o.order_id) : [];
    o.events = events.length;
    o.kinds = events.map((e) => e.kind).join(" ");
    if (events.length && tap) o.answered_s = Math.round(events[0].t_ms + tap.openedAt - t0) / 1000;
  }
  orders.sort((a, b) => a.seq - b.seq);
  drainTimeline(timeline, samples);
  const run: BacklogOutsideResult = {
    kind: "outside",
    target: outsideSummary(target),
    params: {
      rate: opts.rate,
      outage_s: opts.outageSeconds,
      stop: opts.stop ?? "graceful",
      sample_every_ms: everyMs,
      ...(queue ? { queue } : {}),
    },
    timeline,
    samples,
    orders,
    metrics: backlogOutsideMetrics(orders, samples, timeline, tap),
    checks: [],
    notes: [],
    skipped,
    passed: false,
  };
  judgeBacklog(run, seesEvents, !!queue && !!tap);
  return run;
}

/** When inventory consumed again and when its queue was empty, from the samples (as the lab's own experiment does). */
function drainTimeline(tl: BacklogOutsideResult["timeline"], samples: BacklogOutsideSample[]): void {
  if (tl.inventory_started_s === undefined) return;
  const restarted = samples.filter((s) => s.t_s >= tl.inventory_started_s! && s.consumers !== undefined);
  const first = restarted.findIndex((s) => s.consumers! >= 1);
  if (first < 0) return;
  tl.consuming_s = restarted[first].t_s;
  tl.drain_from_s = first > 0 ? restarted[first - 1].t_s : tl.inventory_started_s;
  tl.drained_s = restarted.slice(first).find((s) => s.queue_depth === 0)?.t_s;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

const accepted2xx = (o: { http_status: number }) => o.http_status >= 200 && o.http_status < 300;

function backlogOutsideMetrics(
  orders: BacklogOutsideOrder[],
  samples: BacklogOutsideSample[],
  tl: BacklogOutsideResult["timeline"],
  tap: WireTap | undefined,
): BacklogOutsideResult["metrics"] {
  const ok = orders.filter(accepted2xx);
  const depths = samples.filter((s) => s.queue_depth !== undefined);
  const peak = depths.length ? Math.max(...depths.map((s) => s.queue_depth!)) : undefined;
  const atRestart = depths.find((s) => s.t_s === tl.drain_from_s)?.queue_depth;
  // Drained when the last accepted order had its first event (or the queue emptied, if no events are seen).
  const lastAnswer =
    ok.length && ok.every((o) => o.events > 0) && tap ? Math.max(...ok.map((o) => o.answered_s ?? 0)) : undefined;
  const end = Math.max(lastAnswer ?? -Infinity, tl.drained_s ?? -Infinity);
  const from = tl.drain_from_s ?? tl.inventory_started_s;
  const drain_s = Number.isFinite(end) && from !== undefined ? round2(Math.max(0, end - from)) : undefined;
  const backlog = atRestart ?? ok.length;
  return {
    sent: orders.length,
    accepted: ok.length,
    accept_ms: summarize(ok.map((o) => o.accept_ms)),
    peak_queue_depth: peak,
    backlog_at_restart: atRestart,
    drain_s,
    drain_rate_per_s: drain_s ? Math.round(backlog / Math.max(drain_s, 0.1)) : undefined,
    reserved: ok.filter((o) => o.kinds.split(" ").includes("InventoryReserved")).length,
    failed: ok.filter((o) => o.kinds.split(" ").includes("InventoryFailed")).length,
    lost: ok.filter((o) => o.order_id && o.events === 0).length,
    duplicated: ok.filter((o) => o.events > 1).length,
  };
}

/** The checks: the assignment's requirements as the wire and the queue show them. */
function judgeBacklog(run: BacklogOutsideResult, seesEvents: boolean, seesQueue: boolean): void {
  const { metrics: m, orders, skipped } = run;
  const queue = run.params.queue ?? "its queue";
  if (!orders.length) {
    run.passed = false;
    return;
  }
  const add = (check: string, passed: boolean, observed: string) => run.checks.push({ check, passed, observed });
  const statuses = [...new Set(orders.map((o) => o.http_status))]
    .map((s) => `${orders.filter((o) => o.http_status === s).length}× ${s || "no answer"}`)
    .join(", ");
  add("every order placed while inventory was down was accepted (2xx)", m.accepted === m.sent, statuses);

  if (seesQueue) {
    add(
      `the orders of the outage waited in ${queue} (peak depth ≥ 90 % of those accepted)`,
      (m.peak_queue_depth ?? 0) >= 0.9 * m.accepted && m.accepted > 0,
      `peak ${m.peak_queue_depth}; ${m.accepted} accepted`,
    );
    add(
      "the backlog drained once inventory was back",
      run.timeline.drained_s !== undefined,
      run.timeline.drained_s === undefined
        ? "the queue was not empty at the end"
        : `${m.backlog_at_restart ?? "?"} messages gone ${m.drain_s ?? "?"} s after inventory consumed again (≈ ${m.drain_rate_per_s ?? "?"} orders/s)`,
    );
  } else
    skipped.push({ check: "the queue grew and drained", reason: "the target names no queue (partB.broker.queue)" });

  const untraceable = orders.filter((o) => accepted2xx(o) && !o.order_id).length;
  if (!seesEvents)
    skipped.push({
      check: EXACTLY_ONE,
      reason: NO_INVENTORY_EXCHANGE,
    });
  else if (untraceable)
    skipped.push({
      check: EXACTLY_ONE,
      reason: `${untraceable} accepted answer(s) carry no order_id, so their orders cannot be matched to their events`,
    });
  else {
    const lost = orders.filter((o) => accepted2xx(o) && o.events === 0);
    const doubled = orders.filter((o) => o.events > 1);
    const some = (os: BacklogOutsideOrder[], f: (o: BacklogOutsideOrder) => string) =>
      os.slice(0, 3).map(f).join(", ") + (os.length > 3 ? ", …" : "");
    add(
      EXACTLY_ONE,
      lost.length === 0 && doubled.length === 0 && m.accepted > 0,
      `lost ${lost.length}, duplicated ${doubled.length} of ${m.accepted} accepted (reserved ${m.reserved}, failed ${m.failed})` +
        (lost.length ? `; no event for ${some(lost, (o) => o.order_id)}` : "") +
        (doubled.length ? `; more than one for ${some(doubled, (o) => `${o.order_id} (${o.kinds})`)}` : ""),
    );
  }
  run.notes.push(
    {
      check: "the lab's contract: 202 Accepted with {order_id, status: PLACED}",
      passed: orders.every((o) => o.http_status === 202 && o.order_id),
      observed: statuses,
    },
    {
      check: "the lab's contract: POST /order does not slow down during the outage (p95 < 250 ms)",
      passed: m.accept_ms.p95 < 250,
      observed: `p95 ${m.accept_ms.p95.toFixed(1)} ms`,
    },
  );
  run.passed = run.checks.length > 0 && run.checks.every((c: Check) => c.passed);
}

/** The depth-over-time plot of a run from outside. */
export function backlogOutsidePlot(run: BacklogOutsideResult) {
  const queue = run.params.queue ?? "the target's queue";
  const rows = run.samples.flatMap((s) => [
    ...(s.queue_depth !== undefined ? [{ t_s: s.t_s, value: s.queue_depth, series: `messages in ${queue}` }] : []),
    { t_s: s.t_s, value: s.unanswered, series: "accepted orders without an inventory event" },
  ]);
  const tl = run.timeline;
  return timeSeriesSpec({
    rows,
    title: `Part B — ${run.target.name}: backlog while inventory is down (${run.params.rate} orders/s)`,
    yTitle: "orders",
    marks:
      tl.inventory_stopped_s !== undefined && tl.inventory_started_s !== undefined
        ? [{ from_s: tl.inventory_stopped_s, to_s: tl.inventory_started_s, label: "inventory down" }]
        : [],
  });
}

/** results/…/partB/backlog/: the lab's own files, or a run from outside with summary.json. */
export async function writeBacklogRun(run: BacklogRun, partDir: string): Promise<string[]> {
  const dir = path.join(partDir, "backlog");
  if (run.kind === "lab") return writeBacklogResults(run, dir);
  const m = run.metrics;
  return writeOutsideResults(run, dir, {
    title: `Part B — backlog and recovery, from outside (inventory down ${run.params.outage_s} s, ${run.params.rate} orders/s)`,
    text:
      "Inventory was stopped by the target's own command; orders were placed meanwhile; inventory was started again. " +
      "The lab watched the target's queue (a passive declare) and the wire (a tap queue of its own, removed afterwards). See `queue-depth.svg`.",
    figures: {
      "orders sent / accepted (2xx)": `${m.sent} / ${m.accepted}`,
      "peak queue depth": m.peak_queue_depth ?? "not observable",
      "drain time (s)": m.drain_s ?? "–",
      "drain rate (orders/s)": m.drain_rate_per_s ?? "–",
      "reserved / failed / lost / duplicated": `${m.reserved} / ${m.failed} / ${m.lost} / ${m.duplicated}`,
    },
    data: {
      "samples.csv": toCsv(run.samples as unknown as Row[]),
      "orders.csv": toCsv(run.orders as unknown as Row[]),
    },
    plots: { "queue-depth.svg": backlogOutsidePlot(run) },
  });
}
