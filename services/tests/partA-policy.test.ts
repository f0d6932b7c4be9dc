// The latency checker reads the order service's policy from its /health: an order service
// started with another policy than the defaults is still checked against what it declares.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  checkScenarios,
  runLatencyExperiment,
  scenariosFor,
  summarizeScenarios,
} from "../partA-sync-rest/lab/latency.js";
import { freePortsFor, tempHome } from "./support.js";

test(
  "RETRIES=3 and a 2.5 s timeout: the experiment passes its checks, made from the declared policy",
  { timeout: 120_000 },
  async () => {
    const env = { RETRIES: "3", INVENTORY_TIMEOUT_MS: "2500", BACKOFF_BASE_MS: "100" };
    const result = await runLatencyExperiment({
      home: tempHome(),
      ports: await freePortsFor("partA"),
      env,
      requests: 2,
    });

    test("the checker derives its expectations from the policy it is given", () => {
      const policy = {
        reserve: { timeoutMs: 1500, retries: 3, backoffBaseMs: 100 },
        notify: { timeoutMs: 1500, retries: 3, backoffBaseMs: 100 },
        deadline_ms: 6000,
        max_in_flight: 8,
      };
      const scenarios = Object.fromEntries(scenariosFor(policy).map((s) => [s.name, s]));
      assert.equal(scenarios.timeout.delaySeconds, 4, "longer than the timeout by 2 s");
      assert.match(scenarios.delay_2s.expect, /504/, "a 2 s delay outlasts a 1.5 s timeout");
      const rows = [1, 2].map((request) => ({
        scenario: "delay_2s" as const,
        request,
        latency_ms: 1510,
        http_status: 504,
        ok: false,
        error: "inventory-timeout",
        order_id: "o-1",
      }));
      const checks = checkScenarios(rows, summarizeScenarios(rows), policy);
      assert.equal(checks.length, 1);
      assert.ok(checks[0].passed, checks[0].check);
    });
    assert.equal(result.policy.reserve.retries, 3);
    assert.equal(result.policy.reserve.timeoutMs, 2500);
    for (const c of result.checks) assert.ok(c.passed, `${c.scenario}: ${c.check} — ${c.observed}`);
    const checks = result.checks.map((c) => c.check);
    assert.ok(checks.includes("each tried 1 + 3 times"), checks.join(" | "));
    assert.ok(checks.includes("answered within the 2.5 s timeout (+0.5 s)"), checks.join(" | "));
    const failure = result.rows.filter((r) => r.scenario === "failure");
    assert.ok(
      failure.every((r) => r.reserve_attempts === 4),
      "four attempts, as the policy says",
    );
    const timeout = result.rows.filter((r) => r.scenario === "timeout");
    assert.ok(
      timeout.every((r) => r.latency_ms >= 2400 && r.latency_ms < 3000),
      timeout.map((r) => r.latency_ms).join(", "),
    );
  },
);
