// The latency checker reads the order service's policy from its /health: an order service
// started with another policy than the defaults is still checked against what it declares.
import { test } from "node:test";
import assert from "node:assert/strict";
import { latency, scenariosFor } from "../partA-sync-rest/experiments/latency.js";
import { latencyChecks } from "../partA-sync-rest/experiments/latency-checks.js";
import { withPartA } from "../partA-sync-rest/lab/implementation.js";
import { runExperiment } from "../harness/judge/experiment.js";
import { LAB_TARGET_FILE, loadTarget } from "../harness/judge/target.js";
import { freePortsFor, tempHome } from "./support.js";

test("the checker derives its expectations from the policy it is given", () => {
  const policy = {
    reserve: { timeoutMs: 1500, retries: 3, backoffBaseMs: 100 },
    notify: { timeoutMs: 1500, retries: 3, backoffBaseMs: 100 },
    deadline_ms: 6000,
    max_in_flight: 8,
  };
  const scenarios = Object.fromEntries(scenariosFor({}, policy).map((s) => [s.name, s]));
  assert.equal(scenarios.timeout.delaySeconds, 4, "longer than the timeout by 2 s");
  assert.equal(scenariosFor({ silentSeconds: 7 }, policy)[3].delaySeconds, 7, "the option wins");
  assert.equal(scenariosFor({ boundSeconds: 5 })[3].delaySeconds, 7, "no policy: 2 s past the bound");
  const rows = [1, 2].map((request) => ({
    scenario: "delay_2s" as const,
    request,
    latency_ms: 1510,
    http_status: 504,
    ok: false,
    error: "inventory-timeout",
    order_id: "o-1",
  }));
  const checks = latencyChecks(rows, {}, policy);
  assert.match(checks[0].check, /504 inventory-timeout: the delay outlasts the 1\.5 s timeout/);
  assert.match(checks[1].check, /within the 1\.5 s timeout/);
  for (const c of checks) assert.ok(c.passed, c.check);
  const confirmed = rows.map((r) => ({ ...r, http_status: 200, ok: true, error: "" }));
  assert.equal(latencyChecks(confirmed, {}, policy)[0].passed, false, "a 200 where the policy says 504 fails");
  const outside = latencyChecks(confirmed, {});
  assert.ok(outside[0].check.includes("or an error answer"), "without a policy: any answer that shows the delay");
});

test(
  "RETRIES=3 and a 2.5 s timeout: the experiment passes its checks, made from the declared policy",
  { timeout: 120_000 },
  async () => {
    const env = { RETRIES: "3", INVENTORY_TIMEOUT_MS: "2500", BACKOFF_BASE_MS: "100" };
    const opened = { home: tempHome(), ports: await freePortsFor("partA"), env };
    const result = await withPartA(loadTarget(LAB_TARGET_FILE), opened, (impl) =>
      runExperiment(latency, impl, { requests: 2 }),
    );
    assert.equal(result.data.policy?.reserve.retries, 3);
    assert.equal(result.data.policy?.reserve.timeoutMs, 2500);
    assert.equal(result.verdict, "PASS");
    assert.deepEqual(result.skipped, []);
    for (const c of result.checks) assert.ok(c.passed, `${c.scenario}: ${c.check} — ${c.observed}`);
    const checks = result.checks.map((c) => c.check);
    assert.ok(checks.includes("each tried 1 + 3 times"), checks.join(" | "));
    assert.ok(
      checks.includes(
        "an inventory that does not answer gives the client 504 inventory-timeout within the 2.5 s timeout (+0.5 s)",
      ),
      checks.join(" | "),
    );
    const failure = result.data.rows.filter((r) => r.scenario === "failure");
    assert.ok(
      failure.every((r) => r.reserve_attempts === 4),
      "four attempts, as the policy says",
    );
    const timeout = result.data.rows.filter((r) => r.scenario === "timeout");
    assert.ok(
      timeout.every((r) => r.latency_ms >= 2400 && r.latency_ms < 3000),
      timeout.map((r) => r.latency_ms).join(", "),
    );
  },
);
