// The benchmarks, for lab-scripts/bench.mjs and the notebooks.
export * from "../harness/measure/fixed-rate.js";
export * from "../harness/measure/histogram.js";
export * from "../harness/measure/machine.js";
export * from "../harness/show/bench-report.js";
export * from "./plots.js";
export * from "./run.js";
