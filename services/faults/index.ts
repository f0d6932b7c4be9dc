// The fault campaign: every scenario, for lab-scripts/faults.mjs, the tests and the notebooks.
import * as partA from "./partA.js";
import * as partB from "./partB.js";
import * as partC from "./partC.js";
import { securityBasics } from "./security.js";
import type { ScenarioOptions } from "./partA.js";
import type { ScenarioResult } from "./verdict.js";

export * from "./verdict.js";
export * from "./fuzz.js";
export * from "./hostile.js";
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
