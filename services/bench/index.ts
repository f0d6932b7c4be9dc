// The benchmarks, for lab-scripts/bench.mjs and the notebooks.
export * from "../harness/fixed-rate.js";
export * from "../harness/histogram.js";
export * from "../harness/machine.js";
export * from "../harness/bench-report.js";
export * from "../partA-sync-rest/bench/bench.js";
export * from "../partB-rabbitmq/bench/bench.js";
export * from "../partC-kafka/bench/bench.js";
export * from "./plots.js";
