// The latency lesson's checker, one for every implementation: what the assignment asks, observed
// as HTTP answers and times — an answer; an error when inventory fails; within a bound. Where the
// order service declares its call policy in /health (a capability; the lab's own does), the same
// checks are made exact from what it declares — the error it names, the attempts it makes, its
// own timeout as the bound — never from a copy of its defaults: RETRIES=3 is checked against 3.
// Where it declares none, the bound is the experiment's option and the lab's exact answers are notes.
import type { CallPolicy } from "../../common/http.js";
import type { Check } from "../../harness/judge/check.js";
import { summarize } from "../../harness/measure/stats.js";
import type { OrderPolicy } from "../lab/implementation.js";

export const LATENCY_SCENARIOS = ["baseline", "delay_2s", "failure", "timeout"] as const;
export type LatencyScenario = (typeof LATENCY_SCENARIOS)[number];

/** The figures the checks hold every implementation to (see LatencyOptions). */
export interface Bounds {
  delaySeconds?: number;
  boundSeconds?: number;
}

export interface RequestRow {
  scenario: LatencyScenario;
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

/** The bound a declared policy sets on a reserve: its timeout, or the order's deadline if shorter. */
export const policyBoundMs = (p: OrderPolicy): number => Math.min(p.reserve.timeoutMs, p.deadline_ms);

/** What the client saw, per status: `3× 200, 1× no answer`. */
export function seen(rows: RequestRow[]): string {
  const counts = new Map<string, number>();
  for (const r of rows) {
    const k = r.http_status === 0 ? "no answer" : `${r.http_status}${r.error ? ` ${r.error}` : ""}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${n}× ${k}`).join(", ");
}

const isError = (r: RequestRow) => r.http_status >= 400;
const worst = (rows: RequestRow[]) => Math.max(...rows.map((r) => r.latency_ms));
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;

/** The n-th retry waits backoffBaseMs × 2^(n-1) plus up to 20 % jitter (services/common/http.ts). */
const worstBackoffMs = (p: CallPolicy) => 1.2 * p.backoffBaseMs * (2 ** p.retries - 1);

/** The bound every answer must keep, and the error answer expected: exact where a policy is declared. */
interface Bound {
  policy?: OrderPolicy;
  ms: number;
  text: string;
  error(status: number, name: string): { text: string; is: (r: RequestRow) => boolean };
}

function boundFor(opts: Bounds, policy?: OrderPolicy): Bound {
  const ms = policy ? policyBoundMs(policy) : (opts.boundSeconds ?? 10) * 1000;
  return {
    policy,
    ms,
    text: policy
      ? `the ${ms / 1000} s ${ms === policy.reserve.timeoutMs ? "timeout" : "deadline"} (+0.5 s)`
      : `${ms / 1000} s`,
    // An error answer: any 4xx/5xx; with a declared policy, the one the contract names.
    error: (status, name) => ({
      text: policy ? `${status} ${name}` : "an error answer (4xx/5xx)",
      is: (r) => (policy ? r.http_status === status && r.error === name : isError(r)),
    }),
  };
}

const median = (rs: RequestRow[]) => (rs.length ? summarize(rs.map((r) => r.latency_ms)).median : 0);

/** The slow inventory: its delay reaches the client — or, past a declared timeout, the timeout's error. */
function delayCheck(slow: RequestRow[], base: RequestRow[], delaySeconds: number, b: Bound): Check {
  const d = delaySeconds * 1000;
  const added = median(slow) - median(base);
  const timeout = b.error(504, "inventory-timeout");
  const [check, passed] = !b.policy
    ? [
        `the ${delaySeconds} s delay reaches the client: ≥ ${(d - 100) / 1000} s more at the median, or an error answer`,
        slow.every(isError) || added >= d - 100,
      ]
    : d + 250 > b.ms
      ? [`every order answered ${timeout.text}: the delay outlasts ${b.text}`, slow.every(timeout.is)]
      : [
          `every order confirmed, the delay adding ≈ ${delaySeconds} s to the median (${(d - 100) / 1000}–${(d + 500) / 1000} s)`,
          slow.every((r) => r.ok) && added >= d - 100 && added <= d + 500,
        ];
  return { scenario: "delay_2s", check, passed, observed: `${seen(slow)}; median +${seconds(added)}` };
}

/** Each scenario against what the assignment asks, made exact by the declared policy where there is one. */
export function latencyChecks(rows: RequestRow[], opts: Bounds, policy?: OrderPolicy): Check[] {
  const checks: Check[] = [];
  const add = (scenario: LatencyScenario, check: string, passed: boolean, observed: string) =>
    checks.push({ scenario, check, passed, observed });
  const [base, slow, failing, silent] = LATENCY_SCENARIOS.map((s) => rows.filter((r) => r.scenario === s));
  const b = boundFor(opts, policy);
  const within = `every order answered within ${b.text}`;
  const inTime = (rs: RequestRow[]) => worst(rs) <= b.ms + 500;
  if (base.length)
    add(
      "baseline",
      "every order confirmed (2xx)",
      base.every((r) => r.ok),
      seen(base),
    );
  if (slow.length) {
    checks.push(delayCheck(slow, base, opts.delaySeconds ?? 2, b));
    add("delay_2s", within, inTime(slow), `max ${seconds(worst(slow))}`);
  }
  if (failing.length) {
    const failed = b.error(502, "reserve-failed");
    add("failure", `an inventory failure gives the client ${failed.text}`, failing.every(failed.is), seen(failing));
    if (policy) checks.push(attemptsCheck(failing, policy));
    else add("failure", within, inTime(failing), `max ${seconds(worst(failing))}`);
  }
  if (silent.length) {
    const timeout = b.error(504, "inventory-timeout");
    // An order confirmed after the whole bound: the order service waited as long as inventory took.
    const waited = silent.some((r) => !isError(r) && r.latency_ms >= b.ms);
    const why = waited
      ? ` after up to ${seconds(worst(silent))}: the order service waited for inventory as long as it took — no timeout on its inventory call`
      : `; max ${seconds(worst(silent))}`;
    add(
      "timeout",
      `an inventory that does not answer gives the client ${timeout.text} within ${b.text}`,
      silent.every((r) => timeout.is(r) && r.latency_ms <= b.ms + 500),
      seen(silent) + why,
    );
  }
  return checks;
}

/** A failing inventory gets every attempt the policy declares, unless the order's deadline comes first. */
function attemptsCheck(rs: RequestRow[], policy: OrderPolicy): Check {
  const attempts = 1 + policy.reserve.retries;
  const exact = worstBackoffMs(policy.reserve) + 500 < policy.deadline_ms;
  const observed = `attempts: ${[...new Set(rs.map((r) => r.reserve_attempts))].join(", ")}`;
  return exact
    ? {
        scenario: "failure",
        check: `each tried 1 + ${policy.reserve.retries} times`,
        passed: rs.every((r) => r.reserve_attempts === attempts),
        observed,
      }
    : {
        scenario: "failure",
        check: `each tried at most 1 + ${policy.reserve.retries} times, within the ${policy.deadline_ms / 1000} s deadline (+0.5 s)`,
        passed: rs.every((r) => (r.reserve_attempts ?? 0) <= attempts && r.latency_ms <= policy.deadline_ms + 500),
        observed,
      };
}

/** The wire contract's error answers, beside the verdict of an implementation that declares no policy. */
export function contractNotes(rows: RequestRow[]): Check[] {
  const notes: Check[] = [];
  const note = (scenario: LatencyScenario, status: number, error: string) => {
    const rs = rows.filter((r) => r.scenario === scenario);
    if (rs.length)
      notes.push({
        scenario,
        check: `the lab's contract: ${status} ${error}`,
        passed: rs.every((r) => r.http_status === status && r.error === error),
        observed: seen(rs),
      });
  };
  note("failure", 502, "reserve-failed");
  note("timeout", 504, "inventory-timeout");
  return notes;
}
