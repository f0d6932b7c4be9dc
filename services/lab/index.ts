// The lab library for lab-scripts/, notebooks/ and the tests: one entry point. A name says its part:
//   lab.partA.openPartA(target), lab.partB.PARTB_EXPERIMENTS.backlog, lab.partC.replayExperiment,
//   lab.harness.runExperiment(experiment, implementation, options), lab.compare.runComparison(…).
// The top level keeps only what nearly every notebook cell or script uses: bringing a part up
// and down, the display helpers, the table printer and the size of the run.
export * as harness from "./harness.js";
export * as partA from "../partA-sync-rest/lab/index.js";
export * as partB from "../partB-rabbitmq/lab/index.js";
export * as partC from "../partC-kafka/lab/index.js";
export * as compare from "../compare/index.js";
export * as safeguards from "./safeguards.js";
export { up, down } from "../harness/run/lifecycle.js";
export { status } from "../harness/run/status.js";
export { PARTS, PART_IDS, parsePartArg } from "../harness/run/parts.js";
export {
  showPlot,
  showTable,
  showVerdict,
  showMarkdown,
  showSvgFiles,
  labMode,
  byMode,
} from "../harness/show/notebook.js";
export { markdownTable, type Row } from "../common/table.js";
export { resultsDir, projectRoot } from "../common/paths.js";
