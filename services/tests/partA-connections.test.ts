// Part A's connection experiment against the real services: a new TCP connection per call costs
// more per hop than keep-alive, and a name whose first address does not answer makes every hop
// wait at least the connect attempt the scenario sets before it falls back — and the checker says so.
import { test } from "node:test";
import assert from "node:assert/strict";
import { HOPS, runConnectionsExperiment } from "../partA-sync-rest/lab/connections.js";
import { freePortsFor, tempHome } from "./support.js";

test("keep-alive, a new connection per call, an unanswered and a refused first address: per hop", { timeout: 180_000 }, async () => {
  const stallMs = 300;
  const result = await runConnectionsExperiment({ home: tempHome(), ports: await freePortsFor("partA"), requests: 15, stallMs });
  for (const c of result.checks) assert.ok(c.passed, `${c.scenario}: ${c.check} — ${c.observed}`);
  assert.equal(result.order_connections_per_order.keep_alive, 0, "keep-alive reuses the order service's connections");
  assert.equal(result.order_connections_per_order.new_connection, 2, "one new connection per call, two calls per order");
  const hop = (mode: string, h: string) => result.hops.find((x) => x.mode === mode && x.hop === h)!;
  for (const h of HOPS) {
    assert.ok(hop("new_connection", h).min_ms > hop("keep_alive", h).min_ms, `${h}: new connection costs more`);
    const unanswered = result.rows.filter((r) => r.mode === "unanswered_first");
    const waits = unanswered.map((r) => (h === "client → order" ? r.client_ms : h === "order → inventory" ? r.reserve_ms : r.notify_ms));
    assert.ok(Math.min(...waits) >= stallMs - 1, `${h}: every order waited at least the ${stallMs} ms stall (${Math.min(...waits)})`);
    assert.ok(hop("refused_first", h).median_ms < hop("unanswered_first", h).median_ms - stallMs / 2, `${h}: a refused address fails fast here`);
  }
  const stallChecks = result.checks.filter((c) => c.scenario === "unanswered_first" && c.check.includes(`${stallMs} ms connect attempt`));
  assert.equal(stallChecks.length, 3, "the checker states the stall for each hop");
  assert.ok(result.passed);
});
