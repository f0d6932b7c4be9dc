// The lab library shared by lab-scripts/, notebooks/ and the tests.
export * from "./lab.js";
export * from "./parts.js";
export * from "./paths.js";
export * from "./ports.js";
export * from "./processes.js";
export * from "./plots.js";
export * from "./stats.js";
export * from "./table.js";
export * from "./wait.js";
export * from "./jupyter.js";
export * from "./notebook.js";
export * from "./report.js";
export * from "./brokers/index.js";
export * from "./partA.js";
export * from "./partB/index.js";
export * from "./partC/index.js";
export * from "./compare.js";
