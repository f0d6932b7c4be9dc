// Part C's replay experiment on any target. The lab's own services: the usual experiment
// (replay.ts). A foreign implementation: its metrics (through the file's field names) before and
// after its replay call must be equal; then copies of a few OrderPlaced already on its orders
// topic (same key, same bytes, same eventId — what a redelivering producer writes) must not
// raise its order count ("analytics counts each order once"), not even after another replay.
import path from "node:path";
import { toCsv, type Row } from "../../common/table.js";
import { sleep, waitUntil } from "../../common/wait.js";
import { groupedBarSpec } from "../../harness/plots.js";
import { targetResultsDir, targetSummary, type Target, type TargetSummary } from "../../harness/target.js";
import { produceRaw } from "../faults/kafka-tap.js";
import {
  replayPlot,
  replayTable,
  runReplayExperiment,
  writeReplayResults,
  type ReplayExperimentOptions,
  type ReplayExperimentResult,
} from "./replay.js";
import { caughtUp, orSkip, outsideRun, settle, writeOutsideResults, type OutsideRun } from "./outside.js";
import {
  CONTRACT_METRICS,
  metricField,
  openTargetKafka,
  targetPartC,
  type ObservedMetrics,
  type PartCTarget,
  type TargetKafka,
} from "./target.js";
import { accountOrders, PartCWireTap, someOf } from "./wire-tap.js";

export interface DuplicateRun {
  /** OrderPlaced copied (each already on the topic and counted). */
  copies: number;
  /** How many of the copied events carried an eventId to deduplicate by. */
  with_event_id: number;
  total_orders_before_copies: number;
  total_orders_after_copies: number;
  /** After another replay, with the copies in the log (null: no replay call). */
  total_orders_after_replay: number | null;
}

export interface ReplayOutsideResult extends OutsideRun {
  experiment: "replay";
  before: ObservedMetrics | null;
  after: ObservedMetrics | null;
  differences: { field: string; before: unknown; after: unknown }[];
  duplicates: DuplicateRun | null;
}

export type ReplayLabResult = ReplayExperimentResult & { kind: "lab"; target: TargetSummary };
export type ReplayThroughResult = ReplayLabResult | ReplayOutsideResult;

export interface ReplayThroughOptions extends ReplayExperimentOptions {
  /** A foreign target: OrderPlaced copied for the duplicate check (default 5). */
  duplicates?: number;
  /** A foreign target: metrics unchanged this long count as settled, where no group's lag can tell (default 3000). */
  settleMs?: number;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The observed fields that differ (only fields both readings have). */
export function metricDifferences(before: ObservedMetrics, after: ObservedMetrics) {
  return CONTRACT_METRICS.filter((f) => f in before && f in after && !same(before[f], after[f])).map((field) => ({
    field,
    before: before[field],
    after: after[field],
  }));
}

const totalOrders = (m: ObservedMetrics) => (typeof m.total_orders === "number" ? m.total_orders : NaN);

export async function runReplayThrough(target: Target, opts: ReplayThroughOptions = {}): Promise<ReplayThroughResult> {
  if (target.lab) return { kind: "lab", ...(await runReplayExperiment(opts)), target: targetSummary(target) };
  const run: ReplayOutsideResult = {
    ...outsideRun(target, "replay"),
    before: null,
    after: null,
    differences: [],
    duplicates: null,
  };
  const impl = targetPartC(target);
  const first = await orSkip(run, "replay", () => impl.metrics());
  if (!first) {
    run.skipped.push({ scenario: "duplicates", reason: run.skipped[0].reason });
    return settle(run);
  }
  const wire = await orSkip(run, "duplicates", () => openTargetKafka(target));
  try {
    await replayOnce(impl, wire, run, opts);
    if (wire) await duplicates(impl, wire, run, opts);
  } finally {
    await wire?.close();
  }
  return settle(run);
}

/**
 * Wait until the metrics describe the whole log: the target's groups caught up (where the file
 * names them), and the metrics unchanged for `settleMs` (a replay may recompute in the background).
 */
async function settled(
  impl: PartCTarget,
  wire: TargetKafka | undefined,
  opts: ReplayThroughOptions,
  until?: (m: ObservedMetrics) => boolean,
) {
  const timeoutMs = opts.timeoutMs ?? 300_000;
  if (wire) await caughtUp(wire, ["inventory", "analytics"], timeoutMs, 0);
  let last = await impl.metrics();
  let since = Date.now();
  await waitUntil(
    async () => {
      const now = await impl.metrics();
      if (until?.(now)) return true;
      if (!same(now, last)) [last, since] = [now, Date.now()];
      return Date.now() - since >= (opts.settleMs ?? 3000);
    },
    "the target's metrics to settle",
    timeoutMs,
    250,
  );
  return impl.metrics();
}

async function replayOnce(
  impl: PartCTarget,
  wire: TargetKafka | undefined,
  run: ReplayOutsideResult,
  opts: ReplayThroughOptions,
) {
  const c = impl.file;
  let before = await settled(impl, wire, opts);
  if (!totalOrders(before) && (opts.seedCount ?? 1000) > 0) {
    opts.onPhase?.(`the log looks empty: producing ${opts.seedCount ?? 1000} orders to replay`);
    await impl.produce(opts.seedCount ?? 1000);
    before = await settled(impl, wire, opts);
  }
  run.before = before;
  for (const f of CONTRACT_METRICS)
    if (!(f in before))
      run.skipped.push({
        scenario: "replay",
        reason: `the metrics have no field ${metricField(c, f)} (partC.metrics.fields.${f})`,
      });
  if (!c.replay) {
    run.skipped.push({ scenario: "replay", reason: "the target gives no way to trigger a replay (partC.replay)" });
    return;
  }
  opts.onPhase?.("replaying through the target's call; waiting until its metrics settle");
  await impl.replay();
  // A replay that restarts from zero passes through smaller numbers: wait for the same again, or for the metrics to stop moving.
  run.after = await settled(impl, wire, opts, (m) => same(m, before));
  run.differences = metricDifferences(before, run.after);
  const compared = CONTRACT_METRICS.filter((f) => f in before).map((f) => metricField(c, f));
  if (!compared.length) return; // no field to compare: each is skipped above, with its reason
  run.checks.push({
    scenario: "replay",
    check: "the metrics after the replay equal the metrics before",
    passed: run.differences.length === 0,
    observed: run.differences.length
      ? run.differences
          .map((d) => `${metricField(c, d.field as never)} ${JSON.stringify(d.before)} → ${JSON.stringify(d.after)}`)
          .join("; ")
      : `${compared.join(", ")} equal`,
  });
}

async function duplicates(impl: PartCTarget, wire: TargetKafka, run: ReplayOutsideResult, opts: ReplayThroughOptions) {
  const c = impl.file;
  const ordersField = metricField(c, "total_orders");
  if (!run.before || !("total_orders" in run.before)) {
    run.skipped.push({
      scenario: "duplicates",
      reason: `the metrics have no field ${ordersField} (partC.metrics.fields.total_orders)`,
    });
    return;
  }
  const k = opts.duplicates ?? 5;
  const tap = await PartCWireTap.open(wire);
  try {
    opts.onPhase?.(`placing ${k} orders, then writing a copy of each OrderPlaced to ${wire.topics.orders}`);
    const start = totalOrders(await settled(impl, wire, opts));
    for (let i = 0; i < k; i++) {
      const r = await impl.placeOrder();
      if (r.status < 200 || r.status > 299)
        throw new Error(`the producer refused an order: ${r.status} ${JSON.stringify(r.body)}`);
    }
    await waitUntil(() => tap.orderPlaced().length >= k, `${k} OrderPlaced on ${wire.topics.orders}`, 60_000);
    const counted = totalOrders(await settled(impl, wire, opts, (m) => totalOrders(m) >= start + k));
    const originals = tap.orderPlaced().slice(0, k);
    await produceRaw(
      wire.kafka,
      wire.topics.orders,
      originals.map((e) => ({ key: e.raw.key, value: e.raw.value, headers: e.raw.headers })),
    );
    const afterCopies = totalOrders(await settled(impl, wire, opts));
    let afterReplay: number | null = null;
    if (c.replay) {
      opts.onPhase?.("replaying again, with the copies in the log");
      await impl.replay();
      afterReplay = totalOrders(await settled(impl, wire, opts, (m) => totalOrders(m) === counted));
    }
    const withId = originals.filter((e) => e.eventId).length;
    run.duplicates = {
      copies: k,
      with_event_id: withId,
      total_orders_before_copies: counted,
      total_orders_after_copies: afterCopies,
      total_orders_after_replay: afterReplay,
    };
    const ids =
      withId === k
        ? "each copy has the same eventId as its original"
        : `${k - withId} of the ${k} events carry no eventId (the contract gives every OrderPlaced one): only their orderId tells a copy apart`;
    const grew = afterCopies - counted;
    run.checks.push({
      scenario: "duplicates",
      check: `analytics counts each order once: ${k} redelivered OrderPlaced leave ${ordersField} unchanged`,
      passed: grew === 0,
      observed:
        `${ordersField} ${counted} → ${afterCopies} after ${k} copies; ${ids}` +
        (grew > 0 ? ` — analytics counted ${grew} redelivered event(s) again: it does not deduplicate by eventId` : ""),
    });
    if (afterReplay !== null)
      run.checks.push({
        scenario: "duplicates",
        check: `a replay of a log holding the copies counts each order once (${ordersField} as before the copies)`,
        passed: afterReplay === counted,
        observed:
          `${ordersField} ${counted} before the copies, ${afterReplay} after the replay` +
          (afterReplay > counted ? ` — the replay counted ${afterReplay - counted} copies as orders` : ""),
      });
    await sleep(1000);
    const answers = accountOrders(
      originals.map((e) => e.orderId ?? ""),
      tap.inventoryEvents(),
    );
    run.notes.push({
      scenario: "duplicates",
      check: "a redelivered OrderPlaced gets no second, different inventory event (the same eventId again is fine)",
      passed: answers.duplicated.length === 0,
      observed: answers.duplicated.length
        ? `${answers.duplicated.length} orders answered twice with different eventIds (${someOf(answers.duplicated)})`
        : `${answers.copies} repeated answers, none with a new eventId`,
    });
  } finally {
    await tap.close();
  }
}

export function replayOutsideTable(r: ReplayOutsideResult): Row[] {
  const rows: Row[] = CONTRACT_METRICS.filter((f) => f !== "orders_per_minute").map((f) => ({
    metric: f,
    before: JSON.stringify(r.before?.[f] ?? "-"),
    after: JSON.stringify(r.after?.[f] ?? "-"),
    equal: r.after ? (same(r.before?.[f], r.after[f]) ? "yes" : "NO") : "-",
  }));
  const d = r.duplicates;
  if (d)
    rows.push({
      metric: `total_orders with ${d.copies} copies (before / after copies / after a replay)`,
      before: d.total_orders_before_copies,
      after: `${d.total_orders_after_copies} / ${d.total_orders_after_replay ?? "-"}`,
      equal: d.total_orders_after_copies === d.total_orders_before_copies ? "yes" : "NO",
    });
  return rows;
}

export const replayOutsidePlot = (r: ReplayOutsideResult) =>
  groupedBarSpec(
    (["total_orders", "total_reservations", "failed_reservations"] as const).flatMap((f) =>
      typeof r.before?.[f] === "number"
        ? [
            { group: f, series: "before replay", value: r.before[f] },
            { group: f, series: "after replay", value: typeof r.after?.[f] === "number" ? r.after[f] : 0 },
          ]
        : [],
    ),
    `Part C — ${r.target.name}'s metrics before and after a replay`,
    "count",
  );

/** Either run's plot. */
export const replayThroughPlot = (r: ReplayThroughResult) => (r.kind === "lab" ? replayPlot(r) : replayOutsidePlot(r));

export const replayThroughTable = (r: ReplayThroughResult): Row[] =>
  r.kind === "lab" ? replayTable(r) : replayOutsideTable(r);

/** The replay run's files: the lab's own as replay.ts writes them; a foreign target's summary.json/.md naming it. */
export function writeReplayThroughResults(r: ReplayThroughResult, target: Target): Promise<string[]> {
  const dir = path.join(targetResultsDir(target, "partC"), "replay");
  if (r.kind === "lab") return writeReplayResults(r, dir);
  return writeOutsideResults(dir, r, `Part C — replay and duplicates: ${r.target.name}`, replayOutsideTable(r), {
    data: { "replay.csv": toCsv(replayOutsideTable(r)) },
    plots: r.before ? { "replay.svg": replayOutsidePlot(r) } : {},
  });
}
