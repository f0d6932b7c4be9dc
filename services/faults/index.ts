// The fault campaign: every scenario, for lab-scripts/faults.mjs, the tests and the notebooks.
import * as partA from "../partA-sync-rest/faults/scenarios.js";
import * as partB from "../partB-rabbitmq/faults/scenarios.js";
import * as partC from "../partC-kafka/faults/scenarios.js";
import { securityBasics } from "./security.js";
import { withoutSafeguard, type ScenarioOptions, type ScenarioResult } from "../harness/verdict.js";

export * from "../harness/verdict.js";
export * from "../harness/fuzz.js";
export * from "../harness/hostile.js";
export type { ScenarioOptions };

export const SCENARIOS: Record<string, (opts: ScenarioOptions) => Promise<ScenarioResult>> = {
  "A-slow-failing-dependency": partA.slowAndFailingDependency,
  "A-bad-input": partA.badInput,
  "B-consumer-crash": partB.consumerCrash,
  "B-broker-restart": partB.brokerRestart,
  "B-bad-input": partB.badInput,
  "B-duplicates": partB.duplicates,
  "C-consumer-crash": partC.consumerCrash,
  "C-broker-restart": partC.brokerRestart,
  "C-bad-input": partC.badInput,
  "C-duplicates": partC.duplicates,
  "security-basics": securityBasics,
};

/**
 * The safeguard each scenario's invariants depend on: switched off, the scenario must FAIL.
 * Scenarios without one (bad input, security) test validation, which has no switch.
 */
export const SCENARIO_SAFEGUARDS: Partial<Record<keyof typeof SCENARIOS, string>> = {};

/** One scenario as the campaign runs it: as is, then (if it depends on one) without its safeguard. */
export async function runScenario(name: string, opts: ScenarioOptions): Promise<ScenarioResult> {
  const run = SCENARIOS[name];
  if (!run) throw new Error(`unknown scenario ${name}: use one of ${Object.keys(SCENARIOS).join(", ")}`);
  const result = await run(opts);
  const safeguard = SCENARIO_SAFEGUARDS[name];
  if (!safeguard) return result;
  opts.log(`again without ${safeguard}: its checker must fail`);
  const without = await run({ ...opts, without: safeguard });
  return { ...result, without_safeguard: withoutSafeguard(safeguard, without) };
}
