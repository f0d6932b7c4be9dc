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
import { runExperiment } from "../../harness/experiment.js";
import { kafkaClient, produceRaw } from "../lab/kafka-tap.js";
import { labPartC } from "../lab/implementation.js";
import { replayExperiment } from "../experiments/replay.js";
import { minuteOf } from "../metrics.js";
import { DEFAULT_ITEMS } from "../produce-orders.js";
import { PARTC_SAFEGUARDS } from "../switches.js";
import { TOPICS } from "../topics.js";

/** The history's length: its orders are spread evenly over these minutes. */
const HISTORY_MINUTES = 5;

/** Orders per minute that `after` has more than `before`. */
function added(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const minutes = new Set([...Object.keys(before), ...Object.keys(after)]);
  const out: Record<string, number> = {};
  for (const m of minutes) {
    const d = (after[m] ?? 0) - (before[m] ?? 0);
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
  const impl = labPartC(stack.running, stack.lab, { without: on ? undefined : "event-time" });
  try {
    const m0 = await impl.whiteBox().waitForQuiet();
    // Orders placed a day ago, over HISTORY_MINUTES minutes, appended as the producer would have.
    const start = (Math.floor(Date.now() / 60_000) - 24 * 60) * 60_000;
    const history = Array.from({ length: n }, (_, i) =>
      orderPlaced(
        `evt-${opts.seed}-${i}`,
        DEFAULT_ITEMS,
        new Date(start + Math.floor((i * HISTORY_MINUTES * 60_000) / n)),
      ),
    );
    await produceRaw(kafkaClient(impl.whiteBox().endpoints.kafka), TOPICS.orders, history.map(toMessage));
    // The replay experiment, on this stack, without the duplicates it also checks.
    const { data } = await runExperiment(replayExperiment, impl, {
      seedCount: 0,
      duplicates: 0,
      replayInAnotherMinute: !opts.quick,
      onProgress: opts.log,
    });
    const perMinute = (m: typeof data.before) => (m?.orders_per_minute ?? {}) as Record<string, number>;
    const replay = { before: perMinute(data.before), after: perMinute(data.after) };
    const own = countBy(history, (e) => minuteOf(e.createdAt));
    const read = added(m0.orders_per_minute, replay.before);
    const wrong = minutesThatDiffer(own, read);
    const moved = minutesThatDiffer(replay.before, replay.after);
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
    await impl.close();
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
