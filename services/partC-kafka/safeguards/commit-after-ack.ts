// commit-after-ack: the inventory consumer commits an order's offset only once Kafka has
// acknowledged its answer. The scenario is the fault campaign's C-consumer-crash: inventory,
// throttled, is frozen and killed (kill -9) at a moment when its answers and its commits
// disagree, then restarted. With the safeguard, that moment is "answered, not committed": the
// restarted consumer answers those orders again, and analytics counts them once. Without it the
// commit comes first, so the moment is "committed, not answered": those orders are never answered.
import { scenarioSafeguard } from "../../harness/safeguards.js";
import { consumerCrash } from "../faults/scenarios.js";
import { PARTC_SAFEGUARDS } from "../switches.js";

export const commitAfterAck = scenarioSafeguard({
  safeguard: "commit-after-ack",
  part: "C",
  scenario:
    "C-consumer-crash: a load test; inventory killed (kill -9) while its answers and its committed offsets disagree, then restarted",
  prevents: PARTC_SAFEGUARDS["commit-after-ack"].prevents,
  faultScenario: "C-consumer-crash",
  runScenario: consumerCrash,
});
