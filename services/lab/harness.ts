// The harness as notebooks and scripts see it: running an experiment (whole or step by step) and
// writing its results, the implementation under test (a target file), brokers of a run's own,
// and what the set-up and report scripts need. Everything else of harness/ stays inside the lab.
export {
  beginExperiment,
  runStep,
  finishExperiment,
  runExperiment,
  writeExperiment,
  experimentMarkdown,
  experimentVerdict,
} from "../harness/judge/experiment.js";
export { checksRows } from "../harness/judge/check.js";
export { resolveTarget, targetResultsDir, targetLine } from "../harness/judge/target.js";
export { unlessNotObservable } from "../harness/judge/target-control.js";
export { safeguardSource } from "../harness/judge/safeguards.js";
export { writeSvg } from "../harness/show/plots.js";
export { upBrokers, downBrokers, parseBrokerArg } from "../harness/run/status.js";
export { isolatedBrokerEnv, useEnv } from "../harness/run/brokers/index.js";
export { ensureJupyter, jupyterEnv, jupyterReady, notebooksDir, venvBin } from "../harness/show/jupyter.js";
export { addPdfs, buildReport, reportsDir } from "../harness/show/report.js";
export { writeReference } from "../harness/show/reference.js";
