// Part A's safeguards against the real services, at quick sizes: with each one, its scenario
// counts no anomaly; without it, the anomaly it prevents, counted. And the switch itself: an
// unknown name stops the order service at start, /health reports every switch, the log warns.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import { promisify } from "node:util";
import { PARTA_SAFEGUARD_EXPERIMENTS, runPartASafeguard } from "../partA-sync-rest/experiments/index.js";
import { PARTA_SAFEGUARDS, type PartASafeguard } from "../partA-sync-rest/switches.js";
import { fromExperiment, safeguardOptions } from "../harness/judge/safeguards.js";
import { usePart } from "../harness/run/lifecycle.js";
import { projectRoot } from "../common/paths.js";
import { freePort } from "../harness/run/ports.js";
import { latency } from "../partA-sync-rest/experiments/latency.js";
import { withPartA } from "../partA-sync-rest/lab/implementation.js";
import { runExperiment } from "../harness/judge/experiment.js";
import { LAB_TARGET_FILE, loadTarget } from "../harness/judge/target.js";
import { freePortsFor, http, tempHome } from "./support.js";

const opts = { home: tempHome(), quick: true, seed: 42, log: () => {} };

/** What a run counted: its figures and its anomalies, by name. */
type Counted = Record<string, number>;
const counted = (r: { figures: Record<string, string | number>; tally?: { anomalies: Counted } }): Counted => ({
  ...(r.figures as Counted),
  ...r.tally?.anomalies,
});

/** What each safeguard's count must look like without it, beyond "more than 0". */
const SENSIBLE: Record<PartASafeguard, (c: Counted, withIt: Counted) => void> = {
  "idempotency-key": (c) => {
    // Every unit taken twice follows an answer lost after a reservation: never more of them.
    assert.ok(c.reserved_twice > 0 && c.reserved_twice <= c.answers_lost_after_reserve, JSON.stringify(c));
    assert.ok(c.reservations > c.confirmed, "more stock taken than orders confirmed");
  },
  "call-timeout": (c, withIt) => {
    // Inventory answers after twice the deadline: every order waits for it, none is cut short.
    assert.equal(c.past_deadline, c.orders, JSON.stringify(c));
    assert.equal(c.confirmed, c.orders);
    assert.ok(c.wait_max_ms >= 2 * c.deadline_ms, `waited ${c.wait_max_ms} ms`);
    assert.equal(withIt.timed_out_504, withIt.orders, "with it, every order is a 504 in time");
  },
  "no-retry-on-timeout": (c, withIt) => {
    // RETRIES=2: each timed-out reserve is asked twice more, and the client waits for all three.
    assert.equal(c.timeouts_retried, c.orders, JSON.stringify(c));
    assert.equal(c.reserve_requests, 3 * c.orders, JSON.stringify(c));
    assert.equal(withIt.reserve_requests, withIt.orders);
    assert.ok(c.wait_median_ms > 2 * withIt.wait_median_ms, "the client waits longer");
  },
  "in-flight-limit": (c, withIt) => {
    // Nothing is refused: the order service holds far more than its limit at once.
    assert.equal(c.refused_503, 0);
    assert.ok(c.max_in_flight_seen > 2 * c.max_in_flight, JSON.stringify(c));
    assert.equal(c.held_beyond_limit, c.max_in_flight_seen - c.max_in_flight);
    assert.ok(withIt.max_in_flight_seen <= withIt.max_in_flight && withIt.refused_503 > 0);
  },
};

describe("each Part A safeguard: with it no anomaly, without it the anomaly, counted", () => {
  test("every safeguard of the catalogue has its experiment", () => {
    assert.deepEqual(PARTA_SAFEGUARD_EXPERIMENTS.map((s) => s.safeguard).sort(), Object.keys(PARTA_SAFEGUARDS).sort());
  });
  for (const name of Object.keys(PARTA_SAFEGUARDS) as PartASafeguard[])
    test(name, { timeout: 180_000 }, async () => {
      // The runs the catalogue's entry makes (fromExperiment of each side), kept whole for the counts.
      const withRun = await runPartASafeguard(name, safeguardOptions(opts, name, true));
      const withIt = fromExperiment(withRun);
      assert.equal(withIt.anomalies, 0, `with ${name}: ${withIt.observed}`);
      assert.equal(withIt.verdict, "PASS");
      const withoutRun = await runPartASafeguard(name, safeguardOptions(opts, name, false));
      assert.equal(withoutRun.without, name);
      const without = fromExperiment(withoutRun);
      assert.ok(without.anomalies > 0, `without ${name}: ${without.observed}`);
      assert.equal(without.verdict, "FAIL");
      SENSIBLE[name](counted(withoutRun), counted(withRun));
    });
});

describe("the switch", () => {
  test("an unknown name in SAFEGUARDS_OFF stops the order service at start, naming the known ones", async () => {
    const port = await freePort();
    const started = promisify(execFile)(process.execPath, [`${projectRoot}/dist/partA-sync-rest/order.js`], {
      env: { ...process.env, PORT: String(port), SAFEGUARDS_OFF: "call-timeout,no-such-safeguard" },
      timeout: 20_000,
    });
    const err = await started.then(
      () => assert.fail("the order service started"),
      (e: { code?: number; stderr: string }) => e,
    );
    assert.equal(err.code, 1);
    assert.match(err.stderr, /SAFEGUARDS_OFF/);
    for (const known of Object.keys(PARTA_SAFEGUARDS)) assert.ok(err.stderr.includes(known), known);
  });

  test("partA-latency.mjs --without: an unknown name is a clear error before anything starts", async () => {
    const zx = `${projectRoot}/node_modules/zx/build/cli.js`;
    const script = `${projectRoot}/lab-scripts/partA-latency.mjs`;
    const err = await promisify(execFile)(process.execPath, [zx, script, "--without", "call-timeouts"], {
      cwd: projectRoot,
      timeout: 60_000,
    }).then(
      () => assert.fail("the script ran"),
      (e: { code?: number; stdout: string; stderr: string }) => e,
    );
    assert.equal(err.code, 1);
    assert.match(err.stderr, /--without call-timeouts: .* shows what these safeguards prevent: .*call-timeout/);
    assert.doesNotMatch(err.stdout, /up on port/, "nothing was started");
  });

  test(
    "the latency experiment opened without call-timeout: the silent inventory's checks fail",
    { timeout: 120_000 },
    async () => {
      const home = tempHome();
      const result = await withPartA(loadTarget(LAB_TARGET_FILE), { home, without: "call-timeout" }, (impl) =>
        runExperiment(latency, impl, { requests: 1, scenarios: ["timeout"] }),
      );
      assert.equal(result.without, "call-timeout");
      assert.equal(result.verdict, "FAIL");
      const failed = result.checks.filter((c) => !c.passed).map((c) => c.check);
      const silent = result.checks.find((c) => c.check.startsWith("an inventory that does not answer"));
      assert.equal(silent?.passed, false, failed.join(" | "));
      assert.match(silent.observed, /1× 200 after up to 5\.\d+ s: .*no timeout on its inventory call/);
    },
  );

  test("with none off, /health says every safeguard is on", { timeout: 60_000 }, async () => {
    await usePart("partA", { home: tempHome(), ports: await freePortsFor("partA") }, async (running) => {
      const health = (await http.get(`${running.services.order.url}/health`)).data;
      assert.deepEqual(health.safeguards, Object.fromEntries(Object.keys(PARTA_SAFEGUARDS).map((n) => [n, "on"])));
      assert.doesNotMatch(fs.readFileSync(running.services.order.log, "utf8"), /SAFEGUARD OFF/);
    });
  });

  test("/health reports each switch; the log warns at start for each one off", { timeout: 60_000 }, async () => {
    const off = ["call-timeout", "in-flight-limit"];
    const lab = { home: tempHome(), ports: await freePortsFor("partA"), env: { SAFEGUARDS_OFF: off.join(",") } };
    await usePart("partA", lab, async (running) => {
      const health = (await http.get(`${running.services.order.url}/health`)).data;
      assert.deepEqual(
        health.safeguards,
        Object.fromEntries(Object.keys(PARTA_SAFEGUARDS).map((n) => [n, off.includes(n) ? "off" : "on"])),
      );
      const log = fs.readFileSync(running.services.order.log, "utf8");
      for (const n of off) assert.match(log, new RegExp(`SAFEGUARD OFF: ${n}\\b`));
      assert.doesNotMatch(log, /SAFEGUARD OFF: (idempotency-key|no-retry-on-timeout)/);
    });
  });
});
