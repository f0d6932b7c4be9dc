// Part C in the lab library: a client for the running services, the implementation under test,
// and the three experiments (load, lag under throttling, replay) for scripts, notebooks and tests;
// each also on any target (runXThrough): a foreign implementation judged from outside.
export * from "./client.js";
export * from "./implementation.js";
export * from "./load.js";
export * from "./lag.js";
export * from "./replay.js";
export * from "./target.js";
export * from "./wire-tap.js";
export * from "./outside.js";
export * from "./load-outside.js";
export * from "./lag-outside.js";
export * from "./replay-outside.js";
