// Part C under hostile input: generated malformed events appended straight to both topics, then
// generated requests against every HTTP endpoint. Every unreadable order goes to orders.dlq with
// its reason and is skipped by analytics; every unreadable answer is skipped by analytics; what
// happened to be valid is counted exactly as one delivery of it would be; every request gets a
// clear 4xx (or succeeds); no consumer stops; and a good order afterwards is answered and counted.
import fc from "fast-check";
import { labPartC } from "../lab/implementation.js";
import { waitUntil } from "../../common/wait.js";
import { parseEvent } from "../events.js";
import { MetricsView } from "../metrics.js";
import { MAX_LOAD_COUNT } from "../produce-orders.js";
import { reserve } from "../reserve.js";
import { TOPICS } from "../topics.js";
import { fuzzEndpoint, type FuzzResult, type FuzzTarget } from "../../harness/fuzz.js";
import {
  anyJson,
  hostileBody,
  hostileMessage,
  hostilePathSegment,
  hostileQuery,
  nastyString,
} from "../../harness/hostile.js";
import { endOffsets, kafkaClient, produceRaw, TopicTap, total } from "../lab/kafka-tap.js";
import type { ScenarioOptions } from "../../harness/verdict.js";
import { allAlive, openStack } from "../../harness/stack.js";
import type { Check } from "../../harness/check.js";
import { verdictOf, type ScenarioResult } from "../../harness/verdict.js";

const FAIL_RATE = 0.2;
const id = nastyString.filter((s) => s.length > 0 && s.length <= 150);
const sku = fc.oneof(
  nastyString.filter((s) => s.length > 0 && s.length <= 100),
  fc.constantFrom("burrito", "__proto__", "constructor"),
);
/** Mostly valid item lists with hostile skus (so inventory and analytics handle them), sometimes out of range. */
const items = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.array(fc.record({ sku, qty: fc.integer({ min: 1, max: 1000 }) }), { minLength: 1, maxLength: 100 }),
  },
  {
    weight: 1,
    arbitrary: fc.array(fc.record({ sku: id, qty: fc.integer({ min: -5, max: 2000 }) }), { maxLength: 120 }),
  },
);
const createdAt = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      new Date(0).toISOString(),
      "2024-02-29T23:59:59.999Z",
      "2024-01-01T00:00",
      "+275760-09-13T00:00:00.000Z",
      "Tue, 1 Jan 2019 00:00:00 GMT",
    ),
  },
  { weight: 1, arbitrary: fc.oneof(nastyString, fc.constant("2024-02-30T25:61:00Z")) },
);

/** Events with the right fields and hostile contents (some valid); eventIds carry the run's tag so they are new to analytics. */
function nearlyValid(tag: string) {
  const eventId = id.map((s) => `${tag}:${s}`);
  return {
    order: fc.record({ eventId, eventType: fc.constant("OrderPlaced"), orderId: id, items, createdAt }),
    answer: fc.record(
      {
        eventId,
        eventType: fc.constantFrom("InventoryReserved", "InventoryFailed", "OrderPlaced"),
        orderId: id,
        orderEventId: id,
        items,
        createdAt,
        reason: nastyString,
      },
      { requiredKeys: ["eventId", "eventType", "orderId", "orderEventId", "items", "createdAt"] },
    ),
  };
}

const message = (body: fc.Arbitrary<Buffer>) =>
  fc.record({
    key: fc.oneof(fc.constant(null), nastyString),
    value: body.map((b) => (b.length === 0 ? null : b)), // an empty message is a tombstone: no value at all
    headers: fc.oneof(
      fc.constant(undefined),
      fc.dictionary(fc.constantFrom("eventType", "reason", "x"), nastyString, { maxKeys: 2 }),
    ),
  });

/**
 * Each generated event's eventId made its own (the message's number after the tag): an eventId
 * reused for different content is counted first-read-wins, which a replay need not reproduce.
 */
const numbered =
  (tag: string, kind: string) =>
  (m: { key: string | null; value: Buffer | null; headers?: Record<string, string> }, i: number) => {
    try {
      const v = JSON.parse(m.value?.toString("utf8") ?? "");
      if (typeof v?.eventId === "string" && v.eventId.startsWith(`${tag}:`)) {
        v.eventId = `${tag}:${kind}${i}:${v.eventId.slice(tag.length + 1)}`;
        return { ...m, value: Buffer.from(JSON.stringify(v)) };
      }
    } catch {
      // not JSON: nothing to number
    }
    return m;
  };

/**
 * Load-test bodies: hostile counts, and hostile bodies of any shape — but never a valid request
 * for a big load (a body without `count` asks for the default 10,000): that is not hostile, only slow.
 */
const countValue = fc.oneof(
  nastyString,
  anyJson.filter((v) => typeof v !== "number"),
  fc.constantFrom(-1, 0, 1.5, 1e308, -1e308, 2 ** 53 + 1, MAX_LOAD_COUNT + 1, 1e9, "10", "1e3", true, null, [], {}),
  fc.integer({ min: MAX_LOAD_COUNT + 1 }),
  fc.integer({ max: 0 }),
  fc.double({ noInteger: true }),
  fc.integer({ min: 1, max: 20 }),
);
const cheap = (b: { text: string; contentType: string }): boolean => {
  if (b.contentType !== "application/json" || b.text.length > 64 * 1024) return true;
  try {
    const v = JSON.parse(b.text);
    if (v === null || typeof v !== "object" || Array.isArray(v)) return true;
    return "count" in v && !(Number.isInteger(v.count) && v.count > 20 && v.count <= MAX_LOAD_COUNT);
  } catch {
    return true;
  }
};
const loadTestBody = fc.oneof(
  fc
    .tuple(countValue, fc.dictionary(fc.string({ maxLength: 10 }), anyJson, { maxKeys: 3 }))
    .map(([count, extra]) => ({ text: JSON.stringify({ ...extra, count }), contentType: "application/json" })),
  hostileBody(["count"]).filter(cheap),
);

export async function badInput(opts: ScenarioOptions): Promise<ScenarioResult> {
  const runs = opts.quick ? 30 : 300;
  const perTopic = opts.quick ? 30 : 200;
  const stack = await openStack("partC", opts, "C-bad-input", {
    INVENTORY_FAIL_RATE: String(FAIL_RATE),
    FAIL_SEED: String(opts.seed),
  });
  const impl = labPartC(stack.running, stack.lab);
  const own = impl.whiteBox();
  const urls = own.endpoints;
  const kafka = kafkaClient(urls.kafka);
  let dlqTap: TopicTap | undefined;
  try {
    // 1. Events: generated messages appended to both topics.
    const m0 = await own.waitForQuiet();
    const inv0 = await own.stats("inventory");
    const ordersEnd = await endOffsets(kafka, TOPICS.orders);
    dlqTap = await TopicTap.open(kafka, TOPICS.ordersDeadLetter);
    const tag = `fz${opts.seed}-${total(ordersEnd)}`; // new eventIds, the same for the same seed on the same log
    const shapes = nearlyValid(tag);
    const onOrders = fc
      .sample(message(hostileMessage(["eventId", "orderId", "items", "createdAt"], shapes.order)), {
        numRuns: perTopic,
        seed: opts.seed,
      })
      .map(numbered(tag, "o"));
    const onAnswers = fc
      .sample(message(hostileMessage(["eventId", "orderId", "orderEventId", "items"], shapes.answer)), {
        numRuns: perTopic,
        seed: opts.seed + 1,
      })
      .map(numbered(tag, "a"));

    // What one delivery of these would do, by the services' own rules.
    const expected = new MetricsView();
    let badOrders = 0;
    let badAnswers = 0;
    for (const m of onOrders) {
      const p = parseEvent(m.value, ["OrderPlaced"] as const);
      if (!p.ok) badOrders++;
      else if (expected.apply(p.event)) expected.apply(reserve(p.event, { failRate: FAIL_RATE, seed: opts.seed }));
    }
    for (const m of onAnswers) {
      const p = parseEvent(m.value, ["InventoryReserved", "InventoryFailed"] as const);
      if (!p.ok) badAnswers++;
      else expected.apply(p.event);
    }
    await produceRaw(kafka, TOPICS.orders, onOrders);
    await produceRaw(kafka, TOPICS.inventoryEvents, onAnswers);
    opts.log(
      `${onOrders.length + onAnswers.length} hostile events appended: ${badOrders} unreadable orders, ${badAnswers} unreadable answers`,
    );
    const m1 = await own
      .waitForMetrics(
        (m) => m.unreadable_skipped - m0.unreadable_skipped >= badOrders + badAnswers,
        "analytics to skip every unreadable event",
        60_000,
      )
      .catch(() => undefined);
    const q1 = await own.waitForQuiet(120_000);
    await waitUntil(
      () => dlqTap!.messages.length >= badOrders,
      "orders.dlq to receive every unreadable order",
      30_000,
      100,
    ).catch(() => {});
    const inv1 = await own.stats("inventory");
    const e = expected.metrics();
    const got = {
      orders: q1.total_orders - m0.total_orders,
      answers: q1.total_reservations - m0.total_reservations,
      failed: q1.failed_reservations - m0.failed_reservations,
      unreadable: q1.unreadable_skipped - m0.unreadable_skipped,
      dead_lettered: inv1.dead_lettered - inv0.dead_lettered,
    };
    const dlq = dlqTap.messages;
    const withReason = dlq.filter((d) => d.headers.reason && d.headers["source-topic"] === TOPICS.orders);
    opts.log(
      `analytics: +${got.orders} orders, +${got.answers} answers, ${got.unreadable} unreadable skipped; orders.dlq +${dlq.length}${m1 ? "" : " (analytics did not skip them all)"}`,
    );

    // 2. HTTP: every endpoint of the three services.
    const { producer, analytics, inventory } = stack.running.services;
    const targets: FuzzTarget[] = [
      {
        name: "producer POST /produce",
        method: "POST",
        url: `${producer.url}/produce`,
        // Hostile bodies, and bodies of the right shape with hostile contents (produced, answered, counted).
        input: fc.oneof(
          hostileBody(["orderId", "items", "eventId"]),
          fc
            .record({ orderId: id, items }, { requiredKeys: [] })
            .map((v) => ({ text: JSON.stringify(v), contentType: "application/json" })),
        ),
      },
      { name: "producer POST /load-test", method: "POST", url: `${producer.url}/load-test`, input: loadTestBody },
      {
        name: "analytics POST /replay",
        method: "POST",
        url: `${analytics.url}/replay`,
        input: hostileBody(["from", "group"]),
      },
      { name: "analytics POST /report", method: "POST", url: `${analytics.url}/report`, input: hostileBody(["label"]) },
      { name: "analytics GET /metrics", method: "GET", url: `${analytics.url}/metrics`, input: hostileQuery("minute") },
      { name: "analytics GET /lag", method: "GET", url: `${analytics.url}/lag`, input: hostileQuery("group") },
      { name: "inventory GET /health", method: "GET", url: `${inventory.url}/health`, input: hostileQuery("verbose") },
      ...Object.entries(stack.running.services).map(([n, svc]): FuzzTarget => ({
        name: `${n} GET /<anything>`,
        method: "GET",
        url: svc.url,
        input: hostilePathSegment,
        inPath: true,
      })),
    ];
    const http: FuzzResult[] = [];
    for (const t of targets) {
      const r = await fuzzEndpoint(t, t.name.includes("/replay") ? Math.ceil(runs / 3) : runs, opts.seed);
      http.push(r);
      opts.log(`${t.name}: ${r.requests} hostile requests → ${JSON.stringify(r.by_status)}`);
    }

    // 3. The next good order, answered and counted.
    const q2 = await own.waitForQuiet(180_000);
    const good = await impl.placeOrder({ orderId: `after-the-storm-${tag}` });
    const q3 = await own.waitForQuiet(60_000).catch(() => q2);
    const goodCounted = q3.total_orders === q2.total_orders + 1 && q3.total_reservations === q2.total_reservations + 1;
    const groups = await own.lag();
    // What the fuzzing got produced (200s), the consumers could read: none dead-lettered, none skipped.
    const invHttp = (await own.stats("inventory")).dead_lettered - inv1.dead_lettered;
    const skippedHttp = q2.unreadable_skipped - q1.unreadable_skipped;

    const failures = http.flatMap((r) => r.failures.map((f) => ({ target: r.target, ...f })));
    const serverErrors = failures.filter((f) => typeof f.status === "string" || Number(f.status) >= 500);
    const unclear = http.reduce((n, r) => n + r.unclear, 0);
    const alive = allAlive(stack);
    const invariants: Check[] = [
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
          got.orders === e.total_orders && got.answers === e.total_reservations && got.failed === e.failed_reservations,
        observed: `orders +${got.orders}/${e.total_orders}, answers +${got.answers}/${e.total_reservations}, failed +${got.failed}/${e.failed_reservations}`,
      },
      {
        check: "HTTP: no 5xx and no dropped connection",
        passed: serverErrors.length === 0,
        observed: `${serverErrors.length} of ${http.reduce((n, r) => n + r.requests, 0)} requests`,
      },
      { check: "HTTP: every 4xx says what was wrong", passed: unclear === 0, observed: `${unclear} unclear` },
      {
        check: "HTTP: every event produced (200) was read by the consumers, none dead-lettered",
        passed: invHttp === 0 && skippedHttp === 0,
        observed: `${http.reduce((n, r) => n + (r.target.startsWith("producer POST") ? (r.by_status["200"] ?? 0) : 0), 0)} produced; ${invHttp} dead-lettered by inventory, ${skippedHttp} skipped by analytics`,
      },
      {
        check: "no consumer stopped: both groups Stable with one member",
        passed: alive && groups.every((g) => g.state === "Stable" && g.members === 1),
        observed: `${alive ? "all processes alive" : "a service died"}; ${groups.map((g) => `${g.group} ${g.state} ×${g.members}`).join(", ")}`,
      },
      {
        check: "the next good order is produced, answered and counted",
        passed: good.status === 200 && goodCounted,
        observed: good.status === 200 ? (goodCounted ? "counted" : "not counted") : `HTTP ${good.status}`,
      },
    ];
    const statuses: Record<string, number> = {};
    for (const r of http)
      for (const [k, c] of Object.entries(r.by_status)) statuses[`HTTP ${k}`] = (statuses[`HTTP ${k}`] ?? 0) + c;
    const sentEvents = onOrders.length + onAnswers.length;
    const unreadable = badOrders + badAnswers;
    return verdictOf({
      scenario: "C-bad-input",
      part: "C",
      seed: opts.seed,
      orders_sent: http.reduce((n, r) => n + r.requests, 0) + sentEvents,
      orders_acknowledged:
        Object.entries(statuses)
          .filter(([k]) => k.startsWith("HTTP 2"))
          .reduce((n, [, c]) => n + c, 0) +
        (sentEvents - unreadable),
      final_states: {
        ...statuses,
        "event dead-lettered / skipped": got.unreadable,
        "event counted": sentEvents - unreadable,
      },
      lost: Math.max(0, unreadable - got.unreadable) + Math.max(0, badOrders - dlq.length),
      duplicated_effects: Math.max(0, got.orders - e.total_orders) + Math.max(0, got.answers - e.total_reservations),
      invariants,
      details: {
        per_endpoint: http.map(({ failures: f, ...rest }) => ({ ...rest, failures: f.slice(0, 5) })),
        events: {
          orders: onOrders.length,
          answers: onAnswers.length,
          unreadable_orders: badOrders,
          unreadable_answers: badAnswers,
          expected: e,
          got,
        },
        dlq_reasons: withReason.slice(0, 5).map((d) => d.headers.reason),
      },
    });
  } finally {
    await dlqTap?.close();
    await stack.release();
  }
}
