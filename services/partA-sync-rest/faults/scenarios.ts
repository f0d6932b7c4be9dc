// Part A under a slow and failing inventory, and under hostile input. The synchronous chain
// cannot hide a bad dependency, but it can stay bounded: no order held past its deadline, no
// reserve done twice by a retry, no pile-up of requests in flight.
import { inject } from "../experiments/latency.js";
import { burst, openPartAStack } from "./stack.js";
import { fuzzEndpoint, type FuzzResult } from "../../harness/fuzz.js";
import { hostileBody, hostileQuery } from "../../harness/hostile.js";
import { verdictOf, type ScenarioOptions, type ScenarioResult } from "../../harness/verdict.js";

/** What the scenarios start the order service with; the invariants read the policy it then declares. */
const ORDER_ENV = { MAX_IN_FLIGHT: "32", ORDER_DEADLINE_MS: "6000" };

export async function slowAndFailingDependency(opts: ScenarioOptions): Promise<ScenarioResult> {
  const impl = await openPartAStack(opts, "A-slow-failing-dependency", ORDER_ENV);
  const delays = opts.quick ? [0, 4] : [0, 0.5, 2, 4];
  const failRates = opts.quick ? [0, 1] : [0, 0.5, 1];
  const concurrency = opts.quick ? 8 : 24;
  const cells: {
    delay_s: number;
    fail_rate: number;
    fail_after_reserve_rate: number;
    concurrency: number;
    statuses: Record<string, number>;
    max_ms: number;
  }[] = [];
  const finalStates: Record<string, number> = {};
  let sent = 0,
    acknowledged = 0,
    lost = 0,
    maxMs = 0,
    timeouts = 0,
    timeoutsRetried = 0;
  try {
    const policy = await impl.policy();
    const grid = delays.flatMap((d) => failRates.map((f) => ({ d, f, after: 0, c: concurrency })));
    // Half the answers lost after the reservation is made: the retries must not reserve again.
    grid.push({ d: 0, f: 0, after: 0.5, c: concurrency });
    grid.push({ d: 1, f: 0, after: 0, c: policy.max_in_flight * 2 }); // a burst past the in-flight limit
    for (const { d, f, after, c } of grid) {
      await inject(impl, d, f);
      await impl.faults.inventoryFailAfterReserveRate(after);
      const answers = await burst(impl, c, "fault");
      // A reserve that timed out is never asked again (the answer says how many attempts it took).
      const timedOut = answers.filter((r) => r.body?.error === "inventory-timeout");
      timeouts += timedOut.length;
      timeoutsRetried += timedOut.filter((r) => (r.body.timings?.reserve_attempts ?? 1) > 1).length;
      const results = answers.map((r) =>
        r.status === 0
          ? { status: "no answer", state: "LOST", ms: r.ms }
          : { status: String(r.status), state: stateOf(r.status, r.body), ms: r.ms },
      );
      const statuses: Record<string, number> = {};
      for (const r of results) {
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        finalStates[r.state] = (finalStates[r.state] ?? 0) + 1;
        if (r.state === "LOST") lost++;
        if (r.status === "200") acknowledged++;
      }
      sent += c;
      const cellMax = Math.max(...results.map((r) => r.ms));
      maxMs = Math.max(maxMs, cellMax);
      cells.push({
        delay_s: d,
        fail_rate: f,
        fail_after_reserve_rate: after,
        concurrency: c,
        statuses,
        max_ms: Math.round(cellMax),
      });
      opts.log(
        `delay ${d} s, fail-rate ${f}, fail-after-reserve ${after}, ${c} concurrent: ${JSON.stringify(statuses)}, slowest ${(cellMax / 1000).toFixed(2)} s`,
      );
    }
    await inject(impl, 0, 0);
    await impl.faults.inventoryFailAfterReserveRate(0);
    const [orderHealth, inventoryHealth] = [(await impl.health("order")).body, (await impl.health("inventory")).body];
    return verdictOf({
      scenario: "A-slow-failing-dependency",
      part: "A",
      seed: opts.seed,
      orders_sent: sent,
      orders_acknowledged: acknowledged,
      final_states: finalStates,
      lost,
      duplicated_effects: inventoryHealth.orders_reserved_twice,
      invariants: [
        {
          check: `no order held past the ${policy.deadline_ms / 1000} s deadline (+0.5 s)`,
          passed: maxMs <= policy.deadline_ms + 500,
          observed: `slowest answer ${(maxMs / 1000).toFixed(2)} s`,
        },
        {
          check: "retries never reserve an order twice",
          passed: inventoryHealth.orders_reserved_twice === 0,
          observed: `${inventoryHealth.reservations} reservations, ${inventoryHealth.orders_reserved_twice} orders reserved twice`,
        },
        {
          check: `in-flight orders stay ≤ ${policy.max_in_flight}`,
          passed: orderHealth.max_in_flight_seen <= policy.max_in_flight,
          observed: `max in flight ${orderHealth.max_in_flight_seen}, ${orderHealth.refused} refused with 503`,
        },
        {
          check: "a reserve that timed out is not asked again",
          passed: timeoutsRetried === 0,
          observed: `${timeoutsRetried} of ${timeouts} timed-out orders asked inventory again`,
        },
        { check: "every request got an answer", passed: lost === 0, observed: `${lost} without an answer` },
      ],
      details: { cells },
    });
  } finally {
    await impl.close();
  }
}

const stateOf = (status: number, body: any): string =>
  status === 200
    ? "CONFIRMED"
    : status === 503
      ? "REFUSED"
      : body?.status === "RESERVED"
        ? "RESERVED-UNNOTIFIED"
        : "FAILED";

export async function badInput(opts: ScenarioOptions): Promise<ScenarioResult> {
  const impl = await openPartAStack(opts, "A-bad-input", ORDER_ENV);
  const { order, inventory, notification } = impl.endpoints;
  const runs = opts.quick ? 60 : 500;
  const targets = [
    { name: "POST /order", method: "POST" as const, url: `${order}/order`, input: hostileBody(["order"]) },
    {
      name: "POST /reserve",
      method: "POST" as const,
      url: `${inventory}/reserve`,
      input: hostileBody(["order_id", "order"]),
    },
    {
      name: "POST /send",
      method: "POST" as const,
      url: `${notification}/send`,
      input: hostileBody(["order_id", "reservation_id"]),
    },
    {
      name: "GET /set-delay-time",
      method: "GET" as const,
      url: `${inventory}/set-delay-time`,
      input: hostileQuery("delay-time"),
    },
    {
      name: "GET /set-fail-rate",
      method: "GET" as const,
      url: `${inventory}/set-fail-rate`,
      input: hostileQuery("fail-rate"),
    },
    {
      name: "GET /set-fail-after-reserve-rate",
      method: "GET" as const,
      url: `${inventory}/set-fail-after-reserve-rate`,
      input: hostileQuery("fail-after-reserve-rate"),
    },
  ];
  try {
    const results: FuzzResult[] = [];
    for (const t of targets) {
      const r = await fuzzEndpoint(t, runs, opts.seed);
      results.push(r);
      opts.log(`${t.name}: ${r.requests} hostile requests → ${JSON.stringify(r.by_status)}`);
      await inject(impl, 0, 0); // the set-* fuzzing may have left a valid delay behind
      await impl.faults.inventoryFailAfterReserveRate(0);
    }
    const good = await impl.placeOrder({ order: "a good one after the storm" });
    const services = ["order", "inventory", "notification"] as const;
    const alive = (await Promise.all(services.map((s) => impl.health(s)))).every((h) => h.status === 200);
    const sent = results.reduce((n, r) => n + r.requests, 0);
    const failures = results.flatMap((r) => r.failures.map((f) => ({ target: r.target, ...f })));
    return verdictOf({
      scenario: "A-bad-input",
      part: "A",
      seed: opts.seed,
      orders_sent: sent,
      orders_acknowledged: results.reduce(
        (n, r) =>
          n +
          Object.entries(r.by_status)
            .filter(([s]) => s.startsWith("2"))
            .reduce((m, [, c]) => m + c, 0),
        0,
      ),
      final_states: results.reduce<Record<string, number>>((acc, r) => {
        for (const [s, c] of Object.entries(r.by_status)) acc[`HTTP ${s}`] = (acc[`HTTP ${s}`] ?? 0) + c;
        return acc;
      }, {}),
      lost: 0,
      duplicated_effects: 0,
      invariants: [
        {
          check: "no 5xx and no dropped connection",
          passed: failures.filter((f) => typeof f.status === "string" || f.status >= 500).length === 0,
          observed: `${failures.length} bad answers`,
        },
        {
          check: "every 4xx says what was wrong",
          passed: results.every((r) => r.unclear === 0),
          observed: `${results.reduce((n, r) => n + r.unclear, 0)} unclear`,
        },
        { check: "every service still runs", passed: alive, observed: alive ? "all alive" : "a service died" },
        { check: "the next good order is confirmed", passed: good.status === 200, observed: `HTTP ${good.status}` },
      ],
      details: { per_endpoint: results.map(({ failures: f, ...rest }) => ({ ...rest, failures: f.slice(0, 5) })) },
    });
  } finally {
    await impl.close();
  }
}
