// Part C in the lab library: a client for the running services, the implementation under test,
// and the three experiments (load, lag under throttling, replay) for scripts, notebooks and tests.
export * from "./client.js";
export * from "./implementation.js";
export * from "./load.js";
export * from "./lag.js";
export * from "./replay.js";
