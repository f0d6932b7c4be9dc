// The harness: what every part's experiments, benchmarks and fault scenarios share — bringing a
// part and its brokers up and down, processes and ports, fixed-rate load, statistics, plots,
// tables, the checker's verdict, the notebook display helpers and the report.
export * from "./lifecycle.js";
export * from "./parts.js";
export * from "./ports.js";
export * from "./processes.js";
export * from "./plots.js";
export * from "./stats.js";
export * from "./jupyter.js";
export * from "./notebook.js";
export * from "./report.js";
export * from "./brokers/index.js";
export * from "./fixed-rate.js";
export * from "./histogram.js";
export * from "./verdict.js";
export * from "./check.js";
export * from "./results.js";
export * from "./safeguards.js";
export * from "./target.js";
export * from "./experiment.js";
export * from "./capabilities.js";
export * from "../common/paths.js";
export * from "../common/table.js";
export * from "../common/wait.js";
