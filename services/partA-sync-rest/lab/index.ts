// Part A in the lab library: the latency experiment (baseline, a slow, a failing and a silent
// inventory) for scripts, notebooks and tests.
export * from "./latency.js";
export * from "./connections.js";
