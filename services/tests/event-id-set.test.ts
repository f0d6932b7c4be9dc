// Analytics' set of counted eventIds packs UUIDs into a typed array to stay small: it must still
// mean exactly what a Set<string> means, for UUIDs and for any other string an event may carry.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { EventIdSet } from "../partC-kafka/event-id-set.js";

/** Ids near the packed form's edges: UUIDs in either case, the nil UUID, almost-UUIDs, anything. */
const eventId = fc.oneof(
  fc.uuid(),
  fc.uuid().map((u) => u.toUpperCase()),
  fc.constant("00000000-0000-0000-0000-000000000000"),
  fc.uuid().map((u) => u.slice(0, 35) + "g"),
  fc.uuid().map((u) => u.replace(/-/g, "")),
  fc.uuid().map((u) => u.slice(0, 8) + "_" + u.slice(9)),
  fc.string({ maxLength: 40 }),
);

describe("EventIdSet", () => {
  test("answers as a Set<string> would, for any sequence of adds and lookups", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), eventId), { maxLength: 300 }), (ops) => {
        const ids = new EventIdSet();
        const reference = new Set<string>();
        for (const [add, id] of ops) {
          if (add) {
            assert.equal(ids.add(id), !reference.has(id), `add(${JSON.stringify(id)})`);
            reference.add(id);
          } else assert.equal(ids.has(id), reference.has(id), `has(${JSON.stringify(id)})`);
        }
        assert.equal(ids.size, reference.size);
      }),
      { numRuns: 300 },
    );
  });

  test("keeps every id through its growth, and no other", () => {
    const ids = new EventIdSet();
    const added = Array.from({ length: 50_000 }, () => randomUUID());
    for (const id of added) assert.equal(ids.add(id), true);
    assert.equal(ids.size, added.length);
    assert.ok(added.every((id) => ids.has(id)));
    assert.ok(
      added.every((id) => !ids.add(id)),
      "a second add is a duplicate",
    );
    assert.equal(Array.from({ length: 10_000 }, () => randomUUID()).filter((id) => ids.has(id)).length, 0);
  });
});
