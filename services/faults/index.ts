// The fault campaign: every scenario, for lab-scripts/faults.mjs, the tests and the notebooks.
import * as partA from "../partA-sync-rest/faults/scenarios.js";
import { PARTB_SCENARIOS } from "../partB-rabbitmq/experiments/index.js";
import * as partC from "../partC-kafka/faults/scenarios.js";
import { securityBasics } from "./security.js";
import {
  withoutSafeguard,
  type FaultScenario,
  type ScenarioOptions,
  type ScenarioResult,
  type WithoutSafeguard,
} from "../harness/verdict.js";

export * from "../harness/verdict.js";
export * from "../harness/fuzz.js";
export * from "../harness/hostile.js";
export type { ScenarioOptions };

/** A scenario written as a function of its own, and the safeguards its checker depends on. */
const scenario = (run: FaultScenario["run"], safeguards: string[] = []): FaultScenario => ({ run, safeguards });

/**
 * Every scenario, and the safeguards each one's invariants depend on: with any one of them switched
 * off, the scenario must FAIL (each was run so once, and failed). Scenarios without one (C's bad
 * input and broker restart, security) test validation and reconnection, which have no switch.
 */
export const FAULT_SCENARIOS: Record<string, FaultScenario> = {
  "A-slow-failing-dependency": scenario(partA.slowAndFailingDependency, [
    "call-timeout",
    "idempotency-key",
    "in-flight-limit",
    "no-retry-on-timeout",
  ]),
  "A-bad-input": scenario(partA.badInput),
  ...PARTB_SCENARIOS,
  "C-consumer-crash": scenario(partC.consumerCrash, ["commit-after-ack"]),
  "C-broker-restart": scenario(partC.brokerRestart),
  "C-bad-input": scenario(partC.badInput),
  "C-duplicates": scenario(partC.duplicates, ["dedupe"]),
  "security-basics": scenario(securityBasics),
};

export const SCENARIOS = Object.fromEntries(Object.entries(FAULT_SCENARIOS).map(([name, s]) => [name, s.run]));

export const SCENARIO_SAFEGUARDS = Object.fromEntries(
  Object.entries(FAULT_SCENARIOS)
    .filter(([, s]) => s.safeguards.length)
    .map(([name, s]) => [name, s.safeguards]),
);

/** One scenario as the campaign runs it: as is, then without each safeguard it depends on. */
export async function runScenario(name: string, opts: ScenarioOptions): Promise<ScenarioResult> {
  const run = SCENARIOS[name];
  if (!run) throw new Error(`unknown scenario ${name}: use one of ${Object.keys(SCENARIOS).join(", ")}`);
  const result = await run(opts);
  const withoutSafeguards: WithoutSafeguard[] = [];
  for (const safeguard of SCENARIO_SAFEGUARDS[name] ?? []) {
    opts.log(`again without ${safeguard}: its checker must fail`);
    withoutSafeguards.push(withoutSafeguard(safeguard, await run({ ...opts, without: safeguard })));
  }
  return withoutSafeguards.length ? { ...result, without_safeguards: withoutSafeguards } : result;
}
