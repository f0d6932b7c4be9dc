// Part C's safeguards, each with the scenario that shows what it prevents (see harness/safeguards.ts).
import type { SafeguardExperiment } from "../../harness/safeguards.js";

export const SAFEGUARDS: SafeguardExperiment[] = [];
