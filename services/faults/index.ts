// The fault campaign: every scenario, for lab-scripts/faults.mjs, the tests and the notebooks.
import { PARTA_SCENARIOS } from "../partA-sync-rest/experiments/index.js";
import { PARTB_SCENARIOS } from "../partB-rabbitmq/experiments/index.js";
import { PARTC_SCENARIOS } from "../partC-kafka/experiments/index.js";
import { securityBasics } from "./security.js";
import {
  verdictOf,
  withoutSafeguard,
  type FaultScenario,
  type ScenarioOptions,
  type ScenarioResult,
  type WithoutSafeguard,
} from "../harness/judge/verdict.js";

export * from "../harness/judge/verdict.js";
export * from "../harness/measure/fuzz.js";
export * from "../harness/measure/hostile.js";
export type { ScenarioOptions };

/**
 * Every scenario, and the safeguards each one's invariants depend on: with any one of them switched
 * off, the scenario must FAIL (each was run so once, and failed). Each part's scenarios are its
 * experiments run with a fault (its experiments/index.ts); security-basics, across the parts,
 * drives the lab's own services only. Scenarios without a safeguard (C's bad input and broker
 * restart, security) test validation and reconnection, which have no switch.
 */
export const FAULT_SCENARIOS: Record<string, FaultScenario> = {
  ...PARTA_SCENARIOS,
  ...PARTB_SCENARIOS,
  ...PARTC_SCENARIOS,
  "security-basics": { run: securityBasics, safeguards: [] },
};

export const SCENARIOS = Object.fromEntries(Object.entries(FAULT_SCENARIOS).map(([name, s]) => [name, s.run]));

export const SCENARIO_SAFEGUARDS = Object.fromEntries(
  Object.entries(FAULT_SCENARIOS)
    .filter(([, s]) => s.safeguards.length)
    .map(([name, s]) => [name, s.safeguards]),
);

/**
 * One scenario as the campaign runs it: as is, then without each safeguard it depends on (the lab's
 * own services only: a team's implementation has no switch the lab could turn).
 */
export async function runScenario(name: string, opts: ScenarioOptions): Promise<ScenarioResult> {
  const scenario = FAULT_SCENARIOS[name];
  if (!scenario) throw new Error(`unknown scenario ${name}: use one of ${Object.keys(SCENARIOS).join(", ")}`);
  const foreign = opts.target && !opts.target.lab;
  if (foreign && !scenario.throughTarget) return labOnly(name, opts);
  const result = await scenario.run(opts);
  if (foreign) return result;
  const withoutSafeguards: WithoutSafeguard[] = [];
  for (const safeguard of scenario.safeguards) {
    opts.log(`again without ${safeguard}: its checker must fail`);
    withoutSafeguards.push(withoutSafeguard(safeguard, await scenario.run({ ...opts, without: safeguard })));
  }
  return withoutSafeguards.length ? { ...result, without_safeguards: withoutSafeguards } : result;
}

/** A scenario that drives the lab's own services from inside, on a team's target: not observable, with the reason. */
const labOnly = (name: string, opts: ScenarioOptions): ScenarioResult => ({
  ...verdictOf({
    scenario: name,
    part: /^[ABC]-/.test(name) ? (name[0] as "A" | "B" | "C") : "all",
    seed: opts.seed,
    orders_sent: 0,
    orders_acknowledged: 0,
    final_states: {},
    lost: 0,
    duplicated_effects: 0,
    invariants: [],
    details: { skipped: [{ check: name, reason: "this scenario runs only on the lab's own services" }] },
  }),
  verdict: "NOT OBSERVABLE",
});
