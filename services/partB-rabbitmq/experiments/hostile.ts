// Hostile input for Part B's dead-letter experiment (the B-bad-input scenario): generated
// OrderPlaced bodies for its route, each told readable or not by the lab's own decoder, and
// generated requests for the order service's contract endpoints.
import fc from "fast-check";
import { fuzzEndpoint, type FuzzResult, type FuzzTarget } from "../../harness/measure/fuzz.js";
import { hostileBody, hostileMessage, hostilePathSegment, nastyString } from "../../harness/measure/hostile.js";
import { decodeOrderPlaced } from "../events.js";
import type { PartB } from "../lab/implementation.js";

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
/** OrderPlaced that looks right at a glance: the right fields, hostile contents. Some are valid. */
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

export interface HostileMessage {
  body: Buffer;
  message_id?: string;
  /** The lab's own inventory would take it (else: poison, to be dead-lettered). */
  readable: boolean;
}

/** `n` generated bodies for OrderPlaced's route, half of them with a message id. */
export function hostileOrderPlaced(seed: number, n: number): HostileMessage[] {
  const body = hostileMessage(["order_id", "items", "message_id"], nearlyOrderPlaced);
  return fc.sample(fc.tuple(body, fc.boolean()), { numRuns: n, seed }).map(([content, withId], i) => {
    const message_id = withId ? `hostile-${seed}-${i}` : undefined;
    return { body: content, message_id, readable: decodeOrderPlaced({ content, messageId: message_id }).ok };
  });
}

/** Generated requests on POST /order and, where the target gives it, the order status path. */
export async function fuzzOrderService(impl: PartB, runs: number, seed: number): Promise<FuzzResult[]> {
  const order = impl.endpoints.order;
  const path = impl.target.partB?.place_order?.path ?? "/order";
  const asJson = (v: unknown) => ({ text: JSON.stringify(v), contentType: "application/json" });
  const body = fc.oneof(
    hostileBody(["user_id", "restaurant_id", "items"]),
    fc.record({ user_id: id, restaurant_id: id, items }).map(asJson),
  );
  const targets: FuzzTarget[] = [{ name: `order POST ${path}`, method: "POST", url: `${order}${path}`, input: body }];
  const status = impl.target.partB?.order_status;
  if (status?.endsWith("/{id}"))
    targets.push({
      name: `order GET ${status}`,
      method: "GET",
      url: `${order}${status.slice(0, -"/{id}".length)}`,
      input: hostilePathSegment,
      inPath: true,
    });
  const out: FuzzResult[] = [];
  for (const [i, t] of targets.entries()) out.push(await fuzzEndpoint(t, runs, seed + i));
  return out;
}
