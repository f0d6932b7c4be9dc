// The fault campaign: every scenario, for lab-scripts/faults.mjs, the tests and the notebooks.
import * as partA from "../partA-sync-rest/faults/scenarios.js";
import * as partB from "../partB-rabbitmq/faults/scenarios.js";
import * as partC from "../partC-kafka/faults/scenarios.js";
import { securityBasics } from "./security.js";
import {
  withoutSafeguard,
  type ScenarioOptions,
  type ScenarioResult,
  type WithoutSafeguard,
} from "../harness/verdict.js";

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
 * The safeguards each scenario's invariants depend on: with any one of them switched off, the
 * scenario must FAIL (each was run so once, and failed). Scenarios without one (C's bad input and
 * broker restart, security) test validation and reconnection, which have no switch.
 */
export const SCENARIO_SAFEGUARDS: Record<string, string[]> = {
  "A-slow-failing-dependency": ["call-timeout", "idempotency-key", "in-flight-limit", "no-retry-on-timeout"],
  "B-consumer-crash": ["manual-ack"],
  "B-broker-restart": ["confirms", "durability"],
  "B-bad-input": ["dead-letter"],
  "B-duplicates": ["idempotent-consumer"],
  "C-consumer-crash": ["commit-after-ack"],
  "C-duplicates": ["dedupe"],
};

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
