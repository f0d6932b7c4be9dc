// What every fault scenario reports, Maelstrom-style: what was sent, what was acknowledged,
// where each order ended up, what was lost or done twice, and the checker's verdict.
import fs from "node:fs";
import path from "node:path";
import { readJsonResults, resultsDir, writeJsonResult } from "../../common/paths.js";
import { markdownTable } from "../../common/table.js";
import type { Check } from "./check.js";
import type { ExperimentResult } from "./experiment.js";
import type { Target } from "./target.js";

/** What every fault scenario is given: its LAB_HOME, its size, its seed and where to log. */
export interface ScenarioOptions {
  home: string;
  quick: boolean;
  seed: number;
  log: (line: string) => void;
  /**
   * A safeguard of the part switched off for this run (SAFEGUARDS_OFF for its services): the
   * campaign's proof that the scenario's checker fails without the safeguard it depends on.
   */
  without?: string;
  /** The implementation under test (a script's --target); the lab's own services (lab.yml) when absent. */
  target?: Target;
}

export interface ScenarioResult {
  scenario: string;
  part: "A" | "B" | "C" | "all";
  seed: number;
  orders_sent: number;
  orders_acknowledged: number;
  final_states: Record<string, number>;
  lost: number;
  duplicated_effects: number;
  /** Anomalies that are neither a loss nor an effect done twice (answered past a deadline, counted wrong…), by name. */
  other_anomalies?: Record<string, number>;
  invariants: Check[];
  /** NOT OBSERVABLE: the target lacks what the scenario needs (details.skipped says why). */
  verdict: "PASS" | "FAIL" | "NOT OBSERVABLE";
  details?: Record<string, unknown>;
  /** The same scenario with each safeguard it depends on switched off, one at a time: its checker must then fail. */
  without_safeguards?: WithoutSafeguard[];
  at: string;
}

/** The campaign's proof that a checker can fail: the scenario re-run without its safeguard. */
export interface WithoutSafeguard {
  safeguard: string;
  verdict: ScenarioResult["verdict"];
  lost: number;
  duplicated_effects: number;
  /** The invariants it broke, with what was observed. */
  broken: string[];
  /** The checker caught it: the verdict is FAIL. */
  caught: boolean;
}

export function withoutSafeguard(safeguard: string, r: ScenarioResult): WithoutSafeguard {
  return {
    safeguard,
    verdict: r.verdict,
    lost: r.lost,
    duplicated_effects: r.duplicated_effects,
    broken: r.invariants.filter((i) => !i.passed).map((i) => `${i.check}: ${i.observed}`),
    caught: r.verdict === "FAIL",
  };
}

/**
 * A fault scenario is an experiment run with a fault: its result as the campaign records it. The
 * experiment's tally gives what was sent, acknowledged, lost and done twice; its checks are the
 * invariants (a check the target could not be put to is not one).
 */
export function scenarioOf(scenario: string, part: ScenarioResult["part"], seed: number, r: ExperimentResult) {
  const t = r.tally;
  const lost = t?.anomalies.lost ?? 0;
  const twice = Object.entries(t?.anomalies ?? {}).filter(([k]) => /twice|duplicat/.test(k));
  const other = Object.entries(t?.anomalies ?? {}).filter(([k]) => k !== "lost" && !/twice|duplicat/.test(k));
  const result = verdictOf({
    scenario,
    part,
    seed,
    orders_sent: t?.sent ?? 0,
    orders_acknowledged: t?.acknowledged ?? 0,
    final_states: t?.final_states ?? {},
    lost,
    duplicated_effects: twice.reduce((sum, [, n]) => sum + n, 0),
    ...(other.some(([, n]) => n > 0) ? { other_anomalies: Object.fromEntries(other) } : {}),
    invariants: r.checks,
    details: { target: r.target, figures: r.figures, skipped: r.skipped, experiment: r.experiment },
  });
  return r.verdict === "NOT OBSERVABLE" ? { ...result, verdict: r.verdict } : result;
}

/** A fault scenario of the campaign: how to run it, and the safeguards its checker depends on. */
export interface FaultScenario {
  run: (opts: ScenarioOptions) => Promise<ScenarioResult>;
  /** With any one of them switched off (opts.without), its checker must FAIL. */
  safeguards: string[];
  /** Its run honours opts.target (any implementation); otherwise it runs on the lab's own services only. */
  throughTarget?: boolean;
}

/** A fault scenario that is an experiment run with a fault: `run` opens the implementation (opts.target, opts.without) and runs it. */
export const experimentScenario = (
  name: string,
  part: ScenarioResult["part"],
  safeguards: string[],
  run: (opts: ScenarioOptions) => Promise<ExperimentResult>,
): FaultScenario => ({
  safeguards,
  throughTarget: true,
  run: async (opts) => scenarioOf(name, part, opts.seed, await run(opts)),
});

export function verdictOf(r: Omit<ScenarioResult, "verdict" | "at">): ScenarioResult {
  const others = Object.values(r.other_anomalies ?? {}).reduce((a, b) => a + b, 0);
  const holds = r.invariants.every((i) => i.passed) && r.lost === 0 && r.duplicated_effects === 0 && others === 0;
  return { ...r, verdict: holds ? "PASS" : "FAIL", at: new Date().toISOString() };
}

export const writeScenario = (r: ScenarioResult, dir = resultsDir("faults")): string =>
  writeJsonResult(dir, r.scenario, r);

export const readScenarios = (dir = resultsDir("faults")): ScenarioResult[] =>
  readJsonResults<ScenarioResult>(dir).sort((a, b) => a.scenario.localeCompare(b.scenario));

const states = (s: Record<string, number>) =>
  Object.entries(s)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");

const withoutText = (ws: WithoutSafeguard[] | undefined): string =>
  !ws?.length
    ? "—"
    : ws
        .map(
          (w) =>
            `${w.caught ? "✔ caught" : "✖ not caught"} without ${w.safeguard}` +
            ` (lost ${w.lost}, twice ${w.duplicated_effects}${w.broken.length ? `, ${w.broken.length} invariant(s) broken` : ""})`,
        )
        .join("; ");

export function scenarioTable(results: ScenarioResult[]) {
  return results.map((r) => ({
    scenario: r.scenario,
    part: r.part,
    "orders sent": r.orders_sent,
    acknowledged: r.orders_acknowledged,
    "final states": states(r.final_states),
    lost: r.lost,
    "duplicated effects": r.duplicated_effects,
    "other anomalies":
      states(Object.fromEntries(Object.entries(r.other_anomalies ?? {}).filter(([, n]) => n > 0))) || "—",
    verdict: r.verdict === "PASS" ? "✔ PASS" : r.verdict === "FAIL" ? "✖ FAIL" : "– NOT OBSERVABLE",
    "without its safeguards": withoutText(r.without_safeguards),
  }));
}

export function writeFaultsReadme(results: ScenarioResult[], dir = resultsDir("faults")): string {
  const failing = results.flatMap((r) =>
    r.invariants
      .filter((i) => !i.passed)
      .map((i) => ({ scenario: r.scenario, invariant: i.check, observed: i.observed })),
  );
  const text = [
    "# Fault campaign",
    "",
    "Each scenario runs against the real stack, then a checker tests its invariants. Scenarios are reproducible from their seed.",
    "A scenario that depends on safeguards runs again with each of them switched off (`SAFEGUARDS_OFF`), one at a time: its checker must then fail — the proof that it can.",
    "",
    markdownTable(scenarioTable(results)),
    "",
    "## Invariants",
    "",
    markdownTable(
      results.flatMap((r) =>
        r.invariants.map((i) => ({
          scenario: r.scenario,
          invariant: i.check,
          holds: i.passed ? "✔" : "✖",
          observed: i.observed,
        })),
      ),
    ),
    "",
    failing.length ? `**${failing.length} invariant(s) broken.**` : "Every invariant held.",
    "",
  ].join("\n");
  const file = path.join(dir, "README.md");
  fs.writeFileSync(file, text);
  return file;
}
