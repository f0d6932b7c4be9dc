// Part A's connection experiment against the real services: a new TCP connection per call pays a
// connection set-up on every hop that keep-alive does not, and a name whose first address does not answer makes every hop
// wait at least the connect attempt the scenario sets before it falls back — and the checker says so.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connections, HOPS } from "../partA-sync-rest/experiments/connections.js";
import { withPartA } from "../partA-sync-rest/lab/implementation.js";
import { runExperiment } from "../harness/judge/experiment.js";
import { LAB_TARGET_FILE, loadTarget } from "../harness/judge/target.js";
import { freePortsFor, tempHome } from "./support.js";

test(
  "keep-alive, a new connection per call, an unanswered and a refused first address: per hop",
  { timeout: 180_000 },
  async () => {
    const stallMs = 300;
    const opened = { home: tempHome(), ports: await freePortsFor("partA") };
    const run = await withPartA(loadTarget(LAB_TARGET_FILE), opened, (impl) =>
      runExperiment(connections, impl, { requests: 15, stallMs }),
    );
    const result = { ...run, ...run.data };
    for (const c of result.checks) assert.ok(c.passed, `${c.scenario}: ${c.check} — ${c.observed}`);
    assert.equal(result.order_connections_per_order.keep_alive, 0, "keep-alive reuses the order service's connections");
    assert.equal(
      result.order_connections_per_order.new_connection,
      2,
      "one new connection per call, two calls per order",
    );
    const hop = (mode: string, h: string) => result.hops.find((x) => x.mode === mode && x.hop === h)!;
    for (const h of HOPS) {
      const unanswered = result.rows.filter((r) => r.mode === "unanswered_first");
      const waits = unanswered.map((r) =>
        h === "client → order" ? r.client_ms : h === "order → inventory" ? r.reserve_ms : r.notify_ms,
      );
      assert.ok(
        Math.min(...waits) >= stallMs - 1,
        `${h}: every order waited at least the ${stallMs} ms stall (${Math.min(...waits)})`,
      );
      assert.ok(
        hop("refused_first", h).median_ms < hop("unanswered_first", h).median_ms - stallMs / 2,
        `${h}: a refused address fails fast here`,
      );
    }
    const setUp = result.connect_us.new_connection!;
    assert.ok(
      setUp.client > 0 && setUp.order_service > 0,
      `a new connection's set-up is timed on both sides: ${JSON.stringify(setUp)}`,
    );
    assert.equal(
      result.connect_us.keep_alive?.order_service ?? 0,
      0,
      "keep-alive sets up no connection during the orders",
    );
    const stallChecks = result.checks.filter(
      (c) => c.scenario === "unanswered_first" && c.check.includes(`${stallMs} ms connect attempt`),
    );
    assert.equal(stallChecks.length, 3, "the checker states the stall for each hop");
    assert.ok(result.passed);
  },
);
