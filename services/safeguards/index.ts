// Every safeguard of the three parts, with its scenario: for lab-scripts/safeguards.mjs
// (`npm run safeguards`), the fault campaign, the notebooks and the tests.
import { PARTA_SAFEGUARD_EXPERIMENTS as partA } from "../partA-sync-rest/experiments/index.js";
import { PARTB_SAFEGUARD_EXPERIMENTS as partB } from "../partB-rabbitmq/experiments/index.js";
import { PARTC_SAFEGUARD_EXPERIMENTS as partC } from "../partC-kafka/experiments/index.js";
import type { SafeguardExperiment } from "../harness/judge/safeguards.js";

export * from "../harness/judge/safeguards.js";

export const SAFEGUARDS: SafeguardExperiment[] = [...partA, ...partB, ...partC];

/** One safeguard's experiment by name; an error that lists the names otherwise. */
export function safeguardNamed(name: string): SafeguardExperiment {
  const found = SAFEGUARDS.find((s) => s.safeguard === name);
  if (!found) throw new Error(`unknown safeguard ${name}: use one of ${SAFEGUARDS.map((s) => s.safeguard).join(", ")}`);
  return found;
}
