// The outbox with publisher confirms. Without it the order service answers 202 and publishes
// OrderPlaced fire-and-forget: the orders placed while RabbitMQ restarts are answered and lost.
// Shown by the B-broker-restart scenario (orders at a fixed rate, RabbitMQ stopped and started).
import { brokerRestart } from "../faults/scenarios.js";
import { scenarioSafeguard } from "./from-scenario.js";

export const confirms = scenarioSafeguard(
  "confirms",
  "B-broker-restart",
  "orders at a fixed rate while RabbitMQ is stopped and started again",
  brokerRestart,
);
