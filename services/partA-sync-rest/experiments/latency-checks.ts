// The latency lesson's checker. Every implementation is held to what the assignment asks,
// observed as HTTP answers and times (an answer; an error when inventory fails; within a bound
// stated in the options). An order service that declares its call policy in /health (the lab's
// own does) is also held to it exactly — derived from what it declares, never from a copy of its
// defaults, so a service started with RETRIES=3 is checked against 3.
import type { CallPolicy } from "../../common/http.js";
import type { Check } from "../../harness/check.js";
import { summarize } from "../../harness/stats.js";
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

/** What the assignment requires of any implementation, observed as HTTP answers and times. */
export function contractChecks(rows: RequestRow[], opts: Bounds): Check[] {
  const checks: Check[] = [];
  const add = (scenario: LatencyScenario, check: string, passed: boolean, observed: string) =>
    checks.push({ scenario, check, passed, observed });
  const by = (s: LatencyScenario) => rows.filter((r) => r.scenario === s);
  const median = (s: LatencyScenario) => summarize(by(s).map((r) => r.latency_ms)).median;
  const bound = opts.boundSeconds ?? 10;
  const within = (rs: RequestRow[]) => worst(rs) <= bound * 1000 + 500;
  const [base, slow, failing, silent] = LATENCY_SCENARIOS.map(by);
  if (base.length)
    add(
      "baseline",
      "every order confirmed (2xx)",
      base.every((r) => r.ok),
      seen(base),
    );
  if (slow.length) {
    const added = median("delay_2s") - (base.length ? median("baseline") : 0);
    const d = opts.delaySeconds ?? 2;
    add(
      "delay_2s",
      `the ${d} s delay reaches the client: ≥ ${d - 0.1} s more at the median, or an error answer`,
      slow.every(isError) || added >= d * 1000 - 100,
      `${seen(slow)}; median +${seconds(added)}`,
    );
    add("delay_2s", `every order answered within ${bound} s`, within(slow), `max ${seconds(worst(slow))}`);
  }
  if (failing.length) {
    add(
      "failure",
      "an inventory failure gives the client an error answer (4xx/5xx)",
      failing.every(isError),
      seen(failing),
    );
    add("failure", `answered within ${bound} s`, within(failing), `max ${seconds(worst(failing))}`);
  }
  if (silent.length) {
    const ok = silent.every((r) => isError(r) && r.latency_ms <= bound * 1000 + 500);
    const waited = silent.some((r) => !isError(r) && r.latency_ms >= bound * 1000);
    add(
      "timeout",
      `an inventory that does not answer gives the client an error answer within ${bound} s`,
      ok,
      `${seen(silent)}${waited ? ` after up to ${seconds(worst(silent))}: the order service waited for inventory as long as it took — no timeout on its inventory call` : `; max ${seconds(worst(silent))}`}`,
    );
  }
  return checks;
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

/** The n-th retry waits backoffBaseMs × 2^(n-1) plus up to 20 % jitter (services/common/http.ts). */
const worstBackoffMs = (p: CallPolicy) => 1.2 * p.backoffBaseMs * (2 ** p.retries - 1);

/** The reserve attempts a failing inventory gets: all of them, unless the deadline comes first. */
export function expectedFailureAttempts(policy: OrderPolicy): { attempts: number; exact: boolean } {
  return { attempts: 1 + policy.reserve.retries, exact: worstBackoffMs(policy.reserve) + 500 < policy.deadline_ms };
}

/** Each scenario as the declared policy predicts it. */
export function policyChecks(rows: RequestRow[], policy: OrderPolicy, opts: Bounds = {}): Check[] {
  const checks: Check[] = [];
  const add = (scenario: LatencyScenario, check: string, passed: boolean, observed: string) =>
    checks.push({ scenario, check, passed, observed });
  const by = (s: LatencyScenario) => rows.filter((r) => r.scenario === s);
  const all = (s: LatencyScenario, status: number, error: string) =>
    add(
      s,
      `every order answered ${status} ${error}`,
      by(s).every((r) => r.http_status === status && r.error === error),
      seen(by(s)),
    );
  const bound = policyBoundMs(policy);
  const boundText = `the ${bound / 1000} s ${bound === policy.reserve.timeoutMs ? "timeout" : "deadline"}`;
  const delayMs = (opts.delaySeconds ?? 2) * 1000;
  if (by("delay_2s").length && delayMs + 250 <= bound) {
    const added =
      summarize(by("delay_2s").map((r) => r.latency_ms)).median -
      summarize(by("baseline").map((r) => r.latency_ms)).median;
    const ok = by("delay_2s").filter((r) => r.ok).length;
    add("delay_2s", "every order confirmed (200)", ok === by("delay_2s").length, `${ok}/${by("delay_2s").length} ok`);
    add(
      "delay_2s",
      `the delay adds ≈ ${delayMs / 1000} s to the median (${(delayMs - 100) / 1000}–${(delayMs + 500) / 1000} s)`,
      added >= delayMs - 100 && added <= delayMs + 500,
      `+${seconds(added)}`,
    );
  } else if (by("delay_2s").length) all("delay_2s", 504, "inventory-timeout");
  if (by("failure").length) {
    all("failure", 502, "reserve-failed");
    const rs = by("failure");
    const { attempts, exact } = expectedFailureAttempts(policy);
    const tried = `attempts: ${[...new Set(rs.map((r) => r.reserve_attempts))].join(", ")}`;
    if (exact)
      add(
        "failure",
        `each tried 1 + ${policy.reserve.retries} times`,
        rs.every((r) => r.reserve_attempts === attempts),
        tried,
      );
    else
      add(
        "failure",
        `each tried at most 1 + ${policy.reserve.retries} times, within the ${policy.deadline_ms / 1000} s deadline (+0.5 s)`,
        rs.every((r) => (r.reserve_attempts ?? 0) <= attempts && r.latency_ms <= policy.deadline_ms + 500),
        tried,
      );
  }
  if (by("timeout").length) {
    all("timeout", 504, "inventory-timeout");
    const slowest = Math.max(...by("timeout").map((r) => r.latency_ms));
    add("timeout", `answered within ${boundText} (+0.5 s)`, slowest <= bound + 500, `max ${seconds(slowest)}`);
  }
  return checks;
}
