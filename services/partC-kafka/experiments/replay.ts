// Part C's replay experiment: analytics' metrics before and after its replay (it reads the log
// again from the start and recomputes) must be equal — they depend only on the events in the log.
// Then copies of a few OrderPlaced already on the orders topic (same key, same bytes, same
// eventId: what a redelivering producer writes) must not raise the order count ("analytics
// counts each order once"), not even after another replay. Run `without` event-time (replaying
// in another minute) or dedupe, the lab's own services show what those safeguards prevent.
import { sleep, waitUntil } from "../../common/wait.js";
import { check, type Check } from "../../harness/judge/check.js";
import type { Experiment, ExperimentOptions, Run, Tally } from "../../harness/judge/experiment.js";
import { accountOrders, produceRaw, someOf } from "../lab/kafka-tap.js";
import { CONTRACT_METRICS, type ObservedMetrics } from "../lab/contract.js";
import type { PartC } from "../lab/implementation.js";
import { replayFiles, show, type ReplayData } from "./replay-files.js";
export type { ReplayData };
import { appendHistory, historyTally, HISTORY_MINUTES } from "./history.js";

export interface ReplayOptions extends ExperimentOptions {
  /** Produce this many orders first when the log looks empty (something to replay). */
  seedCount?: number;
  /** OrderPlaced copied for the duplicate check (default 5; 0: none). */
  duplicates?: number;
  timeoutMs?: number;
  /** Metrics unchanged this long count as settled. */
  settleMs?: number;
  /** Replay only once the clock's minute has turned: what a replay at another time changes shows (without event-time). */
  replayInAnotherMinute?: boolean;
  /** Append this many orders placed a day ago first (event-time): counted in their own minutes, before and after the replay? */
  history?: number;
}

type ReplayRun = Run<PartC, ReplayOptions> & { data: ReplayData };

const EQUAL = "the metrics after the replay equal the metrics before";
const ONCE = "analytics counts each order once: redelivered OrderPlaced leave total_orders unchanged";
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The observed fields that differ (only fields both readings have). */
export const metricDifferences = (before: ObservedMetrics, after: ObservedMetrics) =>
  CONTRACT_METRICS.filter((f) => f in before && f in after && !same(before[f], after[f])).map((field) => ({
    field,
    before: before[field],
    after: after[field],
  }));

const settle = (r: ReplayRun, until?: (m: ObservedMetrics) => boolean) =>
  r.impl.settled({ until, timeoutMs: r.opts.timeoutMs, settleMs: r.opts.settleMs });

async function replayOnce(r: ReplayRun): Promise<void> {
  const { impl, data } = r;
  impl.capabilities.need("replay");
  const before = data.before!;
  if (impl.capabilities.has("kafka")) {
    const k = await impl.kafka();
    const ends = await Promise.all(
      [k.topics.orders, k.topics.inventory_events].map((t) => k.admin.fetchTopicOffsets(t)),
    );
    data.log_events = ends.flat().reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  }
  await impl.replay();
  // A replay that restarts from zero passes through smaller numbers: wait for the same again, or for the metrics to stop moving.
  data.after = await settle(r, (m) => same(m, before));
  data.differences = metricDifferences(before, data.after);
  data.events_read =
    (await r.unless(
      "the replay read the whole log again",
      async () => (await impl.whiteBox().metrics()).replay.events_read,
    )) ?? null;
}

/** A few orders placed, a copy of each OrderPlaced written to the topic, the count watched (and replayed). */
async function redeliver(r: ReplayRun): Promise<void> {
  const { impl, data } = r;
  const k = r.opts.duplicates ?? 5;
  impl.count(data.before!, "total_orders");
  const tap = await impl.tap();
  try {
    const start = impl.count(await settle(r), "total_orders");
    for (let i = 0; i < k; i++) {
      const placed = await impl.placeOrder();
      if (placed.status < 200 || placed.status > 299)
        throw new Error(`the producer refused an order: ${placed.status} ${JSON.stringify(placed.body)}`);
    }
    await waitUntil(() => tap.orderPlaced().length >= k, `${k} OrderPlaced on the orders topic`, 60_000);
    const counted = impl.count(await settle(r, (m) => impl.count(m, "total_orders") >= start + k), "total_orders");
    const originals = tap.orderPlaced().slice(0, k);
    const wire = await impl.kafka();
    await produceRaw(
      wire.kafka,
      wire.topics.orders,
      originals.map((e) => ({ key: e.raw.key, value: e.raw.value, headers: e.raw.headers })),
    );
    const afterCopies = impl.count(await settle(r), "total_orders");
    let afterReplay: number | null = null;
    if (impl.capabilities.has("replay")) {
      r.progress("replaying again, with the copies in the log");
      await impl.replay();
      afterReplay = impl.count(await settle(r, (m) => m.total_orders === counted), "total_orders");
    }
    await sleep(1000);
    const answers = accountOrders(
      originals.map((e) => e.orderId ?? ""),
      tap.inventoryEvents(),
    );
    data.duplicates = {
      copies: k,
      with_event_id: originals.filter((e) => e.eventId).length,
      total_orders_before_copies: counted,
      total_orders_after_copies: afterCopies,
      total_orders_after_replay: afterReplay,
      answered_twice: answers.duplicated,
      repeated_answers: answers.copies,
    };
  } finally {
    await tap.close();
  }
}

function duplicateChecks(r: ReplayRun): { checks: Check[]; notes: Check[]; tally?: Tally } {
  const d = r.data.duplicates;
  if (!d) return { checks: [], notes: [] };
  const field = r.impl.target.partC?.metrics?.fields?.total_orders ?? "total_orders";
  const ids =
    d.with_event_id === d.copies
      ? "each copy has the same eventId as its original"
      : `${d.copies - d.with_event_id} of the ${d.copies} events carry no eventId (the contract gives every OrderPlaced one): only their orderId tells a copy apart`;
  const grew = d.total_orders_after_copies - d.total_orders_before_copies;
  const checks = [
    check(
      ONCE,
      grew === 0,
      `${field} ${d.total_orders_before_copies} → ${d.total_orders_after_copies} after ${d.copies} copies; ${ids}` +
        (grew > 0 ? ` — analytics counted ${grew} redelivered event(s) again: it does not deduplicate by eventId` : ""),
    ),
  ];
  const replayed = d.total_orders_after_replay;
  if (replayed !== null)
    checks.push(
      check(
        `a replay of a log holding the copies counts each order once (${field} as before the copies)`,
        replayed === d.total_orders_before_copies,
        `${field} ${d.total_orders_before_copies} before the copies, ${replayed} after the replay` +
          (replayed > d.total_orders_before_copies
            ? ` — the replay counted ${replayed - d.total_orders_before_copies} copies as orders`
            : ""),
      ),
    );
  const notes = [
    check(
      "a redelivered OrderPlaced gets no second, different inventory event (the same eventId again is fine)",
      d.answered_twice.length === 0,
      d.answered_twice.length
        ? `${d.answered_twice.length} orders answered twice with different eventIds (${someOf(d.answered_twice)})`
        : `${d.repeated_answers} repeated answers, none with a new eventId`,
    ),
  ];
  const again = Math.max(0, (replayed ?? d.total_orders_before_copies) - d.total_orders_before_copies);
  const tally = { sent: d.copies, acknowledged: d.copies, anomalies: { "counted twice": Math.max(0, grew) + again } };
  return { checks, notes, tally };
}

/** What the duplicates and the history counted, together (the campaign and the safeguards read it). */
const tallied = (ts: (Tally | undefined)[]): Tally | undefined =>
  ts.reduce<Tally | undefined>(
    (sum, t) =>
      !t || !sum
        ? (sum ?? t)
        : {
            sent: sum.sent + t.sent,
            acknowledged: sum.acknowledged + t.acknowledged,
            anomalies: { ...sum.anomalies, ...t.anomalies },
          },
    undefined,
  );

export const replayExperiment: Experiment<PartC, ReplayOptions, ReplayRun, ReplayData> = {
  name: "replay",
  part: "partC",
  title: "Part C — replay: metrics before and after, and redelivered orders",
  lesson: "State rebuilt from the log is the same state, when the metrics depend only on the events.",
  needs: ["metrics"],
  safeguards: ["event-time", "dedupe"],
  begin: (run) => ({
    ...run,
    data: {
      before: null,
      after: null,
      differences: [],
      log_events: null,
      events_read: null,
      duplicates: null,
      history: null,
    },
  }),
  steps: [
    {
      name: "settle (seed an empty log)",
      run: async (r) => {
        let before = await settle(r);
        if (r.opts.history) {
          r.progress(`appending ${r.opts.history} orders placed a day ago over ${HISTORY_MINUTES} minutes`);
          r.data.history = await appendHistory(r.impl, r.opts.history, Date.now(), before);
          before = await settle(r);
        }
        const seed = r.opts.seedCount ?? 1000;
        if (!before.total_orders && seed > 0) {
          r.progress(`the log looks empty: producing ${seed} orders to replay`);
          await r.impl.produce(seed);
          before = await settle(r);
        }
        r.data.before = before;
        const fields = r.impl.target.partC?.metrics?.fields ?? {};
        for (const f of CONTRACT_METRICS.filter((x) => !(x in before)))
          r.skipped.push({
            check: `${f} equal after the replay`,
            reason: `the metrics have no field ${fields[f] ?? f} (partC.metrics.fields.${f})`,
          });
      },
    },
    {
      name: "wait for the clock's minute to turn",
      run: async (r) => {
        if (!r.opts.replayInAnotherMinute) return;
        await sleep(60_000 - (Date.now() % 60_000) + 200);
      },
    },
    { name: "replay", run: async (r) => void (await r.unless(EQUAL, () => replayOnce(r))) },
    {
      name: "redeliver copies of OrderPlaced",
      run: async (r) => void (r.opts.duplicates !== 0 && (await r.unless(ONCE, () => redeliver(r)))),
    },
  ],
  judge: (r) => {
    const { data: d } = r;
    const checks: Check[] = [];
    if (d.after) {
      const compared = CONTRACT_METRICS.filter((f) => f in d.before!);
      checks.push(
        check(
          EQUAL,
          d.differences.length === 0,
          d.differences.length
            ? d.differences.map((x) => `${x.field} ${show(x.before)} → ${show(x.after)}`).join("; ")
            : `${compared.join(", ")} equal`,
        ),
      );
    }
    if (d.events_read !== null && d.log_events !== null)
      checks.push(
        check(
          "the replay read the whole log again",
          d.events_read >= d.log_events,
          `${d.events_read} events read, ${d.log_events} in the log`,
        ),
      );
    const dup = duplicateChecks(r);
    const h = d.history && historyTally(d.history, d.before, d.after);
    if (h)
      checks.push(
        check("each order counted in the minute it was placed, before and after the replay", h.passed, h.observed),
      );
    return {
      params: {
        seed_count: r.opts.seedCount ?? 1000,
        duplicates: r.opts.duplicates ?? 5,
        replay_in_another_minute: !!r.opts.replayInAnotherMinute,
        history: r.opts.history ?? 0,
      },
      tally: tallied([h?.tally, dup.tally]),
      checks: [...checks, ...dup.checks],
      notes: dup.notes,
      figures: Object.fromEntries(
        CONTRACT_METRICS.filter((f) => f !== "orders_per_minute").map((f) => [
          `${f} before → after`,
          `${show(d.before?.[f])} → ${show(d.after?.[f])}`,
        ]),
      ),
      data: d,
    };
  },
  files: replayFiles,
};
