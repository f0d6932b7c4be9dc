// Part C's load experiment on any target. The lab's own services: the usual experiment
// (load.ts). A foreign implementation: N orders through its load_test call (or place_order, a few
// at a time), and the lab's own tap on its topics counts what reaches the wire — N OrderPlaced,
// and per order exactly one InventoryReserved/InventoryFailed (none: lost; two: duplicated) —
// and, where the file gives its metrics, whether analytics counted each order once.
import path from "node:path";
import { toCsv, type Row } from "../../common/table.js";
import { sleep } from "../../common/wait.js";
import { timeSeriesSpec } from "../../harness/plots.js";
import { targetResultsDir, targetSummary, type Target, type TargetSummary } from "../../harness/target.js";
import {
  loadPlot,
  loadTable,
  runLoadExperiment,
  writeLoadResults,
  type LoadExperimentOptions,
  type LoadExperimentResult,
} from "./load.js";
import { caughtUp, orSkip, outsideRun, settle, writeOutsideResults, type OutsideRun } from "./outside.js";
import { metricField, openTargetKafka, targetPartC, type ObservedMetrics, type Produced } from "./target.js";
import { accountOrders, PartCWireTap, someOf, type Accounting } from "./wire-tap.js";

/** One reading of one counter, seen from outside. */
export interface OutsideSample {
  t_s: number;
  series: string;
  value: number;
}

export interface LoadOutsideResult extends OutsideRun {
  experiment: "load";
  count: number;
  produced: Produced | null;
  on_wire: {
    order_placed: number;
    inventory_events: number;
    /** When the tap had seen every order / an answer to every order (s from the start of producing). */
    orders_seen_after_s: number | null;
    answered_after_s: number | null;
    /** OrderPlaced events per second reaching the wire, from the start of producing to the last one seen. */
    events_per_s: number | null;
    /** OrderPlaced without an eventId, and not keyed by their orderId (the contract asks for both). */
    without_event_id: number;
    not_keyed_by_order_id: number;
  } | null;
  accounting: Accounting | null;
  metrics_before: ObservedMetrics | null;
  metrics_after: ObservedMetrics | null;
  samples: OutsideSample[];
}

/** The lab's own run, with the target it measured. */
export type LoadLabResult = LoadExperimentResult & { kind: "lab"; target: TargetSummary };
export type LoadThroughResult = LoadLabResult | LoadOutsideResult;

export interface LoadThroughOptions extends Omit<LoadExperimentOptions, "onSample"> {
  onSample?: (s: OutsideSample) => void;
  /** A foreign target: after the producer answered, stop waiting once nothing new arrived for this long. */
  quietMs?: number;
}

const num = (m: ObservedMetrics | null | undefined, f: "total_orders" | "total_reservations") =>
  typeof m?.[f] === "number" ? m[f] : undefined;

export async function runLoadThrough(target: Target, opts: LoadThroughOptions): Promise<LoadThroughResult> {
  if (target.lab) return { kind: "lab", ...(await runLoadExperiment(opts)), target: targetSummary(target) };
  const run = { ...outsideRun(target, "load"), count: opts.count };
  const impl = targetPartC(target);
  const timeoutMs = opts.timeoutMs ?? 300_000;
  const wire = await orSkip(run, "wire", () => openTargetKafka(target));
  let tap: PartCWireTap | undefined;
  try {
    if (wire && !(await caughtUp(wire, ["inventory", "analytics"], timeoutMs)))
      opts.log?.("the target's groups had not caught up before the load: its metrics may still move");
    const before = (await orSkip(run, "metrics", () => impl.metrics())) ?? null;
    tap = wire ? await PartCWireTap.open(wire) : undefined;

    const samples: OutsideSample[] = [];
    const t0 = performance.now();
    const elapsed = () => Math.round(performance.now() - t0) / 1000;
    let produced: Produced | undefined;
    let failure: Error | undefined;
    const startOnTap = tap?.now() ?? 0;
    const producing = impl.produce(opts.count).then(
      (p) => void (produced = p),
      (err: Error) => void (failure = err),
    );
    let after: ObservedMetrics | null = before;
    let ordersAt: number | null = null;
    let answeredAt: number | null = null;
    let lastChange = Date.now();
    let lastKey = "";
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await sleep(200);
      const t_s = elapsed();
      const placed = tap?.orderPlaced() ?? [];
      const answers = tap?.inventoryEvents() ?? [];
      const account = tap
        ? accountOrders(
            placed.map((e) => e.orderId ?? ""),
            answers,
          )
        : undefined;
      if (before) after = await impl.metrics();
      const record = (series: string, value: number) => {
        const s = { t_s, series, value };
        samples.push(s);
        opts.onSample?.(s);
      };
      if (tap) {
        record("OrderPlaced on the wire", placed.length);
        record("inventory events on the wire", answers.length);
      }
      const counted = (num(after, "total_orders") ?? 0) - (num(before, "total_orders") ?? 0);
      if (num(before, "total_orders") !== undefined) record("orders counted by analytics", counted);
      if (ordersAt === null && tap && placed.length >= opts.count) ordersAt = t_s;
      if (answeredAt === null && account && placed.length >= opts.count && account.lost.length === 0) answeredAt = t_s;
      const key = `${placed.length}/${answers.length}/${counted}`;
      if (key !== lastKey) [lastKey, lastChange] = [key, Date.now()];
      if (failure) throw failure;
      const complete =
        (!tap || answeredAt !== null) && (num(before, "total_orders") === undefined || counted >= opts.count);
      if (produced && (complete || Date.now() - lastChange > (opts.quietMs ?? 10_000))) break;
      if (Date.now() > deadline) break;
    }
    await producing;
    if (!produced) throw failure ?? new Error("the producer did not answer");
    // A moment more: a duplicate answer would arrive right after the first.
    if (tap) await sleep(1000);

    const placed = tap?.orderPlaced() ?? [];
    const accounting = tap
      ? accountOrders(
          placed.map((e) => e.orderId ?? ""),
          tap.inventoryEvents(),
        )
      : null;
    const lastSeen = placed.at(-1)?.t_s;
    const result: LoadOutsideResult = {
      ...run,
      produced,
      on_wire: tap
        ? {
            order_placed: placed.length,
            inventory_events: tap.inventoryEvents().length,
            orders_seen_after_s: ordersAt,
            answered_after_s: answeredAt,
            events_per_s: lastSeen ? Math.round(placed.length / Math.max(0.001, lastSeen - startOnTap)) : null,
            without_event_id: placed.filter((e) => !e.eventId).length,
            not_keyed_by_order_id: placed.filter((e) => e.key !== e.orderId).length,
          }
        : null,
      accounting,
      metrics_before: before,
      metrics_after: after,
      samples,
    };
    checkLoadOutside(result, target);
    return settle(result);
  } finally {
    await tap?.close();
    await wire?.close();
  }
}

/** The assignment's requirements, and the lab's contract as notes, for one load run. */
function checkLoadOutside(r: LoadOutsideResult, target: Target): void {
  const c = target.partC!;
  const p = r.produced!;
  const add = (check: string, passed: boolean, observed: string) =>
    r.checks.push({ scenario: "load", check, passed, observed });
  const note = (check: string, passed: boolean, observed: string) =>
    r.notes.push({ scenario: "load", check, passed, observed });
  add(
    `the producer accepted ${r.count} orders`,
    p.accepted === r.count && p.refused === 0,
    `${p.accepted} accepted${p.refused ? `, ${p.refused} refused` : ""} through ${p.via} in ${(p.elapsed_ms / 1000).toFixed(2)} s`,
  );
  if (r.on_wire && r.accounting) {
    const topic = c.broker!.topics.orders;
    add(
      `${r.count} OrderPlaced on ${topic}, one per order`,
      r.on_wire.order_placed === r.count && r.accounting.orders === r.count,
      `${r.on_wire.order_placed} OrderPlaced for ${r.accounting.orders} distinct orderIds` +
        (r.on_wire.order_placed > r.count ? ": the producer wrote some orders more than once" : ""),
    );
    const a = r.accounting;
    add(
      `every order got exactly one inventory event on ${c.broker!.topics.inventory_events}`,
      a.orders > 0 && a.lost.length === 0 && a.duplicated.length === 0,
      `${a.one} of ${a.orders} orders answered once` +
        (a.lost.length ? `; ${a.lost.length} never answered (lost: ${someOf(a.lost)})` : "") +
        (a.duplicated.length ? `; ${a.duplicated.length} answered twice (duplicated: ${someOf(a.duplicated)})` : ""),
    );
    const w = r.on_wire;
    note(
      "every OrderPlaced carries an eventId (so a redelivery can be counted once)",
      w.order_placed > 0 && w.without_event_id === 0,
      `${w.without_event_id} of ${w.order_placed} without one`,
    );
    note(
      "every OrderPlaced is keyed by its orderId (one order's events stay in order)",
      w.order_placed > 0 && w.not_keyed_by_order_id === 0,
      `${w.not_keyed_by_order_id} of ${w.order_placed} keyed otherwise`,
    );
    note(
      "each answer's eventId is delivered once (no redelivered copies)",
      a.copies === 0,
      `${a.copies} copies of answers already seen`,
    );
  }
  for (const f of ["total_orders", "total_reservations"] as const) {
    const b = num(r.metrics_before, f);
    const after = num(r.metrics_after, f);
    if (b === undefined || after === undefined) {
      if (r.metrics_before)
        r.skipped.push({
          scenario: "load",
          reason: `the metrics have no field ${metricField(c, f)} (partC.metrics.fields.${f})`,
        });
      continue;
    }
    add(
      f === "total_orders"
        ? `analytics counted each of the ${r.count} orders once`
        : `analytics counted one inventory answer per order`,
      after - b === r.count,
      `${metricField(c, f)} ${b} → ${after} (+${after - b})`,
    );
  }
}

export function loadOutsideTable(r: LoadOutsideResult): Row[] {
  const p = r.produced;
  return [
    { measure: "orders asked for", value: r.count },
    { measure: "produced through", value: p?.via ?? "-" },
    { measure: "accepted by the producer", value: p?.accepted ?? "-" },
    { measure: "producer answered after (s)", value: p ? (p.elapsed_ms / 1000).toFixed(2) : "-" },
    { measure: "OrderPlaced on the wire", value: r.on_wire?.order_placed ?? "not observable" },
    { measure: "OrderPlaced per second on the wire", value: r.on_wire?.events_per_s ?? "-" },
    { measure: "inventory events on the wire", value: r.on_wire?.inventory_events ?? "not observable" },
    { measure: "every order answered after (s)", value: r.on_wire?.answered_after_s?.toFixed(2) ?? "-" },
    {
      measure: "orders lost / duplicated",
      value: r.accounting ? `${r.accounting.lost.length} / ${r.accounting.duplicated.length}` : "-",
    },
  ];
}

export const loadOutsidePlot = (r: LoadOutsideResult) =>
  timeSeriesSpec({
    rows: r.samples,
    title: `Part C — ${r.count} orders through ${r.target.name}, seen from outside`,
    yTitle: "events",
  });

/** Either run's plot. */
export const loadThroughPlot = (r: LoadThroughResult) => (r.kind === "lab" ? loadPlot(r) : loadOutsidePlot(r));

/** Either run's table. */
export const loadThroughTable = (r: LoadThroughResult): Row[] =>
  r.kind === "lab" ? loadTable(r) : loadOutsideTable(r);

/** The load run's files: the lab's own as load.ts writes them; a foreign target's summary.json/.md naming it. */
export function writeLoadThroughResults(r: LoadThroughResult, target: Target): Promise<string[]> {
  const dir = path.join(targetResultsDir(target, "partC"), "load");
  if (r.kind === "lab") return writeLoadResults(r, dir);
  const { samples, ...rest } = r;
  return writeOutsideResults(
    dir,
    rest,
    `Part C — load test: ${r.count} orders through ${r.target.name}`,
    loadOutsideTable(r),
    {
      data: { "load-samples.csv": toCsv(samples as unknown as Row[]) },
      plots: { "load.svg": loadOutsidePlot(r) },
    },
  );
}
