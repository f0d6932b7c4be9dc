// Durable queues and persistent messages. Without them the queues are transient and the messages
// kept in memory only: the orders waiting in RabbitMQ when it restarts are gone with their queue.
// Shown by the B-broker-restart scenario (inventory slowed, so orders wait when the broker stops);
// the run without it starts and ends on deleted queues (faults/stack.ts).
import type { SafeguardExperiment } from "../../harness/safeguards.js";
import { brokerRestart } from "../faults/scenarios.js";
import { fromScenario, prevents, scenarioOptions } from "./from-scenario.js";

export const durability: SafeguardExperiment = {
  safeguard: "durability",
  part: "B",
  scenario: "B-broker-restart: RabbitMQ restarted while accepted orders wait in its queues",
  prevents: prevents("durability"),
  run: async (opts, on) => fromScenario(await brokerRestart(scenarioOptions(opts, "durability", on))),
};
