// Part A's latency lesson, the seed's latency test: N sequential orders per scenario — a healthy
// inventory, a slow one, a failing one, a silent one — timed from the client's side. Every
// implementation is held to what the assignment asks (an answer, an error when inventory fails,
// within a bound); one that declares its call policy is also held to it exactly (502 after
// 1 + retries attempts, 504 after its timeout). A scenario needs its fault switch: without it,
// it is skipped with the reason.
import type { Experiment, ExperimentOptions, Run } from "../../harness/judge/experiment.js";
import { histogramSpec, latencyDistributionSpec } from "../../harness/show/plots.js";
import { summarize, type LatencySummary } from "../../harness/measure/stats.js";
import type { Row } from "../../common/table.js";
import { PARTA_SAFEGUARDS } from "../switches.js";
import type { OrderPolicy, PartACapability, PartAImplementation } from "../lab/implementation.js";
import {
  contractNotes,
  latencyChecks,
  LATENCY_SCENARIOS,
  policyBoundMs,
  type LatencyScenario,
  type RequestRow,
} from "./latency-checks.js";

export { LATENCY_SCENARIOS, type LatencyScenario, type RequestRow };

export interface LatencyOptions extends ExperimentOptions {
  /** Orders per scenario (default: 3 quick, else 10, as the seed's test). */
  requests?: number;
  /** The scenarios to run (default: all four). */
  scenarios?: LatencyScenario[];
  /** The slow inventory's injected delay, in seconds (default 2, the assignment's). */
  delaySeconds?: number;
  /**
   * Every order must be answered within this many seconds (default 10): the assignment asks for
   * "a timeout + error response" without a number; the seed's failures came after ≈ 4.1 s.
   */
  boundSeconds?: number;
  /** The silent inventory's delay (default: 2 s past the declared timeout, else past the bound). */
  silentSeconds?: number;
  onRequest?: (row: RequestRow) => void;
}

export interface ScenarioSummary extends LatencySummary {
  scenario: LatencyScenario;
  ok: number;
  errors: number;
}

export interface Scenario {
  name: LatencyScenario;
  delaySeconds: number;
  failRate: number;
  /** The fault switch it needs. */
  needs?: PartACapability;
  /** What to expect, and why. */
  expect: string;
}

export interface LatencyRun extends Run<PartAImplementation, LatencyOptions> {
  /** What the order service declares (undefined: it declares none, judged from outside only). */
  policy?: OrderPolicy;
  rows: RequestRow[];
}

export interface LatencyData {
  policy?: OrderPolicy;
  rows: RequestRow[];
  summaries: ScenarioSummary[];
}

const boundOf = (o: LatencyOptions) => o.boundSeconds ?? 10;

/** The four scenarios, with what to expect (from the declared policy where there is one). */
export function scenariosFor(opts: LatencyOptions, policy?: OrderPolicy): Scenario[] {
  const bound = boundOf(opts);
  const delay = opts.delaySeconds ?? 2;
  // 2 s longer than what should cut the wait short, so that — not the delay — decides the answer.
  const silent = opts.silentSeconds ?? (policy ? Math.ceil(policyBoundMs(policy) / 1000) : bound) + 2;
  const cut = policy ? `its ${policyBoundMs(policy) / 1000} s timeout` : `${bound} s`;
  return [
    { name: "baseline", delaySeconds: 0, failRate: 0, expect: "a few ms: two local hops" },
    {
      name: "delay_2s",
      delaySeconds: delay,
      failRate: 0,
      needs: "inventory delay",
      expect: `baseline + ${delay} s: the caller waits for the slow hop (or an error within ${cut})`,
    },
    {
      name: "failure",
      delaySeconds: 0,
      failRate: 1,
      needs: "inventory failure",
      expect: `an error answer within ${cut}${policy ? `: 502 after 1 + ${policy.reserve.retries} attempts` : ""}`,
    },
    {
      name: "timeout",
      delaySeconds: silent,
      failRate: 0,
      needs: "inventory delay",
      expect: `an error answer within ${cut}, not after the ${silent} s delay`,
    },
  ];
}

/** Set inventory's faults (none given: healthy; a target without a switch has nothing to reset). */
export async function inject(impl: PartAImplementation, delaySeconds = 0, failRate = 0, failAfterReserveRate = 0) {
  await impl.faults.inventoryDelay(delaySeconds);
  await impl.faults.inventoryFailRate(failRate);
  await impl.faults.inventoryFailAfterReserveRate(failAfterReserveRate);
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
    ok: r.status >= 200 && r.status < 300,
    error: r.body?.error ?? "",
    order_id: r.body?.order_id ?? "",
    reserve_ms: t.reserve_ms,
    notify_ms: t.notify_ms,
    reserve_attempts: t.reserve_attempts,
  };
}

/** A scenario's step: its fault on, N orders, the fault off; re-running it replaces its rows. */
async function runScenario(r: LatencyRun, name: LatencyScenario): Promise<void> {
  if (r.opts.scenarios && !r.opts.scenarios.includes(name)) return;
  const s = scenariosFor(r.opts, r.policy).find((x) => x.name === name)!;
  const n = r.opts.requests ?? (r.opts.quick ? 3 : 10);
  await r.unless(name, async () => {
    if (s.needs) r.impl.capabilities.need(s.needs);
    r.progress(`${n} orders — expect ${s.expect}`);
    r.rows = r.rows.filter((x) => x.scenario !== name);
    await inject(r.impl, s.delaySeconds, s.failRate);
    try {
      for (let i = 1; i <= n; i++) {
        const row: RequestRow = { scenario: name, request: i, ...(await timeOrder(r.impl, `test #${i}`)) };
        r.rows.push(row);
        r.opts.onRequest?.(row);
      }
    } finally {
      await inject(r.impl);
    }
  });
}

export function summarizeScenarios(rows: RequestRow[]): ScenarioSummary[] {
  return LATENCY_SCENARIOS.filter((s) => rows.some((r) => r.scenario === s)).map((scenario) => {
    const mine = rows.filter((r) => r.scenario === scenario);
    const ok = mine.filter((r) => r.ok).length;
    return { scenario, ...summarize(mine.map((r) => r.latency_ms)), ok, errors: mine.length - ok };
  });
}

/** The seed report's table: one row per scenario, in milliseconds. */
export const summaryTable = (summaries: ScenarioSummary[]): Row[] =>
  summaries.map((s) => ({
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

export const latencyPlot = (rows: RequestRow[]) =>
  latencyDistributionSpec(
    rows.map((r) => ({ scenario: r.scenario, latency_ms: r.latency_ms, ok: r.ok })),
    "Part A — order latency per scenario (each tick is one request)",
  );

export const latency: Experiment<PartAImplementation, LatencyOptions, LatencyRun, LatencyData> = {
  name: "latency",
  part: "partA",
  title: "Part A — synchronous REST latency",
  lesson: "In a synchronous chain every hop's latency and every hop's failure is the caller's.",
  needs: [],
  safeguards: Object.keys(PARTA_SAFEGUARDS),
  begin: (run) => ({ ...run, rows: [] }),
  steps: [
    {
      name: "policy",
      run: async (r) => {
        r.policy = await r.unless("the order service's declared policy (exact statuses, attempts, timeout)", () =>
          r.impl.policy(),
        );
      },
    },
    ...LATENCY_SCENARIOS.map((name) => ({ name, run: (r: LatencyRun) => runScenario(r, name) })),
  ],
  cleanup: (r) => inject(r.impl),
  judge: (r) => {
    const summaries = summarizeScenarios(r.rows);
    const checks = latencyChecks(r.rows, r.opts, r.policy);
    return {
      params: {
        requests: r.opts.requests ?? (r.opts.quick ? 3 : 10),
        scenarios: scenariosFor(r.opts, r.policy).map(({ name, delaySeconds, failRate }) => ({
          name,
          delaySeconds,
          failRate,
        })),
        bound_s: boundOf(r.opts),
        ...(r.policy ? { policy: r.policy } : {}),
      },
      checks,
      notes: r.policy ? [] : contractNotes(r.rows),
      figures: Object.fromEntries(summaries.map((s) => [`${s.scenario}: median (ms)`, s.median])),
      data: { policy: r.policy, rows: r.rows, summaries },
    };
  },
  files: (result) => ({
    data: { "latency.csv": result.data.rows as unknown as Row[] },
    plots: {
      "latency.svg": latencyPlot(result.data.rows),
      ...Object.fromEntries(
        result.data.summaries.map((s) => {
          const ms = result.data.rows.filter((r) => r.scenario === s.scenario).map((r) => r.latency_ms);
          const title = `Part A — ${s.scenario}: latency of ${ms.length} orders`;
          return [`latency-${s.scenario}.svg`, histogramSpec(ms, title, "latency (ms)")];
        }),
      ),
    },
  }),
};
