// dedupe: inventory answers an order with an eventId derived from the order's, and analytics
// counts an eventId once. The scenario is the fault campaign's C-duplicates: every OrderPlaced
// appended twice, every answer once more, then a replay of that log. With the safeguard,
// analytics counts what one delivery counts. Without it, every copy is counted.
import { scenarioSafeguard } from "../../harness/safeguards.js";
import { duplicates } from "../faults/scenarios.js";
import { PARTC_SAFEGUARDS } from "../switches.js";

export const dedupe = scenarioSafeguard({
  safeguard: "dedupe",
  part: "C",
  scenario: "C-duplicates: every OrderPlaced appended twice and every answer once more, then the log replayed",
  prevents: PARTC_SAFEGUARDS.dedupe.prevents,
  faultScenario: "C-duplicates",
  runScenario: duplicates,
});
