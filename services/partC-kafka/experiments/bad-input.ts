// Part C's bad-input experiment: generated malformed events appended straight to both topics, then
// generated requests against every HTTP endpoint. Every unreadable order goes to orders.dlq with
// its reason and is skipped by analytics; every unreadable answer is skipped by analytics; what
// happened to be valid is counted exactly as one delivery of it would be; every request gets a
// clear 4xx (or succeeds); no consumer stops; and a good order afterwards is answered and counted.
import fc from "fast-check";
import { waitUntil } from "../../common/wait.js";
import type { AnalyticsMetrics } from "../lab/client.js";
import { parseEvent } from "../events.js";
import { MetricsView } from "../metrics.js";
import { reserve } from "../reserve.js";
import { TOPICS } from "../topics.js";
import type { Check } from "../../harness/judge/check.js";
import type { Experiment, Run } from "../../harness/judge/experiment.js";
import { fuzzEndpoint, type FuzzResult, type FuzzTarget } from "../../harness/measure/fuzz.js";
import { hostileBody, hostileMessage, hostilePathSegment, hostileQuery } from "../../harness/measure/hostile.js";
import { allAlive } from "../../harness/run/stack.js";
import { endOffsets, produceRaw, TopicTap, total } from "../lab/kafka-tap.js";
import type { PartC } from "../lab/implementation.js";
import { id, items, loadTestBody, message, nearlyValid, numbered } from "./hostile-input.js";
import { FAIL_RATE, type SeededOptions } from "./seeded.js";

interface BadInputRun extends Run<PartC, SeededOptions> {
  tag: string;
  m0?: AnalyticsMetrics;
  q1?: AnalyticsMetrics;
  inv0: number;
  inv1: number;
  dlqTap?: TopicTap;
  events: { sent: number; badOrders: number; badAnswers: number; expected?: ReturnType<MetricsView["metrics"]> };
  http: FuzzResult[];
  after: { good: number; counted: boolean; invHttp: number; skippedHttp: number; groups: string; stable: boolean };
}

const deadLettered = async (r: BadInputRun) => (await r.impl.whiteBox().stats("inventory")).dead_lettered as number;

/** Generated messages appended to both topics; what one delivery of them would do, by the services' own rules. */
async function appendEvents(r: BadInputRun): Promise<void> {
  const own = r.impl.whiteBox();
  const w = await r.impl.kafka();
  const seed = r.opts.seed;
  r.m0 = await own.waitForQuiet();
  r.inv0 = await deadLettered(r);
  r.dlqTap = await TopicTap.open(w.kafka, TOPICS.ordersDeadLetter);
  r.tag = `fz${seed}-${total(await endOffsets(w.kafka, w.topics.orders))}`; // new eventIds, the same for the seed on the same log
  const shapes = nearlyValid(r.tag);
  const sample = (fields: string[], shape: fc.Arbitrary<unknown>, s: number, kind: string) =>
    fc
      .sample(message(hostileMessage(fields, shape)), { numRuns: r.opts.quick ? 30 : 200, seed: s })
      .map(numbered(r.tag, kind));
  const onOrders = sample(["eventId", "orderId", "items", "createdAt"], shapes.order, seed, "o");
  const onAnswers = sample(["eventId", "orderId", "orderEventId", "items"], shapes.answer, seed + 1, "a");
  const expected = new MetricsView();
  let [badOrders, badAnswers] = [0, 0];
  for (const m of onOrders) {
    const p = parseEvent(m.value, ["OrderPlaced"] as const);
    if (!p.ok) badOrders++;
    else if (expected.apply(p.event)) expected.apply(reserve(p.event, { failRate: FAIL_RATE, seed }));
  }
  for (const m of onAnswers) {
    const p = parseEvent(m.value, ["InventoryReserved", "InventoryFailed"] as const);
    if (!p.ok) badAnswers++;
    else expected.apply(p.event);
  }
  await produceRaw(w.kafka, w.topics.orders, onOrders);
  await produceRaw(w.kafka, w.topics.inventory_events, onAnswers);
  r.events = { sent: onOrders.length + onAnswers.length, badOrders, badAnswers, expected: expected.metrics() };
  r.progress(
    `${r.events.sent} hostile events appended: ${badOrders} unreadable orders, ${badAnswers} unreadable answers`,
  );
}

async function readTheEvents(r: BadInputRun): Promise<void> {
  const own = r.impl.whiteBox();
  const { badOrders, badAnswers } = r.events;
  const skipped = (m: AnalyticsMetrics) => m.unreadable_skipped - r.m0!.unreadable_skipped >= badOrders + badAnswers;
  await own.waitForMetrics(skipped, "analytics to skip every unreadable event", 60_000).catch(() => undefined);
  r.q1 = await own.waitForQuiet(120_000);
  const dlq = () => r.dlqTap!.messages.length >= badOrders;
  await waitUntil(dlq, "orders.dlq to receive every unreadable order", 30_000, 100).catch(() => {});
  r.inv1 = await deadLettered(r);
}

/** Every endpoint of the three services, with hostile requests. */
async function fuzzHttp(r: BadInputRun): Promise<void> {
  const { producer, analytics, inventory } = r.impl.whiteBox().endpoints;
  const runs = r.opts.quick ? 30 : 300;
  const targets: FuzzTarget[] = [
    {
      name: "producer POST /produce",
      method: "POST",
      url: `${producer}/produce`,
      // Hostile bodies, and bodies of the right shape with hostile contents (produced, answered, counted).
      input: fc.oneof(
        hostileBody(["orderId", "items", "eventId"]),
        fc
          .record({ orderId: id, items }, { requiredKeys: [] })
          .map((v) => ({ text: JSON.stringify(v), contentType: "application/json" })),
      ),
    },
    { name: "producer POST /load-test", method: "POST", url: `${producer}/load-test`, input: loadTestBody },
    {
      name: "analytics POST /replay",
      method: "POST",
      url: `${analytics}/replay`,
      input: hostileBody(["from", "group"]),
    },
    { name: "analytics POST /report", method: "POST", url: `${analytics}/report`, input: hostileBody(["label"]) },
    { name: "analytics GET /metrics", method: "GET", url: `${analytics}/metrics`, input: hostileQuery("minute") },
    { name: "analytics GET /lag", method: "GET", url: `${analytics}/lag`, input: hostileQuery("group") },
    { name: "inventory GET /health", method: "GET", url: `${inventory}/health`, input: hostileQuery("verbose") },
    ...Object.entries({ producer, inventory, analytics }).map(([n, url]): FuzzTarget => ({
      name: `${n} GET /<anything>`,
      method: "GET",
      url,
      input: hostilePathSegment,
      inPath: true,
    })),
  ];
  for (const t of targets) {
    const res = await fuzzEndpoint(t, t.name.includes("/replay") ? Math.ceil(runs / 3) : runs, r.opts.seed);
    r.http.push(res);
    r.progress(`${t.name}: ${res.requests} hostile requests → ${JSON.stringify(res.by_status)}`);
  }
}

/** The next good order, answered and counted; what the fuzzing produced read by the consumers. */
async function goodOrder(r: BadInputRun): Promise<void> {
  const own = r.impl.whiteBox();
  const q2 = await own.waitForQuiet(180_000);
  const good = await r.impl.placeOrder({ orderId: `after-the-storm-${r.tag}` });
  const q3 = await own.waitForQuiet(60_000).catch(() => q2);
  const groups = await own.lag();
  r.after = {
    good: good.status,
    counted: q3.total_orders === q2.total_orders + 1 && q3.total_reservations === q2.total_reservations + 1,
    invHttp: (await deadLettered(r)) - r.inv1,
    skippedHttp: q2.unreadable_skipped - r.q1!.unreadable_skipped,
    groups: groups.map((g) => `${g.group} ${g.state} ×${g.members}`).join(", "),
    stable: groups.every((g) => g.state === "Stable" && g.members === 1),
  };
}

/** What analytics and inventory counted of the hostile events. */
const gotOf = (r: BadInputRun) => ({
  orders: r.q1!.total_orders - r.m0!.total_orders,
  answers: r.q1!.total_reservations - r.m0!.total_reservations,
  failed: r.q1!.failed_reservations - r.m0!.failed_reservations,
  unreadable: r.q1!.unreadable_skipped - r.m0!.unreadable_skipped,
  dead_lettered: r.inv1 - r.inv0,
});

function badInputChecks(r: BadInputRun) {
  const { badOrders, badAnswers, expected: e } = r.events;
  const got = gotOf(r);
  const dlq = r.dlqTap!.messages;
  const withReason = dlq.filter((d) => d.headers.reason && d.headers["source-topic"] === TOPICS.orders);
  const failures = r.http.flatMap((h) => h.failures.map((f) => ({ target: h.target, ...f })));
  const serverErrors = failures.filter((f) => typeof f.status === "string" || Number(f.status) >= 500);
  const unclear = r.http.reduce((n, h) => n + h.unclear, 0);
  const requests = r.http.reduce((n, h) => n + h.requests, 0);
  const producedHttp = r.http.reduce(
    (n, h) => n + (h.target.startsWith("producer POST") ? (h.by_status["200"] ?? 0) : 0),
    0,
  );
  const alive = allAlive(r.impl.processes());
  const a = r.after;
  const checks: Check[] = [
    {
      check: "orders: every unreadable event dead-lettered to orders.dlq with its reason",
      passed: got.dead_lettered === badOrders && withReason.length === badOrders && dlq.length === badOrders,
      observed: `${badOrders} unreadable; inventory dead-lettered ${got.dead_lettered}; orders.dlq +${dlq.length}, ${withReason.length} with a reason header`,
    },
    {
      check: "analytics skipped (and counted) every unreadable event of both topics",
      passed: got.unreadable === badOrders + badAnswers,
      observed: `${got.unreadable} skipped for ${badOrders + badAnswers}`,
    },
    {
      check: "the events that happened to be valid were counted as one delivery of them",
      passed:
        got.orders === e!.total_orders &&
        got.answers === e!.total_reservations &&
        got.failed === e!.failed_reservations,
      observed: `orders +${got.orders}/${e!.total_orders}, answers +${got.answers}/${e!.total_reservations}, failed +${got.failed}/${e!.failed_reservations}`,
    },
    {
      check: "HTTP: no 5xx and no dropped connection",
      passed: serverErrors.length === 0,
      observed: `${serverErrors.length} of ${requests} requests`,
    },
    { check: "HTTP: every 4xx says what was wrong", passed: unclear === 0, observed: `${unclear} unclear` },
    {
      check: "HTTP: every event produced (200) was read by the consumers, none dead-lettered",
      passed: a.invHttp === 0 && a.skippedHttp === 0,
      observed: `${producedHttp} produced; ${a.invHttp} dead-lettered by inventory, ${a.skippedHttp} skipped by analytics`,
    },
    {
      check: "no consumer stopped: both groups Stable with one member",
      passed: alive && a.stable,
      observed: `${alive ? "all processes alive" : "a service died"}; ${a.groups}`,
    },
    {
      check: "the next good order is produced, answered and counted",
      passed: a.good === 200 && a.counted,
      observed: a.good === 200 ? (a.counted ? "counted" : "not counted") : `HTTP ${a.good}`,
    },
  ];
  return { checks, got, dlq: dlq.length, requests };
}

export const badInputExperiment: Experiment<PartC, SeededOptions, BadInputRun, Record<string, unknown>> = {
  name: "bad-input",
  part: "partC",
  title: "Part C — bad input: hostile events on both topics, hostile requests on every endpoint",
  lesson: "A consumer skips (or dead-letters) what it cannot read, with the reason, and carries on.",
  needs: ["white-box stats", "processes", "kafka"],
  safeguards: [],
  begin: (run) => ({
    ...run,
    tag: "",
    inv0: 0,
    inv1: 0,
    events: { sent: 0, badOrders: 0, badAnswers: 0 },
    http: [],
    after: { good: 0, counted: false, invHttp: 0, skippedHttp: 0, groups: "", stable: false },
  }),
  steps: [
    { name: "append hostile events to both topics", run: appendEvents },
    { name: "wait for the consumers to read them", run: readTheEvents },
    { name: "hostile requests on every endpoint", run: fuzzHttp },
    { name: "the next good order", run: goodOrder },
  ],
  cleanup: async (r) => void (await r.dlqTap?.close()),
  judge: (r) => {
    const { checks, got, dlq, requests } = badInputChecks(r);
    const { sent, badOrders, badAnswers, expected: e } = r.events;
    const unreadable = badOrders + badAnswers;
    const statuses: Record<string, number> = {};
    for (const h of r.http)
      for (const [k, c] of Object.entries(h.by_status)) statuses[`HTTP ${k}`] = (statuses[`HTTP ${k}`] ?? 0) + c;
    const ok = Object.entries(statuses).filter(([k]) => k.startsWith("HTTP 2"));
    return {
      params: { seed: r.opts.seed, quick: !!r.opts.quick },
      checks,
      figures: {
        "hostile events": sent,
        "unreadable events": unreadable,
        "hostile requests": requests,
        "orders.dlq": dlq,
      },
      tally: {
        sent: requests + sent,
        acknowledged: ok.reduce((n, [, c]) => n + c, 0) + (sent - unreadable),
        final_states: {
          ...statuses,
          "event dead-lettered / skipped": got.unreadable,
          "event counted": sent - unreadable,
        },
        anomalies: {
          lost: Math.max(0, unreadable - got.unreadable) + Math.max(0, badOrders - dlq),
          "counted twice": Math.max(0, got.orders - e!.total_orders) + Math.max(0, got.answers - e!.total_reservations),
        },
      },
      data: {
        events: { ...r.events, got },
        per_endpoint: r.http.map(({ failures: f, ...rest }) => ({ ...rest, failures: f.slice(0, 5) })),
      },
    };
  },
};
