// Part B under hostile input: generated requests against every HTTP endpoint of the three
// services, and generated malformed messages published straight onto every route of the
// topology. Every request gets a clear 4xx (or succeeds, if it happened to be valid); every
// message a consumer cannot read is dead-lettered with its reason logged; no handler throws, no
// consumer stops, and a good order placed afterwards is confirmed.
import fs from "node:fs";
import fc from "fast-check";
import { labImplementation } from "../lab/implementation.js";
import { sleep, waitUntil } from "../../common/wait.js";
import { decodeInventoryEvent, decodeOrderPlaced, decodeStatusEvent } from "../events.js";
import { INITIAL_STOCK } from "../reserve.js";
import { EXCHANGES, QUEUES, ROUTING_KEYS } from "../topology.js";
import { fuzzEndpoint, type FuzzResult, type FuzzTarget } from "../../harness/fuzz.js";
import { hostileBody, hostileMessage, hostilePathSegment, hostileQuery, nastyString } from "../../harness/hostile.js";
import type { ScenarioOptions } from "../../harness/verdict.js";
import { allAlive } from "../../harness/stack.js";
import { openPartBStack } from "./stack.js";
import type { Check } from "../../harness/check.js";
import { verdictOf, type ScenarioResult } from "../../harness/verdict.js";

const id = nastyString.filter((s) => s.length > 0 && s.length <= 200);
const sku = fc.oneof(
  nastyString.filter((s) => s.length > 0 && s.length <= 64),
  fc.constantFrom("burger", "pizza", "__proto__", "constructor"),
);
/** Mostly valid item lists and maps with hostile skus (so the reservation itself is exercised), sometimes out of range. */
const items = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.array(fc.record({ sku, qty: fc.integer({ min: 1, max: 1000 }) }), { minLength: 1, maxLength: 50 }),
      fc.dictionary(sku, fc.integer({ min: 1, max: 1000 }), { minKeys: 1, maxKeys: 50 }),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.array(fc.record({ sku: id, qty: fc.integer({ min: -5, max: 2000 }) }), { maxLength: 60 }),
      fc.dictionary(id, fc.integer({ min: -5, max: 2000 }), { maxKeys: 60 }),
    ),
  },
);
/** Events that look right at a glance: the right fields, hostile contents. Some are valid. */
const nearlyOrderPlaced = fc.record(
  {
    event_type: fc.constant("OrderPlaced"),
    event_id: id,
    message_id: id,
    order_id: id,
    user_id: id,
    items,
    timestamp: fc.oneof(nastyString, fc.constant(new Date(0).toISOString())),
  },
  { requiredKeys: ["order_id", "items", "user_id"] },
);
const nearlyStatusEvent = fc.record(
  {
    event_type: fc.constantFrom("InventoryReserved", "InventoryFailed", "UserNotified", "OrderPlaced"),
    event_id: id,
    order_id: id,
    items,
    reason: nastyString,
    notified_at: fc.oneof(nastyString, fc.constant(new Date(0).toISOString())),
    placed_at: nastyString,
  },
  { requiredKeys: ["event_type", "event_id", "order_id", "items", "reason", "notified_at"] },
);

/** Where a hostile message goes, and which consumers read that route, each with the check it applies. */
const ROUTES = [
  {
    exchange: EXCHANGES.orders,
    key: ROUTING_KEYS.orderPlaced,
    body: hostileMessage(["order_id", "items", "message_id"], nearlyOrderPlaced),
    readers: ["inventory"],
  },
  {
    exchange: EXCHANGES.inventory,
    key: ROUTING_KEYS.inventoryReserved,
    body: hostileMessage(["event_type", "order_id", "items"], nearlyStatusEvent),
    readers: ["notification", "order"],
  },
  {
    exchange: EXCHANGES.inventory,
    key: ROUTING_KEYS.inventoryFailed,
    body: hostileMessage(["event_type", "order_id", "reason"], nearlyStatusEvent),
    readers: ["order"],
  },
  {
    exchange: EXCHANGES.notification,
    key: ROUTING_KEYS.userNotified,
    body: hostileMessage(["event_type", "order_id", "notified_at"], nearlyStatusEvent),
    readers: ["order"],
  },
] as const;

type Reader = "inventory" | "notification" | "order";
const READER_QUEUE: Record<Reader, (typeof QUEUES)[keyof typeof QUEUES]> = {
  inventory: QUEUES.orderPlaced,
  notification: QUEUES.notification,
  order: QUEUES.orderStatus,
};

/** Would this consumer accept the message? The services' own decoders say. */
function accepts(reader: Reader, content: Buffer, messageId: string | undefined): boolean {
  const msg = { content, messageId };
  if (reader === "inventory") return decodeOrderPlaced(msg).ok;
  if (reader === "order") return decodeStatusEvent(msg).ok;
  const e = decodeInventoryEvent(msg);
  return e.ok && e.event.event_type === "InventoryReserved";
}

const statusCount = (results: FuzzResult[], status: string): number =>
  results.reduce((n, r) => n + (r.by_status[status] ?? 0), 0);

/** Log lines a service wrote since `from` (bytes), parsed (pino JSON, one per line). */
function logSince(file: string, from: number): Record<string, any>[] {
  const text = fs.readFileSync(file).subarray(from).toString("utf8");
  return text.split("\n").flatMap((line) => {
    try {
      return line.startsWith("{") ? [JSON.parse(line)] : [];
    } catch {
      return [];
    }
  });
}

export async function badInput(opts: ScenarioOptions): Promise<ScenarioResult> {
  const runs = opts.quick ? 40 : 300;
  const perRoute = opts.quick ? 30 : 200;
  const stack = await openPartBStack(opts, "B-bad-input");
  const impl = labImplementation(stack.running, stack.lab);
  const urls = impl.endpoints;
  // The services' own log files: the lab's processes say there why they rejected a message.
  const s = stack.running.services;
  const logFrom = Object.fromEntries(Object.entries(s).map(([n, svc]) => [n, fs.statSync(svc.log).size]));
  const probe = await impl.probe();
  try {
    // 1. HTTP: every endpoint of the three services.
    // Hostile bodies, and bodies of the right shape with hostile contents (accepted, then FAILED by inventory).
    const asJson = (v: unknown) => ({ text: JSON.stringify(v), contentType: "application/json" });
    const orderBody = fc.oneof(
      hostileBody(["user_id", "restaurant_id", "items"]),
      fc.record({ user_id: id, restaurant_id: id, items }).map(asJson),
    );
    const targets: FuzzTarget[] = [
      { name: "order POST /order", method: "POST", url: `${urls.order}/order`, input: orderBody },
      {
        name: "order GET /orders/:id",
        method: "GET",
        url: `${urls.order}/orders`,
        input: hostilePathSegment,
        inPath: true,
      },
      { name: "order GET /orders?status", method: "GET", url: `${urls.order}/orders`, input: hostileQuery("status") },
      { name: "order GET /orders?limit", method: "GET", url: `${urls.order}/orders`, input: hostileQuery("limit") },
      {
        name: "inventory PUT /stock",
        method: "PUT",
        url: `${urls.inventory}/stock`,
        input: hostileBody(Object.keys(INITIAL_STOCK)),
      },
      {
        name: "inventory GET /set-delay-time",
        method: "GET",
        url: `${urls.inventory}/set-delay-time`,
        input: hostileQuery("delay-time"),
      },
      {
        name: "inventory GET /processed/:id",
        method: "GET",
        url: `${urls.inventory}/processed`,
        input: hostilePathSegment,
        inPath: true,
      },
      {
        name: "notification GET /notifications/:id",
        method: "GET",
        url: `${urls.notification}/notifications`,
        input: hostilePathSegment,
        inPath: true,
      },
      ...Object.entries(s).map(([n, svc]): FuzzTarget => ({
        name: `${n} GET /<anything>`,
        method: "GET",
        url: svc.url,
        input: hostilePathSegment,
        inPath: true,
      })),
    ];
    const beforeHttp = await impl.stats("inventory");
    const http: FuzzResult[] = [];
    for (const t of targets) {
      const r = await fuzzEndpoint(t, runs, opts.seed);
      http.push(r);
      opts.log(`${t.name}: ${r.requests} hostile requests → ${JSON.stringify(r.by_status)}`);
    }
    // The fuzzing may have set a valid delay or stock level: back to a working inventory.
    await impl.faults.inventoryDelay(0);
    await impl.faults.stock({ ...INITIAL_STOCK, burger: 1000 });

    // 2. Messages: generated bodies on every route, with and without a message id.
    const before = Object.fromEntries(
      await Promise.all((Object.keys(READER_QUEUE) as Reader[]).map(async (r) => [r, await impl.stats(r)] as const)),
    );
    const dlq0 = Object.fromEntries(
      await Promise.all(
        (Object.keys(READER_QUEUE) as Reader[]).map(
          async (r) => [r, (await probe.queue(READER_QUEUE[r].deadLetter.queue)).messages] as const,
        ),
      ),
    );
    const expected: Record<Reader, { received: number; deadLetters: number; ids: Set<string> }> = {
      inventory: { received: 0, deadLetters: 0, ids: new Set() },
      notification: { received: 0, deadLetters: 0, ids: new Set() },
      order: { received: 0, deadLetters: 0, ids: new Set() },
    };
    let published = 0;
    for (const [r, route] of ROUTES.entries()) {
      const bodies = fc.sample(fc.tuple(route.body, fc.boolean()), { numRuns: perRoute, seed: opts.seed + r });
      for (const [i, [body, withId]] of bodies.entries()) {
        const messageId = withId ? `bad-${opts.seed}-${route.key}-${i}` : undefined;
        await probe.publish(route.exchange, route.key, body, messageId ? { messageId } : {});
        published++;
        for (const reader of route.readers) {
          expected[reader].received++;
          if (!accepts(reader, body, messageId)) {
            expected[reader].deadLetters++;
            if (messageId) expected[reader].ids.add(messageId);
          }
        }
      }
    }
    opts.log(`${published} hostile messages published on ${ROUTES.length} routes`);
    const received = async (r: Reader) => {
      const st = await impl.stats(r);
      return r === "order"
        ? st.status_events + st.dead_lettered - before.order.status_events - before.order.dead_lettered
        : st.received - before[r].received;
    };
    await waitUntil(
      async () => {
        for (const r of Object.keys(expected) as Reader[]) if ((await received(r)) < expected[r].received) return false;
        return true;
      },
      "every consumer to take every hostile message",
      60_000,
      100,
    ).catch(() => {});
    await sleep(500);

    // 3. The next good order, end to end.
    const good = await impl.placeOrder({
      user_id: "u-after-the-storm",
      restaurant_id: "r-faults",
      items: [{ sku: "burger", qty: 1 }],
    });
    const goodFinal = good.body?.order_id
      ? await impl.waitForFinal(good.body.order_id, 30_000).catch(() => undefined)
      : undefined;

    // Every order accepted over HTTP went all the way: none left PLACED because a reader refused its event.
    let open = { PLACED: 0, RESERVED: 0 };
    await waitUntil(
      async () => {
        open = (await impl.orderCounts()).by_status;
        return open.PLACED + open.RESERVED === 0;
      },
      "every accepted order to be final",
      30_000,
      200,
    ).catch(() => {});
    const refusedDownstream = before.inventory.dead_lettered - beforeHttp.dead_lettered;

    // Checks: per consumer, dead letters counted, queued, and each with its reason in the log.
    const perReader = await Promise.all(
      (Object.keys(expected) as Reader[]).map(async (r) => {
        const st = await impl.stats(r);
        const dl = st.dead_lettered - before[r].dead_lettered;
        const dlq = (await probe.queue(READER_QUEUE[r].deadLetter.queue)).messages - dlq0[r];
        const lines = logSince(s[r].log, logFrom[r]);
        const reasons = lines.filter(
          (l) => l.msg?.startsWith("rejected without requeue") && typeof l.reason === "string" && l.reason.length > 0,
        );
        const reasoned = new Set(reasons.map((l) => l.message_id).filter(Boolean));
        const missing = [...expected[r].ids].filter((m) => !reasoned.has(m));
        const threw = lines.filter((l) => l.msg?.startsWith("handling failed")).length;
        const consumers = (await probe.queue(READER_QUEUE[r].name)).consumers;
        return {
          reader: r,
          got: await received(r),
          expected: expected[r],
          dl,
          dlq,
          reasons: reasons.length,
          missing,
          threw,
          consumers,
          recent: st.recent_dead_letters?.slice(-3),
        };
      }),
    );
    const httpFailures = http.flatMap((r) => r.failures.map((f) => ({ target: r.target, ...f })));
    const serverErrors = httpFailures.filter((f) => typeof f.status === "string" || Number(f.status) >= 500);
    const unclear = http.reduce((n, r) => n + r.unclear, 0);
    const alive = allAlive(stack);
    const invariants: Check[] = [
      {
        check: "HTTP: no 5xx and no dropped connection",
        passed: serverErrors.length === 0,
        observed: `${serverErrors.length} of ${http.reduce((n, r) => n + r.requests, 0)} requests`,
      },
      { check: "HTTP: every 4xx says what was wrong", passed: unclear === 0, observed: `${unclear} unclear` },
      {
        check: "HTTP: every order accepted (202) reached a final state, none refused by a reader downstream",
        passed: open.PLACED + open.RESERVED === 0 && refusedDownstream === 0,
        observed: `${statusCount(http, "202")} accepted; ${open.PLACED} PLACED and ${open.RESERVED} RESERVED left; ${refusedDownstream} OrderPlaced dead-lettered by inventory`,
      },
      ...perReader.map((p) => ({
        check: `${READER_QUEUE[p.reader].name}: every unreadable message dead-lettered with its reason`,
        passed:
          p.dl === p.expected.deadLetters &&
          p.dlq === p.expected.deadLetters &&
          p.missing.length === 0 &&
          p.reasons >= p.expected.deadLetters,
        observed: `${p.expected.received} taken of which ${p.expected.deadLetters} unreadable; dead-lettered ${p.dl}, +${p.dlq} in ${READER_QUEUE[p.reader].deadLetter.queue}, ${p.reasons} reasons logged${p.missing.length ? `, ${p.missing.length} without a reason` : ""}`,
      })),
      {
        check: "no handler threw, every consumer still subscribed",
        passed: perReader.every((p) => p.threw === 0 && p.consumers >= 1),
        observed: perReader.map((p) => `${p.reader}: ${p.threw} thrown, ${p.consumers} consumer(s)`).join("; "),
      },
      { check: "every service still runs", passed: alive, observed: alive ? "all alive" : "a service died" },
      {
        check: "the next good order is confirmed",
        passed: goodFinal?.status === "CONFIRMED",
        observed: `HTTP ${good.status}, ${goodFinal?.status ?? "not final"}`,
      },
    ];
    const lost = perReader.reduce((n, p) => n + Math.max(0, p.expected.received - p.got), 0);
    const statuses: Record<string, number> = {};
    for (const r of http)
      for (const [k, c] of Object.entries(r.by_status)) statuses[`HTTP ${k}`] = (statuses[`HTTP ${k}`] ?? 0) + c;
    const deadLettered = perReader.reduce((n, p) => n + p.dl, 0);
    const consumed = perReader.reduce((n, p) => n + p.got, 0);
    return verdictOf({
      scenario: "B-bad-input",
      part: "B",
      seed: opts.seed,
      orders_sent: http.reduce((n, r) => n + r.requests, 0) + published,
      orders_acknowledged:
        Object.entries(statuses)
          .filter(([k]) => k.startsWith("HTTP 2"))
          .reduce((n, [, c]) => n + c, 0) +
        (consumed - deadLettered),
      final_states: { ...statuses, "message dead-lettered": deadLettered, "message handled": consumed - deadLettered },
      lost,
      duplicated_effects: 0,
      invariants,
      details: {
        per_endpoint: http.map(({ failures, ...rest }) => ({ ...rest, failures: failures.slice(0, 5) })),
        per_consumer: perReader.map((p) => ({
          ...p,
          expected: { received: p.expected.received, dead_letters: p.expected.deadLetters },
          missing: p.missing.slice(0, 5),
        })),
      },
    });
  } finally {
    await probe.close();
    await stack.release();
  }
}
