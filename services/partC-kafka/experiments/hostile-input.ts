// The hostile input of Part C's bad-input experiment: events with the contract's fields and
// hostile contents (some valid) for both topics, and hostile load-test bodies.
import fc from "fast-check";
import { MAX_LOAD_COUNT } from "../produce-orders.js";
import { anyJson, hostileBody, nastyString } from "../../harness/measure/hostile.js";

export const id = nastyString.filter((s) => s.length > 0 && s.length <= 150);
const sku = fc.oneof(
  nastyString.filter((s) => s.length > 0 && s.length <= 100),
  fc.constantFrom("burrito", "__proto__", "constructor"),
);
/** Mostly valid item lists with hostile skus (so inventory and analytics handle them), sometimes out of range. */
export const items = fc.oneof(
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
export function nearlyValid(tag: string) {
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

export const message = (body: fc.Arbitrary<Buffer>) =>
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
export const numbered =
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
export const loadTestBody = fc.oneof(
  fc
    .tuple(countValue, fc.dictionary(fc.string({ maxLength: 10 }), anyJson, { maxKeys: 3 }))
    .map(([count, extra]) => ({ text: JSON.stringify({ ...extra, count }), contentType: "application/json" })),
  hostileBody(["count"]).filter(cheap),
);
