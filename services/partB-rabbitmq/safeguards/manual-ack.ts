// Acks after processing. Without them (auto-ack) RabbitMQ forgets a message the moment it hands
// it to inventory, and hands it the whole backlog at once (a prefetch limits unacked messages
// only): kill -9 of inventory part-way loses every message it held. Shown by B-consumer-crash.
import { consumerCrash } from "../faults/scenarios.js";
import { scenarioSafeguard } from "../../harness/safeguards.js";
import { PARTB_SAFEGUARDS } from "../switches.js";

export const manualAck = scenarioSafeguard({
  safeguard: "manual-ack",
  part: "B",
  faultScenario: "B-consumer-crash",
  scenario: "B-consumer-crash: inventory killed (kill -9) part-way through a backlog, then started again",
  prevents: PARTB_SAFEGUARDS["manual-ack"].prevents,
  runScenario: consumerCrash,
});
