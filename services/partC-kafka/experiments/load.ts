// Part C's load experiment: N orders (10,000 by default) through the producer's load test (or
// its place_order, a few at a time). The lab's tap on the topics counts what reaches the wire —
// N OrderPlaced, and per order exactly one InventoryReserved/InventoryFailed (none: lost; two:
// duplicated) — and analytics' metrics must count each order and each answer once. The curves
// (on the wire, counted by analytics, and acknowledged by Kafka where the producer's /health
// says so) show the pipeline's delay.
import { sleep } from "../../common/wait.js";
import type { Row } from "../../common/table.js";
import { check, type Check } from "../../harness/judge/check.js";
import type { Experiment, ExperimentOptions, Run } from "../../harness/judge/experiment.js";
import { timeSeriesSpec } from "../../harness/show/plots.js";
import { accountingFaults, type Accounting, type PartCTap } from "../lab/kafka-tap.js";
import type { ObservedMetrics, Produced } from "../lab/contract.js";
import type { PartC } from "../lab/implementation.js";

export interface LoadOptions extends ExperimentOptions {
  count: number;
  timeoutMs?: number;
  /** After the producer answered, stop waiting once nothing new arrived for this long. */
  quietMs?: number;
  onSample?: (s: LoadSample) => void;
}

/** One reading of one counter; each has its own time, since the services answer at their own pace. */
export interface LoadSample {
  t_s: number;
  series: string;
  value: number;
}

export interface LoadData {
  count: number;
  produced: Produced | null;
  on_wire: {
    order_placed: number;
    inventory_events: number;
    without_event_id: number;
    not_keyed_by_order_id: number;
  } | null;
  /** When the tap had seen an answer to every order (s from the start of producing). */
  answered_after_s: number | null;
  accounting: Accounting | null;
  metrics_before: ObservedMetrics | null;
  metrics_after: ObservedMetrics | null;
  samples: LoadSample[];
}

interface LoadRun extends Run<PartC, LoadOptions> {
  tap?: PartCTap;
  producedBefore?: number;
  data: LoadData;
}

const series = {
  placed: "OrderPlaced on the wire",
  answers: "inventory events on the wire",
  counted: "orders counted by analytics",
  acked: "acknowledged by Kafka",
};

/** Until every order is on the wire and answered (and counted), or nothing moved for quietMs after the producer answered. */
async function produceAndWatch(r: LoadRun): Promise<void> {
  const { impl, opts, data } = r;
  const t0 = performance.now();
  const t = () => Math.round(performance.now() - t0) / 1000;
  let failure: Error | undefined;
  const producing = impl.produce(opts.count).then(
    (p) => void (data.produced = p),
    (err: Error) => void (failure = err),
  );
  const record = (name: string, value: number, t_s: number) => {
    data.samples.push({ t_s, series: name, value });
    opts.onSample?.({ t_s, series: name, value });
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 300_000);
  let [lastKey, lastChange] = ["", Date.now()];
  for (;;) {
    await sleep(200);
    const t_s = t();
    const placed = r.tap?.orderPlaced().length ?? 0;
    if (r.tap) record(series.placed, placed, t_s);
    if (r.tap) record(series.answers, r.tap.inventoryEvents().length, t_s);
    if (r.producedBefore !== undefined)
      record(series.acked, (await impl.whiteBox().stats("producer")).produced - r.producedBefore, t_s);
    const before = data.metrics_before?.total_orders;
    if (typeof before === "number") data.metrics_after = await impl.metrics();
    const counted = typeof before === "number" ? impl.count(data.metrics_after!, "total_orders") - before : 0;
    if (typeof before === "number") record(series.counted, counted, t_s);
    const answered = r.tap && placed >= opts.count && r.tap.accounting().lost.length === 0;
    if (answered && data.answered_after_s === null) data.answered_after_s = t_s;
    const key = `${placed}/${r.tap?.inventoryEvents().length}/${counted}`;
    if (key !== lastKey) [lastKey, lastChange] = [key, Date.now()];
    if (failure) throw failure;
    const complete = (!r.tap || answered) && (typeof before !== "number" || counted >= opts.count);
    if (data.produced && (complete || Date.now() - lastChange > (opts.quietMs ?? 10_000))) break;
    if (Date.now() > deadline) break;
  }
  await producing;
  if (!data.produced) throw failure ?? new Error("the producer did not answer");
}

/** What the tap saw: one OrderPlaced per order and one answer each (checks), the lab's contract (notes). */
function wireChecks(d: LoadData, topics?: { orders: string; inventory_events: string }) {
  const checks: Check[] = [];
  const notes: Check[] = [];
  const w = d.on_wire;
  const a = d.accounting;
  if (w && a) {
    checks.push(
      check(
        `${d.count} OrderPlaced on ${topics!.orders}, one per order`,
        w.order_placed === d.count && a.orders === d.count,
        `${w.order_placed} OrderPlaced for ${a.orders} distinct orderIds`,
      ),
      check(
        `every order got exactly one inventory event on ${topics!.inventory_events}`,
        a.orders > 0 && a.lost.length === 0 && a.duplicated.length === 0,
        `${a.one} of ${a.orders} orders answered once${accountingFaults(a)}`,
      ),
    );
    notes.push(
      check(
        "every OrderPlaced carries an eventId (so a redelivery can be counted once)",
        w.order_placed > 0 && w.without_event_id === 0,
        `${w.without_event_id} of ${w.order_placed} without one`,
      ),
      check(
        "every OrderPlaced is keyed by its orderId (one order's events stay in order)",
        w.order_placed > 0 && w.not_keyed_by_order_id === 0,
        `${w.not_keyed_by_order_id} of ${w.order_placed} keyed otherwise`,
      ),
      check(
        "each answer's eventId is delivered once (no redelivered copies)",
        a.copies === 0,
        `${a.copies} copies of answers already seen`,
      ),
    );
  }
  return { checks, notes };
}

export const loadExperiment: Experiment<PartC, LoadOptions, LoadRun, LoadData> = {
  name: "load",
  part: "partC",
  title: "Part C — load test",
  lesson: "A log takes a burst at the producer's pace; the consumers count every event once, a moment later.",
  needs: [],
  safeguards: [],
  begin: (run) => ({
    ...run,
    data: {
      count: run.opts.count,
      produced: null,
      on_wire: null,
      answered_after_s: null,
      accounting: null,
      metrics_before: null,
      metrics_after: null,
      samples: [],
    },
  }),
  steps: [
    {
      name: "wait until caught up",
      run: async (r) => {
        if (!(await r.impl.caughtUp(["inventory", "analytics"], r.opts.timeoutMs)))
          r.progress("the groups had not caught up before the load: the metrics may still move");
        r.data.metrics_before = (await r.unless("analytics counted each order once", () => r.impl.metrics())) ?? null;
        r.producedBefore = await r.unless(
          "the curve of events acknowledged by Kafka (the producer's /health)",
          async () => (await r.impl.whiteBox().stats("producer")).produced as number,
        );
        r.tap = await r.unless("the orders and answers on the wire", () => r.impl.tap());
      },
    },
    { name: "produce the orders", run: produceAndWatch },
    {
      name: "account for every order",
      run: async (r) => {
        if (!r.tap) return;
        await sleep(1000); // a duplicate answer would arrive right after the first
        const placed = r.tap.orderPlaced();
        r.data.accounting = r.tap.accounting();
        r.data.on_wire = {
          order_placed: placed.length,
          inventory_events: r.tap.inventoryEvents().length,
          without_event_id: placed.filter((e) => !e.eventId).length,
          not_keyed_by_order_id: placed.filter((e) => e.key !== e.orderId).length,
        };
      },
    },
  ],
  cleanup: async (r) => void (await r.tap?.close()),
  judge: (r) => {
    const { data: d, impl } = r;
    const p = d.produced!;
    const checks = [
      check(
        `the producer accepted ${d.count} orders`,
        p.accepted === d.count && p.refused === 0,
        `${p.accepted} accepted${p.refused ? `, ${p.refused} refused` : ""} through ${p.via} in ${(p.elapsed_ms / 1000).toFixed(2)} s`,
      ),
    ];
    const { checks: onWire, notes } = wireChecks(d, impl.target.partC?.broker?.topics);
    checks.push(...onWire);
    const counts = [
      ["total_orders", `analytics counted each of the ${d.count} orders once`],
      ["total_reservations", "analytics counted one inventory answer per order"],
    ] as const;
    for (const [field, name] of counts) {
      if (!d.metrics_before) continue; // no metrics: skipped already, with the reason
      try {
        const [b, after] = [impl.count(d.metrics_before, field), impl.count(d.metrics_after!, field)];
        checks.push(check(name, after - b === d.count, `${field} ${b} → ${after} (+${after - b})`));
      } catch (err) {
        r.skipped.push({ check: name, reason: (err as Error).message });
      }
    }
    const lastSeen = d.samples.filter((s) => s.series === series.placed).find((s) => s.value >= d.count)?.t_s;
    return {
      params: { count: d.count },
      checks,
      notes,
      figures: {
        "orders asked for": d.count,
        "produced through": p.via,
        "accepted by the producer": p.accepted,
        "producer answered after (s)": (p.elapsed_ms / 1000).toFixed(2),
        "OrderPlaced on the wire": d.on_wire?.order_placed ?? "not observable",
        "OrderPlaced per second on the wire": lastSeen ? Math.round(d.count / lastSeen) : "-",
        "every order answered after (s)": d.answered_after_s?.toFixed(2) ?? "-",
        "orders lost / duplicated": d.accounting
          ? `${d.accounting.lost.length} / ${d.accounting.duplicated.length}`
          : "-",
      },
      data: d,
    };
  },
  files: (result) => ({
    data: { "load-samples.csv": result.data.samples as unknown as Row[] },
    plots: {
      "load.svg": timeSeriesSpec({
        rows: result.data.samples,
        title: `Part C — ${result.data.count} orders through ${result.target.name}`,
        yTitle: "events",
      }),
    },
  }),
};
