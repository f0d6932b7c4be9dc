// Backlog and recovery (the assignment's "kill Inventory for 60 s while orders keep coming"), on any
// Part B: orders at a fixed rate all along, inventory stopped for the outage, its queue's depth
// sampled (a passive look) and the wire tapped. Every order is accepted, waits in the queue and
// gets exactly one answer once inventory is back — and, where its state can be read, ends final.
import type { Experiment, ExperimentOptions, Run } from "../../harness/judge/experiment.js";
import { fixedRateLoad } from "../../harness/measure/fixed-rate.js";
import { timeSeriesSpec } from "../../harness/show/plots.js";
import { sampleEvery, type Sampler } from "../../harness/measure/sampler.js";
import { summarize } from "../../harness/measure/stats.js";
import { check, type Check } from "../../harness/judge/check.js";
import type { Row } from "../../common/table.js";
import { sleep } from "../../common/wait.js";
import type { PartB } from "../lab/implementation.js";
import type { WireTap } from "../lab/tap.js";
import {
  accepted2xx,
  answeredOnce,
  ensureStockFor,
  awaitFinal,
  eventKinds,
  experimentOrder,
  ordersTally,
  type Answered,
} from "./orders.js";

export interface BacklogOptions extends ExperimentOptions {
  /** How long inventory stays down (the assignment: 60 s), at `rate` orders/s the whole run. */
  outageSeconds: number;
  rate: number;
  /** How inventory goes down: a graceful stop, or kill -9 with messages in hand (a consumer crash). */
  stop?: "graceful" | "kill";
  /** Inventory slowed by this much per batch before it goes down, so that it holds messages then. */
  inventoryDelaySeconds?: number;
  /** Before the outage (default 5 s), and after inventory is back (default a third of the outage, ≥ 5 s). */
  warmupSeconds?: number;
  afterSeconds?: number;
  sampleEveryMs?: number;
  /** Give up waiting for the backlog to drain after this long (default 2 min). */
  drainTimeoutMs?: number;
}

export interface BacklogSample {
  t_s: number;
  /** Messages ready in the implementation's queue, and its consumers (where the file names the queue). */
  queue_depth?: number;
  consumers?: number;
  /** Accepted orders without an inventory event on the wire yet (where the events can be seen). */
  unanswered?: number;
}

export interface BacklogOrder extends Answered {
  seq: number;
  sent_s: number;
}

export interface BacklogTimeline {
  inventory_stopped_s?: number;
  inventory_started_s?: number;
  /** The start command returned (the lab's own: inventory subscribed and healthy). */
  inventory_back_s?: number;
  /** A consumer on the queue again (the drain counts from the sample before), then the queue empty. */
  consuming_s?: number;
  drain_from_s?: number;
  drained_s?: number;
}

export interface BacklogData {
  timeline: BacklogTimeline;
  samples: BacklogSample[];
  orders: BacklogOrder[];
}

export interface BacklogRun extends Run<PartB, BacklogOptions>, BacklogData {
  count: number;
  tap?: WireTap;
  sampler?: Sampler;
  load?: Promise<unknown>;
  stopped: boolean;
}

const phases = (o: BacklogOptions) => {
  const warmup = o.warmupSeconds ?? 5;
  const after = o.afterSeconds ?? Math.max(5, Math.round(o.outageSeconds / 3));
  return { warmup, after, count: Math.max(1, Math.round(o.rate * (warmup + o.outageSeconds + after))) };
};

/** Accepted orders the wire has not answered yet (undefined: the events cannot be seen). */
const unanswered = (r: BacklogRun): number | undefined =>
  r.tap && r.impl.capabilities.has("inventory events")
    ? r.orders.filter((o) => accepted2xx(o) && o.order_id && !r.tap!.inventoryEvents(o.order_id).length).length
    : undefined;

async function sample(r: BacklogRun): Promise<void> {
  const queue = r.impl.broker?.queue;
  const q = r.tap && queue ? await r.tap.depth(queue) : undefined;
  r.samples.push({
    t_s: r.now(),
    ...(q ? { queue_depth: q.messages, consumers: q.consumers } : {}),
    unanswered: unanswered(r),
  });
}

async function placeLoad(r: BacklogRun): Promise<void> {
  const { warmup } = phases(r.opts);
  if (r.impl.capabilities.has("stock")) await ensureStockFor(r.impl, r.count);
  const delay = r.opts.inventoryDelaySeconds;
  if (delay) await r.unless("inventory held messages when it went down", () => r.impl.faults.inventoryDelay(delay));
  r.tap = await r.unless("the wire and the queue", () => r.impl.tap());
  r.sampler = sampleEvery(r.opts.sampleEveryMs ?? 100, () => sample(r));
  r.progress(`placing ${r.count} orders at ${r.opts.rate}/s; inventory goes down after ${warmup} s`);
  r.load = fixedRateLoad({
    rate: r.opts.rate,
    count: r.count,
    connections: Math.max(4, Math.ceil(r.opts.rate / 10)),
    send: async (seq) => {
      const sent_s = r.now();
      const a = await r.impl.placeOrder(experimentOrder(seq));
      const order_id = typeof a.body?.order_id === "string" ? a.body.order_id : "";
      r.orders.push({ seq, sent_s, http_status: a.status, accept_ms: a.ms, order_id });
      return accepted2xx({ http_status: a.status });
    },
  });
  await sleep(warmup * 1000);
}

/** Until the queue is empty and every accepted order is answered (what can be seen of both), or the time is up. */
async function waitForDrain(r: BacklogRun): Promise<void> {
  await r.load;
  r.progress(`all ${r.count} orders sent; waiting until the queue is empty and every order has its answer`);
  const deadline = Date.now() + (r.opts.drainTimeoutMs ?? 120_000);
  const queue = r.impl.broker?.queue;
  const drained = async () => (!r.tap || !queue || (await r.tap.depth(queue)).messages === 0) && !unanswered(r);
  while (Date.now() < deadline && !(await drained())) await sleep(r.opts.sampleEveryMs ?? 100);
  // Where an order's state can be read: until every accepted one is final (a second event, if any, shows meanwhile).
  const ok = r.orders.filter((o) => accepted2xx(o) && o.order_id);
  await r.unless("every accepted order reached CONFIRMED or FAILED", () => awaitFinal(r.impl, ok, deadline));
  await sleep(1500); // a flat tail on the plot, and time for a (wrong) second event to show
  for (const o of r.orders) Object.assign(o, eventKinds(r.tap, o.order_id, r.impl));
  // When inventory consumed again (the drain counts from the sample before), and when its queue was empty.
  const tl = r.timeline;
  const restarted = r.samples.filter((s) => s.t_s >= tl.inventory_started_s! && s.consumers !== undefined);
  const first = restarted.findIndex((s) => s.consumers! >= 1);
  if (first < 0) return;
  [tl.consuming_s, tl.drain_from_s] = [restarted[first].t_s, restarted[Math.max(0, first - 1)].t_s];
  tl.drained_s = restarted.slice(first).find((s) => s.queue_depth === 0)?.t_s;
}

export const backlog: Experiment<PartB, BacklogOptions, BacklogRun, BacklogData> = {
  name: "backlog",
  part: "partB",
  title: "Part B — backlog and recovery",
  lesson: "Orders placed while inventory is down wait in its queue and are all answered once it is back.",
  needs: ["stop inventory", "start inventory"],
  safeguards: ["manual-ack"],
  begin: (run) => ({ ...run, count: phases(run.opts).count, timeline: {}, samples: [], orders: [], stopped: false }),
  steps: [
    { name: "place load", run: placeLoad },
    {
      name: "stop inventory",
      run: async (r) => {
        r.timeline.inventory_stopped_s = r.now();
        r.progress(`${r.opts.stop === "kill" ? "killing" : "stopping"} inventory for ${r.opts.outageSeconds} s`);
        r.stopped = true;
        await r.impl.stopInventory(r.opts.stop);
      },
    },
    {
      name: "start inventory",
      run: async (r) => {
        await sleep(Math.max(0, (r.timeline.inventory_stopped_s! + r.opts.outageSeconds - r.now()) * 1000));
        r.timeline.inventory_started_s = r.now();
        await r.impl.startInventory();
        r.stopped = false;
        r.timeline.inventory_back_s = r.now();
        r.progress(`inventory is back at t=${r.timeline.inventory_back_s} s`);
      },
    },
    { name: "wait for the drain", run: waitForDrain },
  ],
  cleanup: async (r) => {
    await r.load?.catch(() => {});
    await r.sampler?.stop();
    await r.tap?.close();
    if (r.stopped) await r.impl.startInventory().catch(() => {}); // never left stopped, whatever happened
  },
  judge: judgeBacklog,
};

/** What the samples and the orders say: the peak, the drain, the answers. */
function measure(r: BacklogRun) {
  const tl = r.timeline;
  const ok = r.orders.filter(accepted2xx);
  // The outage ends when a consumer is on the queue again: inventory may consume before its start returns.
  const end = tl.consuming_s ?? tl.inventory_back_s ?? Infinity;
  const during = (o: BacklogOrder, from = tl.inventory_stopped_s!, to = end) => o.sent_s >= from && o.sent_s < to;
  const depths = r.samples.filter((s) => s.queue_depth !== undefined);
  const peak = depths.reduce((a, s) => (s.queue_depth! > a.queue_depth! ? s : a), depths[0]);
  const backlogAt = depths.find((s) => s.t_s === tl.drain_from_s)?.queue_depth ?? 0;
  const drain_s = tl.drained_s !== undefined ? Math.round((tl.drained_s - tl.drain_from_s!) * 100) / 100 : undefined;
  const arrived = ok.filter((o) => during(o, tl.drain_from_s, tl.drained_s)).length;
  return {
    ok,
    duringOutage: ok.filter((o) => during(o)).length,
    peak,
    backlogAt,
    drain_s,
    rate: drain_s ? Math.round((backlogAt + arrived) / Math.max(drain_s, 0.01)) : undefined,
    final: ok.filter((o) => o.status === "CONFIRMED" || o.status === "FAILED"),
    accept: summarize(ok.map((o) => o.accept_ms)),
    waits: summarize(ok.filter((o) => o.placed_to_final_ms !== undefined).map((o) => o.placed_to_final_ms!)),
  };
}

function backlogChecks(r: BacklogRun, m: ReturnType<typeof measure>): Check[] {
  const { ok, peak, drain_s } = m;
  const queue = r.impl.broker?.queue ?? "its queue";
  const all = ok.length === r.orders.length && ok.length > 0;
  const checks = [
    check("every order was accepted (2xx), outage or not", all, `${ok.length}/${r.orders.length} accepted`),
  ];
  if (peak)
    checks.push(
      check(
        `the orders of the outage waited in ${queue} (peak depth ≥ 90 % of them)`,
        peak.queue_depth! >= 0.9 * m.duringOutage && m.duringOutage > 0,
        `peak ${peak.queue_depth} at t=${peak.t_s} s; ${m.duringOutage} accepted during the outage`,
      ),
      check(
        "the backlog drained once inventory was back",
        drain_s !== undefined,
        drain_s === undefined
          ? "the queue was not empty at the end"
          : `${m.backlogAt} messages gone ${drain_s} s after inventory consumed again`,
      ),
    );
  else {
    const reason = r.impl.capabilities.reason("queue depth") ?? "the wire could not be tapped";
    r.skipped.push({ check: "the queue grew and drained", reason });
  }
  checks.push(...answeredOnce(r, ok, "after the outage"));
  if (ok.some((o) => o.status !== undefined))
    checks.push(
      check(
        "lost = 0: every accepted order reached CONFIRMED or FAILED",
        m.final.length === ok.length && ok.length > 0,
        `lost ${ok.length - m.final.length} of ${ok.length} (confirmed ${ok.filter((o) => o.status === "CONFIRMED").length})`,
      ),
    );
  return checks;
}

function judgeBacklog(r: BacklogRun) {
  const m = measure(r);
  const { accept, waits } = m;
  return {
    params: { ...phases(r.opts), rate: r.opts.rate, outage_s: r.opts.outageSeconds, queue: r.impl.broker?.queue },
    checks: backlogChecks(r, m),
    tally: ordersTally(r.orders.length, m.ok),
    notes: [
      check(
        "the lab's contract: POST /order does not slow down during the outage (p95 < 250 ms)",
        accept.p95 < 250,
        `p95 ${accept.p95.toFixed(1)} ms, max ${accept.max.toFixed(1)} ms`,
      ),
    ],
    figures: {
      "orders sent / accepted": `${r.orders.length} / ${m.ok.length}`,
      "accept latency median / p95 (ms)": `${accept.median.toFixed(1)} / ${accept.p95.toFixed(1)}`,
      "peak queue depth": m.peak ? m.peak.queue_depth! : "not observable",
      "backlog when inventory consumed again": m.drain_s !== undefined ? m.backlogAt : "–",
      "drain time from then (s)": m.drain_s ?? "not drained",
      "consume rate while draining (orders/s)": m.rate ?? "–",
      "placed → final, median / max (s)": m.final.length
        ? `${(waits.median / 1000).toFixed(1)} / ${(waits.max / 1000).toFixed(1)}`
        : "–",
    },
    data: { timeline: r.timeline, samples: r.samples, orders: r.orders.sort((a, b) => a.seq - b.seq) },
  };
}

/** samples.csv, orders.csv and queue-depth.svg. */
backlog.files = ({ data: { samples, orders, timeline: tl }, params: p, target }) => {
  const line = (key: "queue_depth" | "unanswered", series: string) =>
    samples.filter((s) => s[key] !== undefined).map((s) => ({ t_s: s.t_s, value: s[key]!, series }));
  const outage = { from_s: tl.inventory_stopped_s!, to_s: tl.inventory_back_s ?? 0, label: "inventory down" };
  const spec = timeSeriesSpec({
    rows: [
      ...line("queue_depth", `messages in ${String(p.queue)}`),
      ...line("unanswered", "orders not answered on the wire"),
    ],
    title: `Part B — ${target.name}: backlog while inventory is down (${String(p.rate)} orders/s)`,
    yTitle: "orders",
    marks: tl.inventory_stopped_s !== undefined ? [outage] : [],
  });
  return {
    data: { "samples.csv": samples as unknown as Row[], "orders.csv": orders as unknown as Row[] },
    plots: { "queue-depth.svg": spec },
  };
};
