// The outbox with publisher confirms. Without it the order service answers 202 and publishes
// OrderPlaced fire-and-forget: the orders placed while RabbitMQ restarts are answered and lost.
// Shown by the B-broker-restart scenario (orders at a fixed rate, RabbitMQ stopped and started).
import type { SafeguardExperiment } from "../../harness/safeguards.js";
import { brokerRestart } from "../faults/scenarios.js";
import { fromScenario, prevents, scenarioOptions } from "./from-scenario.js";

export const confirms: SafeguardExperiment = {
  safeguard: "confirms",
  part: "B",
  scenario: "B-broker-restart: orders at a fixed rate while RabbitMQ is stopped and started again",
  prevents: prevents("confirms"),
  run: async (opts, on) => fromScenario(await brokerRestart(scenarioOptions(opts, "confirms", on))),
};
