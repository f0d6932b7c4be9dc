// Durable queues and persistent messages. Without them the queues are transient and the messages
// kept in memory only: the orders waiting in RabbitMQ when it restarts are gone with their queue.
// Shown by the B-broker-restart scenario (inventory slowed, so orders wait when the broker stops);
// the run without it starts and ends on deleted queues (faults/stack.ts).
import { brokerRestart } from "../faults/scenarios.js";
import { scenarioSafeguard } from "../../harness/safeguards.js";
import { PARTB_SAFEGUARDS } from "../switches.js";

export const durability = scenarioSafeguard({
  safeguard: "durability",
  part: "B",
  faultScenario: "B-broker-restart",
  scenario: "B-broker-restart: RabbitMQ restarted while accepted orders wait in its queues",
  prevents: PARTB_SAFEGUARDS["durability"].prevents,
  runScenario: brokerRestart,
});
