// Part A under a slow and failing inventory: bursts of orders at once, each with inventory's
// faults set (a delay, a failure rate, answers lost after reserving). The synchronous chain cannot
// hide a bad dependency, but it can stay bounded: no order held past its deadline, no reserve
// done twice by a retry, no reserve asked again after it timed out, no pile-up past the in-flight
// limit. Each of Part A's safeguards keeps one of these at 0: run `without` it, its count shows.
// The limits are the ones the order service declares; the counts of reservations and of orders
// in flight are its white-box counters — a target that declares neither has those checks skipped.
import type { Check } from "../../harness/judge/check.js";
import type { Experiment, ExperimentOptions, Run, Tally } from "../../harness/judge/experiment.js";
import type { Answer } from "../../harness/measure/implementation.js";
import { summarize } from "../../harness/measure/stats.js";
import type { Row } from "../../common/table.js";
import { PARTA_SAFEGUARDS } from "../switches.js";
import { inject } from "./latency.js";
import type { OrderAnswerBody, OrderPolicy, PartAImplementation } from "../lab/implementation.js";

/** One burst: inventory's faults, then this many orders at once (or a multiple of the declared in-flight limit). */
export interface Burst {
  delay_s: number;
  fail_rate?: number;
  fail_after_reserve_rate?: number;
  orders: number | { timesLimit: number };
}

export interface SlowDependencyOptions extends ExperimentOptions {
  /** Default: the fault campaign's grid of delays × failure rates, answers lost after reserving, a burst past the limit. */
  bursts?: Burst[];
}

/** The services' white-box counters: their /health bodies. */
type Counters = Record<"order" | "inventory", Awaited<ReturnType<PartAImplementation["health"]>>["body"]>;

export interface SlowDependencyRun extends Run<PartAImplementation, SlowDependencyOptions> {
  policy?: OrderPolicy;
  before?: Counters;
  after?: Counters;
  placed: Answer<OrderAnswerBody>[];
  bursts: Row[];
}

export interface SlowDependencyData {
  policy?: OrderPolicy;
  bursts: Row[];
}

/** The fault campaign's grid. */
function defaultBursts(quick: boolean): Burst[] {
  const delays = quick ? [0, 4] : [0, 0.5, 2, 4];
  const failRates = quick ? [0, 1] : [0, 0.5, 1];
  const orders = quick ? 8 : 24;
  return [
    ...delays.flatMap((delay_s) => failRates.map((fail_rate) => ({ delay_s, fail_rate, orders }))),
    // Half the answers lost after the reservation is made: the retries must not reserve again.
    { delay_s: 0, fail_after_reserve_rate: 0.5, orders },
    { delay_s: 1, orders: { timesLimit: 2 } }, // a burst past the in-flight limit
  ];
}

const stateOf = (a: Answer<OrderAnswerBody>): string =>
  a.status === 0
    ? "LOST"
    : a.status === 200
      ? "CONFIRMED"
      : a.status === 503
        ? "REFUSED"
        : a.body?.status === "RESERVED"
          ? "RESERVED-UNNOTIFIED"
          : "FAILED";

async function counters(impl: PartAImplementation): Promise<Counters> {
  impl.capabilities.need("white-box stats");
  return { order: (await impl.health("order")).body, inventory: (await impl.health("inventory")).body };
}

/** How many of each: `{"200": 3, "503": 1}`. */
const countBy = <T>(xs: T[], key: (x: T) => string): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const x of xs) counts[key(x)] = (counts[key(x)] ?? 0) + 1;
  return counts;
};

async function runBurst(r: SlowDependencyRun, b: Burst, index: number): Promise<void> {
  const what = `delay ${b.delay_s} s, fail-rate ${b.fail_rate ?? 0}, fail-after-reserve ${b.fail_after_reserve_rate ?? 0}`;
  await r.unless(`burst ${index + 1}: ${what}`, async () => {
    const orders =
      typeof b.orders === "number" ? b.orders : b.orders.timesLimit * (await r.impl.policy()).max_in_flight;
    await inject(r.impl, b.delay_s, b.fail_rate, b.fail_after_reserve_rate);
    const placed = await Promise.all(Array.from({ length: orders }, () => r.impl.placeOrder()));
    r.placed.push(...placed);
    const statuses = countBy(placed, (p) => String(p.status || "no answer"));
    const maxMs = Math.round(Math.max(...placed.map((p) => p.ms)));
    r.bursts.push({ burst: index + 1, ...b, orders, statuses: JSON.stringify(statuses), max_ms: maxMs });
    r.progress(`${what}, ${orders} at once: ${JSON.stringify(statuses)}, slowest ${(maxMs / 1000).toFixed(2)} s`);
  });
}

/** What the run counted: the figures, and the anomalies each safeguard keeps at 0 (those it could observe). */
function count(r: SlowDependencyRun) {
  const p = r.placed;
  const bound = r.policy ? r.policy.deadline_ms + 500 : undefined;
  const timedOut = p.filter((x) => x.body?.error === "inventory-timeout");
  const delta = (k: string) => (r.after && r.before ? r.after.inventory[k] - r.before.inventory[k] : 0);
  const anomalies: Record<string, number> = {
    lost: p.filter((x) => x.status === 0).length,
    timeouts_retried: timedOut.filter((x) => (x.body?.timings?.reserve_attempts ?? 1) > 1).length,
    ...(bound !== undefined ? { past_deadline: p.filter((x) => x.status !== 0 && x.ms > bound).length } : {}),
    ...(r.after ? { reserved_twice: delta("reservations") - delta("orders_reserved") } : {}),
    ...(r.after && r.policy
      ? { held_beyond_limit: Math.max(0, r.after.order.max_in_flight_seen - r.policy.max_in_flight) }
      : {}),
  };
  const wait = summarize(p.map((x) => x.ms));
  const figures: Record<string, number> = {
    orders: p.length,
    confirmed: p.filter((x) => x.status === 200).length,
    refused_503: p.filter((x) => x.status === 503).length,
    timed_out_504: timedOut.length,
    wait_median_ms: Math.round(wait.median),
    wait_max_ms: Math.round(wait.max),
    ...(r.policy ? { deadline_ms: r.policy.deadline_ms, max_in_flight: r.policy.max_in_flight } : {}),
    ...(r.after
      ? {
          max_in_flight_seen: r.after.order.max_in_flight_seen,
          reserve_requests: delta("requests"),
          reservations: delta("reservations"),
          orders_reserved: delta("orders_reserved"),
          answers_lost_after_reserve: delta("failed_after_reserve"),
          // What the orders held cost the order service (RSS is hardly given back: about its peak).
          rss_mb_before: r.before!.order.memory_mb?.rss,
          rss_mb_after: r.after.order.memory_mb?.rss,
        }
      : {}),
  };
  return { anomalies, figures, timedOut: timedOut.length };
}

function checksOf(r: SlowDependencyRun, c: ReturnType<typeof count>): Check[] {
  const { anomalies: a, figures: f } = c;
  const checks: Check[] = [];
  const add = (check: string, passed: boolean, observed: string) => checks.push({ check, passed, observed });
  if (r.policy)
    add(
      `no order held past the ${r.policy.deadline_ms / 1000} s deadline (+0.5 s)`,
      a.past_deadline === 0,
      `${a.past_deadline} past it; slowest answer ${(f.wait_max_ms / 1000).toFixed(2)} s`,
    );
  if (r.after)
    add(
      "retries never reserve an order twice",
      a.reserved_twice === 0,
      `${f.reservations} reservations for ${f.orders_reserved} orders (${f.answers_lost_after_reserve} answers lost after reserving): ${a.reserved_twice} taken twice`,
    );
  if (r.after && r.policy)
    add(
      `in-flight orders stay ≤ ${r.policy.max_in_flight}`,
      a.held_beyond_limit === 0,
      `max in flight ${f.max_in_flight_seen}, ${f.refused_503} refused with 503; order service RSS ${f.rss_mb_before} → ${f.rss_mb_after} MB`,
    );
  add(
    "a reserve that timed out is not asked again",
    a.timeouts_retried === 0,
    `${a.timeouts_retried} of ${c.timedOut} timed-out orders asked inventory again` +
      (r.after ? `; inventory got ${f.reserve_requests} reserve requests for ${f.orders} orders` : ""),
  );
  add("every order got an answer", a.lost === 0, `${a.lost} without an answer`);
  return checks;
}

export const slowDependency: Experiment<
  PartAImplementation,
  SlowDependencyOptions,
  SlowDependencyRun,
  SlowDependencyData
> = {
  name: "slow-dependency",
  part: "partA",
  title: "Part A — a slow and failing inventory",
  lesson:
    "A synchronous chain cannot hide a bad dependency, but timeouts, idempotent retries and a limit keep it bounded.",
  needs: [],
  safeguards: Object.keys(PARTA_SAFEGUARDS),
  begin: (run) => ({ ...run, placed: [], bursts: [] }),
  steps: [
    {
      name: "before",
      run: async (r) => {
        r.policy = await r.unless("the deadline and the in-flight limit (the declared policy)", () => r.impl.policy());
        r.before = await r.unless("reservations and orders in flight (white-box stats)", () => counters(r.impl));
      },
    },
    {
      name: "bursts",
      run: async (r) => {
        for (const [i, b] of (r.opts.bursts ?? defaultBursts(r.opts.quick ?? false)).entries()) await runBurst(r, b, i);
      },
    },
    {
      name: "after",
      run: async (r) => {
        await inject(r.impl);
        if (r.before) r.after = await counters(r.impl);
      },
    },
  ],
  cleanup: (r) => inject(r.impl),
  judge: (r) => {
    const c = count(r);
    const final_states = countBy(r.placed, stateOf);
    const tally: Tally = {
      sent: r.placed.length,
      acknowledged: c.figures.confirmed,
      final_states,
      anomalies: c.anomalies,
    };
    return {
      params: {
        bursts: r.opts.bursts ?? defaultBursts(r.opts.quick ?? false),
        ...(r.policy ? { policy: r.policy } : {}),
      },
      checks: checksOf(r, c),
      figures: c.figures,
      tally,
      data: { policy: r.policy, bursts: r.bursts },
    };
  },
  files: (result) => ({ data: { "bursts.csv": result.data.bursts } }),
};
