// Part A's experiment: N sequential orders per scenario through the synchronous chain, timed by
// the client, as in the seed's latency test — then a table, plots and a checker's verdict.
import type { CallPolicy } from "../../common/http.js";
import { usePart, type LabOptions } from "../../harness/lifecycle.js";
import { freePortsFor } from "../../harness/ports.js";
import { partASafeguardNamed } from "../switches.js";
import { checksRows, type Check as HarnessCheck } from "../../harness/check.js";
import { latencyDistributionSpec, histogramSpec } from "../../harness/plots.js";
import { ResultFiles } from "../../harness/results.js";
import { resultsDir } from "../../common/paths.js";
import { summarize, type LatencySummary } from "../../harness/stats.js";
import { markdownTable, toCsv, type Row } from "../../common/table.js";
import {
  LAB_TARGET_FILE,
  loadTarget,
  targetLine,
  targetSummary,
  type Target,
  type TargetSummary,
} from "../../harness/target.js";
import { endpoints, labImplementation, type OrderPolicy, type PartAImplementation } from "./implementation.js";

export type ScenarioName = "baseline" | "delay_2s" | "failure" | "timeout";

export interface Scenario {
  name: ScenarioName;
  /** What the student should expect, and why. */
  expect: string;
  delaySeconds: number;
  failRate: number;
}

export const SCENARIO_NAMES: ScenarioName[] = ["baseline", "delay_2s", "failure", "timeout"];

/** The n-th retry waits backoffBaseMs × 2^(n-1) plus up to 20 % jitter (services/common/http.ts). */
const worstBackoffMs = (p: CallPolicy) => 1.2 * p.backoffBaseMs * (2 ** p.retries - 1);

/** The reserve attempts a failing inventory gets: all of them, unless the deadline comes first. */
export function expectedFailureAttempts(policy: OrderPolicy): { attempts: number; exact: boolean } {
  return { attempts: 1 + policy.reserve.retries, exact: worstBackoffMs(policy.reserve) + 500 < policy.deadline_ms };
}

/** Whether the 2 s delay is answered before the reserve timeout (with room for the hop itself). */
const delayFitsTimeout = (policy: OrderPolicy) => 2000 + 250 <= Math.min(policy.reserve.timeoutMs, policy.deadline_ms);

/** The four scenarios, with what to expect from this order service's policy. */
export function scenariosFor(policy: OrderPolicy): Scenario[] {
  const { timeoutMs, retries } = policy.reserve;
  const bound = Math.min(timeoutMs, policy.deadline_ms);
  // Longer than the timeout by 2 s, so the timeout — not the delay — decides the answer.
  const slow = Math.ceil(timeoutMs / 1000) + 2;
  const s = (ms: number) => `${ms / 1000} s`;
  return [
    { name: "baseline", delaySeconds: 0, failRate: 0, expect: "a few ms: two local hops" },
    {
      name: "delay_2s",
      delaySeconds: 2,
      failRate: 0,
      expect: delayFitsTimeout(policy)
        ? "baseline + 2 s: the caller waits for the slow hop"
        : `504 inventory-timeout: the ${s(bound)} bound is shorter than the 2 s delay`,
    },
    {
      name: "failure",
      delaySeconds: 0,
      failRate: 1,
      expect: `502 reserve-failed after 1 + ${retries} retries with backoff`,
    },
    {
      name: "timeout",
      delaySeconds: slow,
      failRate: 0,
      expect: `504 inventory-timeout after the ${s(bound)} ${bound === timeoutMs ? "timeout" : "deadline"}, not the ${slow} s delay`,
    },
  ];
}

export interface RequestRow {
  scenario: ScenarioName;
  request: number;
  latency_ms: number;
  http_status: number;
  ok: boolean;
  error: string;
  order_id: string;
  reserve_ms?: number;
  notify_ms?: number;
  reserve_attempts?: number;
}

export interface ScenarioSummary extends LatencySummary {
  scenario: ScenarioName;
  ok: number;
  errors: number;
}

export interface Check extends HarnessCheck {
  scenario: ScenarioName;
}

/** A check of the lab's own stricter contract: shown beside a foreign target's verdict, never part of it. */
export interface Note extends Check {
  scenario: ScenarioName;
}

/** A scenario the target could not drive, and why. */
export interface Skipped {
  scenario: ScenarioName;
  reason: string;
}

/** One run of the experiment on any target. */
export interface LatencyRun {
  requests: number;
  /** The safeguard that was switched off for this run, if one was. */
  without?: string;
  /** What was measured: the target's name, version, commit and endpoints. */
  target?: TargetSummary;
  /** The order service's policy the checks were made against (the lab's own services publish it). */
  policy?: OrderPolicy;
  rows: RequestRow[];
  summaries: ScenarioSummary[];
  checks: Check[];
  /** A foreign target: the lab's own stricter contract, shown beside the verdict, not part of it. */
  notes?: Note[];
  /** Scenarios the target could not drive, with the reason. */
  skipped?: Skipped[];
}

/** A run on the lab's own services, judged against the policy they publish. */
export interface LatencyResult extends LatencyRun {
  policy: OrderPolicy;
}

/** Set the inventory's injected delay and failure rate through the implementation. */
export async function inject(impl: PartAImplementation, delaySeconds: number, failRate: number): Promise<void> {
  await impl.faults.inventoryDelay(delaySeconds);
  await impl.faults.inventoryFailRate(failRate);
}

/** One order, timed from the client's side: what the user waits for. */
export async function timeOrder(
  impl: PartAImplementation,
  label: string,
): Promise<Omit<RequestRow, "scenario" | "request">> {
  const r = await impl.placeOrder({ order: label });
  const t = r.body?.timings ?? {};
  return {
    latency_ms: Math.round(r.ms * 10) / 10,
    http_status: r.status,
    ok: r.status === 200,
    error: r.body?.error ?? "",
    order_id: r.body?.order_id ?? "",
    reserve_ms: t.reserve_ms,
    notify_ms: t.notify_ms,
    reserve_attempts: t.reserve_attempts,
  };
}

export async function runScenario(
  impl: PartAImplementation,
  scenario: Scenario,
  requests: number,
  onRequest: (row: RequestRow) => void = () => {},
): Promise<RequestRow[]> {
  await inject(impl, scenario.delaySeconds, scenario.failRate);
  const rows: RequestRow[] = [];
  try {
    for (let i = 1; i <= requests; i++) {
      const row: RequestRow = { scenario: scenario.name, request: i, ...(await timeOrder(impl, `test #${i}`)) };
      rows.push(row);
      onRequest(row);
    }
  } finally {
    await inject(impl, 0, 0);
  }
  return rows;
}

export function summarizeScenarios(rows: RequestRow[]): ScenarioSummary[] {
  const names = [...new Set(rows.map((r) => r.scenario))];
  return names.map((scenario) => {
    const mine = rows.filter((r) => r.scenario === scenario);
    const ok = mine.filter((r) => r.ok).length;
    return { scenario, ...summarize(mine.map((r) => r.latency_ms)), ok, errors: mine.length - ok };
  });
}

/** The checker: does each scenario behave as the synchronous model predicts? */
export function checkScenarios(rows: RequestRow[], summaries: ScenarioSummary[], policy: OrderPolicy): Check[] {
  const by = (s: ScenarioName) => rows.filter((r) => r.scenario === s);
  const median = (s: ScenarioName) => summaries.find((x) => x.scenario === s)?.median ?? NaN;
  const checks: Check[] = [];
  const add = (scenario: ScenarioName, check: string, passed: boolean, observed: string) =>
    checks.push({ scenario, check, passed, observed });
  if (by("baseline").length) {
    add(
      "baseline",
      "every order confirmed (200)",
      by("baseline").every((r) => r.ok),
      `${by("baseline").filter((r) => r.ok).length}/${by("baseline").length} ok`,
    );
  }
  if (by("delay_2s").length && delayFitsTimeout(policy)) {
    const added = median("delay_2s") - (by("baseline").length ? median("baseline") : 0);
    add(
      "delay_2s",
      "every order confirmed (200)",
      by("delay_2s").every((r) => r.ok),
      `${by("delay_2s").filter((r) => r.ok).length}/${by("delay_2s").length} ok`,
    );
    add(
      "delay_2s",
      "the delay adds ≈ 2 s to the median (1.9–2.5 s)",
      added >= 1900 && added <= 2500,
      `+${(added / 1000).toFixed(3)} s`,
    );
  } else if (by("delay_2s").length) {
    const rs = by("delay_2s");
    add(
      "delay_2s",
      `every order answered 504 inventory-timeout: 2 s is not within the ${policy.reserve.timeoutMs / 1000} s timeout`,
      rs.every((r) => r.http_status === 504 && r.error === "inventory-timeout"),
      statuses(rs),
    );
  }
  if (by("failure").length) {
    const rs = by("failure");
    add(
      "failure",
      "every order answered 502 reserve-failed",
      rs.every((r) => r.http_status === 502 && r.error === "reserve-failed"),
      statuses(rs),
    );
    const { attempts, exact } = expectedFailureAttempts(policy);
    const seen = `attempts: ${[...new Set(rs.map((r) => r.reserve_attempts))].join(", ")}`;
    if (exact)
      add(
        "failure",
        `each tried 1 + ${policy.reserve.retries} times`,
        rs.every((r) => r.reserve_attempts === attempts),
        seen,
      );
    else
      add(
        "failure",
        `each tried at most 1 + ${policy.reserve.retries} times, within the ${policy.deadline_ms / 1000} s deadline (+0.5 s)`,
        rs.every((r) => (r.reserve_attempts ?? 0) <= attempts && r.latency_ms <= policy.deadline_ms + 500),
        seen,
      );
  }
  if (by("timeout").length) {
    const rs = by("timeout");
    const worst = Math.max(...rs.map((r) => r.latency_ms));
    add(
      "timeout",
      "every order answered 504 inventory-timeout",
      rs.every((r) => r.http_status === 504 && r.error === "inventory-timeout"),
      statuses(rs),
    );
    const bound = Math.min(policy.reserve.timeoutMs, policy.deadline_ms);
    add(
      "timeout",
      `answered within the ${bound / 1000} s ${bound === policy.reserve.timeoutMs ? "timeout" : "deadline"} (+0.5 s)`,
      worst <= bound + 500,
      `max ${(worst / 1000).toFixed(3)} s`,
    );
  }
  return checks;
}

const statuses = (rows: RequestRow[]) =>
  Object.entries(
    rows.reduce<Record<string, number>>(
      (acc, r) => (
        (acc[`${r.http_status} ${r.error}`.trim()] = (acc[`${r.http_status} ${r.error}`.trim()] ?? 0) + 1),
        acc
      ),
      {},
    ),
  )
    .map(([k, n]) => `${n}× ${k}`)
    .join(", ");

export interface LatencyOptions extends LabOptions {
  requests: number;
  /** The implementation under test (default: the lab's own services). */
  target?: Target;
  /** A foreign target: every order must be answered within this many seconds (default OUTSIDE_BOUND_S). */
  boundSeconds?: number;
  scenarios?: ScenarioName[];
  onRequest?: (row: RequestRow, scenario: Scenario) => void;
  onScenario?: (scenario: Scenario) => void;
  /**
   * A safeguard of Part A switched off (SAFEGUARDS_OFF) for this run: the experiment then starts
   * Part A of its own on free ports, so a stack already up (with its safeguards on) is not reused.
   */
  without?: string;
}

/** The options that start Part A with `name` off, on ports of its own. */
async function withoutSafeguard(opts: LatencyOptions, name: string): Promise<LatencyOptions> {
  const off = partASafeguardNamed(name);
  return { ...opts, ports: await freePortsFor("partA"), env: { ...opts.env, SAFEGUARDS_OFF: off } };
}

/**
 * The whole experiment: bring Part A up unless it already runs, run each scenario, and stop
 * what this run started (a stack the student had up stays up).
 */
export async function runLatencyExperiment(opts: LatencyOptions): Promise<LatencyResult> {
  const open = opts.without ? await withoutSafeguard(opts, opts.without) : opts;
  return usePart("partA", open, async (running) => {
    const impl = labImplementation(running, open);
    const policy = await impl.policy();
    if (opts.without && (await impl.health("order")).body.safeguards?.[opts.without] !== "off")
      throw new Error(`the order service did not switch ${opts.without} off (see its /health)`);
    const scenarios = scenariosFor(policy).filter((s) => !opts.scenarios || opts.scenarios.includes(s.name));
    const rows: RequestRow[] = [];
    for (const scenario of scenarios) {
      opts.onScenario?.(scenario);
      rows.push(...(await runScenario(impl, scenario, opts.requests, (row) => opts.onRequest?.(row, scenario))));
    }
    const summaries = summarizeScenarios(rows);
    const target = targetSummary(opts.target ?? loadTarget(LAB_TARGET_FILE), { ...endpoints(running) });
    return {
      requests: opts.requests,
      target,
      ...(opts.without ? { without: opts.without } : {}),
      policy,
      rows,
      summaries,
      checks: checkScenarios(rows, summaries, policy),
    };
  });
}

/** The seed report's table: one row per scenario, in milliseconds. */
export function summaryTable(summaries: ScenarioSummary[]): Row[] {
  return summaries.map((s) => ({
    scenario: s.scenario,
    "min (ms)": s.min,
    "avg (ms)": s.mean,
    "median (ms)": s.median,
    "p95 (ms)": s.p95,
    "p99 (ms)": s.p99,
    "max (ms)": s.max,
    ok: s.ok,
    errors: s.errors,
  }));
}

export const checksTable = (checks: Check[]): Row[] => checksRows(checks);

export const latencyPlot = (rows: RequestRow[]) =>
  latencyDistributionSpec(
    rows.map((r) => ({ scenario: r.scenario, latency_ms: r.latency_ms, ok: r.ok })),
    "Part A — order latency per scenario (each tick is one request)",
  );

/**
 * latency.csv, summary.json, summary.md and one SVG per scenario plus one for all; a run with a
 * safeguard off goes to its own folder (results/partA/without-<name>/), beside the real results.
 */
export async function writeLatencyResults(
  result: LatencyRun,
  dir = result.without ? resultsDir("partA", `without-${result.without}`) : resultsDir("partA"),
): Promise<string[]> {
  const out = new ResultFiles(dir);
  const write = (name: string, text: string) => out.write(name, text);
  write("latency.csv", toCsv(result.rows as unknown as Row[]));
  write(
    "summary.json",
    JSON.stringify(
      {
        requests: result.requests,
        target: result.target,
        ...(result.without ? { without: result.without } : {}),
        policy: result.policy,
        summaries: result.summaries,
        checks: result.checks,
        notes: result.notes,
        skipped: result.skipped,
        passed: result.checks.every((c) => c.passed),
      },
      null,
      2,
    ),
  );
  const verdict = result.checks.every((c) => c.passed) ? "PASS" : "FAIL";
  write(
    "summary.md",
    [
      `# Part A — synchronous REST latency (${result.requests} requests per scenario)`,
      "",
      ...(result.target ? [`Target: ${targetLine(result.target)}`, ""] : []),
      markdownTable(summaryTable(result.summaries)),
      "",
      `## Checker: ${verdict}`,
      "",
      markdownTable(checksTable(result.checks)),
      "",
      ...outsideSections(result),
    ].join("\n"),
  );
  await out.plot("latency.svg", latencyPlot(result.rows));
  for (const s of result.summaries) {
    const rows = result.rows.filter((r) => r.scenario === s.scenario);
    await out.plot(
      `latency-${s.scenario}.svg`,
      histogramSpec(
        rows.map((r) => r.latency_ms),
        `Part A — ${s.scenario}: latency of ${rows.length} orders`,
        "latency (ms)",
      ),
    );
  }
  return out.files;
}

/** summary.md's sections for a foreign target: what was skipped and why, and the lab's stricter contract as notes. */
export function outsideSections(result: LatencyRun): string[] {
  const out: string[] = [];
  if (result.skipped?.length)
    out.push(
      "## Not observable on this target",
      "",
      markdownTable(result.skipped.map((s) => ({ scenario: s.scenario, reason: s.reason }))),
      "",
    );
  if (result.notes?.length)
    out.push(
      "## Notes: the lab's own stricter contract (not part of the verdict)",
      "",
      markdownTable(checksTable(result.notes)),
      "",
    );
  return out;
}
