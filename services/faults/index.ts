// The fault campaign: every scenario, for lab-scripts/faults.mjs, the tests and the notebooks.
import * as partA from "./partA.js";
import type { ScenarioOptions } from "./partA.js";
import type { ScenarioResult } from "./verdict.js";

export * from "./verdict.js";
export * from "./fuzz.js";
export * from "./hostile.js";
export type { ScenarioOptions };

export const SCENARIOS: Record<string, (opts: ScenarioOptions) => Promise<ScenarioResult>> = {
  "A-slow-failing-dependency": partA.slowAndFailingDependency,
  "A-bad-input": partA.badInput,
};
