// The benchmarks, for lab-scripts/bench.mjs and the notebooks.
export * from "./fixed-rate.js";
export * from "./histogram.js";
export * from "./machine.js";
export * from "./report.js";
export * from "./partA.js";
export * from "./partB.js";
export * from "./partC.js";
export * from "./plots.js";
