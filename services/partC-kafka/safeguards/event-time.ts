// event-time: analytics counts an order in the minute it was placed (the event's createdAt), not
// the minute it happens to read it. The scenario: a log that already holds orders placed a day
// ago over a few minutes (as a new analytics, or a replay the next day, finds it); analytics
// reads it, then replays it (the lab's replay experiment). One checker: the orders per minute
// the first reading added, against the events' own minutes; and the minutes the replay changed.
// With the safeguard: both 0. Without it, every order lands in the minute it was read — the
// history's minutes are missing and one is made up — and a replay in another minute moves them
// all again. A quick run replays at once (the same minute, usually: nothing moves); a full run
// waits for the clock's minute to turn first.
import { countBy, openStack } from "../../harness/stack.js";
import { safeguardRun, type SafeguardExperiment, type SafeguardRun } from "../../harness/safeguards.js";
import type { ScenarioOptions } from "../../harness/verdict.js";
import { orderPlaced, toMessage } from "../events.js";
import { kafkaClient, produceRaw } from "../faults/kafka-tap.js";
import { labImplementation } from "../lab/implementation.js";
import { runReplayExperiment } from "../lab/replay.js";
import { minuteOf, type Metrics } from "../metrics.js";
import { DEFAULT_ITEMS } from "../produce-orders.js";
import { PARTC_SAFEGUARDS } from "../switches.js";
import { TOPICS } from "../topics.js";

/** The history's length: its orders are spread evenly over these minutes. */
const HISTORY_MINUTES = 5;

/** Orders per minute that `after` has more than `before`. */
function added(before: Metrics, after: Metrics): Record<string, number> {
  const minutes = new Set([...Object.keys(before.orders_per_minute), ...Object.keys(after.orders_per_minute)]);
  const out: Record<string, number> = {};
  for (const m of minutes) {
    const d = (after.orders_per_minute[m] ?? 0) - (before.orders_per_minute[m] ?? 0);
    if (d !== 0) out[m] = d;
  }
  return out;
}

/** The minutes where two per-minute counts disagree. */
const minutesThatDiffer = (a: Record<string, number>, b: Record<string, number>): string[] =>
  [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((m) => (a[m] ?? 0) !== (b[m] ?? 0)).sort();

export async function eventTimeReplay(opts: ScenarioOptions, on: boolean): Promise<SafeguardRun> {
  const n = opts.quick ? 300 : 3000;
  const stack = await openStack("partC", { ...opts, without: on ? undefined : "event-time" }, "event-time");
  try {
    const impl = labImplementation(stack.running, stack.lab);
    const m0 = await impl.waitForQuiet();
    // Orders placed a day ago, over HISTORY_MINUTES minutes, appended as the producer would have.
    const start = (Math.floor(Date.now() / 60_000) - 24 * 60) * 60_000;
    const history = Array.from({ length: n }, (_, i) =>
      orderPlaced(
        `evt-${opts.seed}-${i}`,
        DEFAULT_ITEMS,
        new Date(start + Math.floor((i * HISTORY_MINUTES * 60_000) / n)),
      ),
    );
    await produceRaw(kafkaClient(impl.endpoints.kafka), TOPICS.orders, history.map(toMessage));
    const replay = await runReplayExperiment({
      ...stack.lab,
      seedCount: 0,
      replayInAnotherMinute: !opts.quick,
      onPhase: opts.log,
    });
    const own = countBy(history, (e) => minuteOf(e.createdAt));
    const read = added(m0, replay.before);
    const wrong = minutesThatDiffer(own, read);
    const moved = minutesThatDiffer(replay.before.orders_per_minute, replay.after.orders_per_minute);
    const at = (minutes: Record<string, number>) =>
      Object.entries(minutes)
        .map(([m, k]) => `${m.slice(5).replace("T", " ")} ${k}`)
        .join(", ");
    return safeguardRun(
      {
        orders: n,
        "own minutes": Object.keys(own).length,
        "minutes counted wrong": wrong.length,
        "minutes changed by the replay": moved.length,
      },
      ["minutes counted wrong", "minutes changed by the replay"],
      `${n} orders placed in ${at(own)} (a day ago) were counted in ${at(read)}; the replay${
        opts.quick ? " (at once)" : " (in another minute)"
      } changed ${moved.length} minute(s)`,
    );
  } finally {
    await stack.release();
  }
}

export const eventTime: SafeguardExperiment = {
  safeguard: "event-time",
  part: "C",
  scenario: `a log holding orders placed a day ago over ${HISTORY_MINUTES} minutes, read by analytics, then replayed`,
  prevents: PARTC_SAFEGUARDS["event-time"].prevents,
  run: eventTimeReplay,
};
