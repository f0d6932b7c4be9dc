// Part B in the lab library: a client for the running services and the broker, the implementation
// under test, the inventory outage, and the experiments (backlog and recovery, idempotency,
// dead-letter queue, batching) for scripts, notebooks and tests.
export * from "./client.js";
export * from "./implementation.js";
export * from "./outage.js";
export * from "./experiment.js";
export * from "./backlog.js";
export * from "./idempotency.js";
export * from "./dlq.js";
export * from "./batching.js";
export * from "../switches.js";
export * from "./tap.js";
export * from "./target.js";
export * from "./outside.js";
export * from "./backlog-outside.js";
export * from "./idempotency-outside.js";
export * from "./dlq-outside.js";
