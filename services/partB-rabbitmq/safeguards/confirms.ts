// The outbox with publisher confirms. Without it the order service answers 202 and publishes
// OrderPlaced fire-and-forget: the orders placed while RabbitMQ restarts are answered and lost.
// Shown by the B-broker-restart scenario (orders at a fixed rate, RabbitMQ stopped and started).
import { brokerRestart } from "../faults/scenarios.js";
import { scenarioSafeguard } from "../../harness/safeguards.js";
import { PARTB_SAFEGUARDS } from "../switches.js";

export const confirms = scenarioSafeguard({
  safeguard: "confirms",
  part: "B",
  faultScenario: "B-broker-restart",
  scenario: "B-broker-restart: orders at a fixed rate while RabbitMQ is stopped and started again",
  prevents: PARTB_SAFEGUARDS["confirms"].prevents,
  runScenario: brokerRestart,
});
