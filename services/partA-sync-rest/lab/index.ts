// Part A in the lab library: the implementation under test, the latency experiment (baseline, a
// slow, a failing and a silent inventory) and the connections experiment, for scripts, notebooks
// and tests; and its safeguards' switches (what `--without` takes).
export * from "./implementation.js";
export * from "./latency.js";
export * from "./connections.js";
export { PARTA_SAFEGUARDS, partASafeguardNamed, type PartASafeguard } from "../switches.js";
export * from "./target.js";
export * from "./latency-outside.js";
