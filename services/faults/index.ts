// The fault campaign: every scenario, for lab-scripts/faults.mjs, the tests and the notebooks.
import * as partA from "../partA-sync-rest/faults/scenarios.js";
import * as partB from "../partB-rabbitmq/faults/scenarios.js";
import * as partC from "../partC-kafka/faults/scenarios.js";
import { securityBasics } from "./security.js";
import type { ScenarioOptions } from "../harness/verdict.js";
import type { ScenarioResult } from "../harness/verdict.js";

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
