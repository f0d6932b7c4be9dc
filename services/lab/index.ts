// The lab library shared by lab-scripts/, notebooks/ and the tests.
export * from "../harness/lifecycle.js";
export * from "../harness/parts.js";
export * from "../common/paths.js";
export * from "../harness/ports.js";
export * from "../harness/processes.js";
export * from "../harness/plots.js";
export * from "../harness/stats.js";
export * from "../common/table.js";
export * from "../common/wait.js";
export * from "../harness/jupyter.js";
export * from "../harness/notebook.js";
export * from "../harness/report.js";
export * from "../harness/brokers/index.js";
export * from "../partA-sync-rest/lab/latency.js";
export * from "../partB-rabbitmq/lab/index.js";
export * from "../partC-kafka/lab/index.js";
export * from "../compare/compare.js";
