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
} from "../harness/experiment.js";
export { checksRows } from "../harness/check.js";
export { resolveTarget, targetResultsDir, targetLine } from "../harness/target.js";
export { unlessNotObservable } from "../harness/target-control.js";
export { safeguardSource } from "../harness/safeguards.js";
export { writeSvg } from "../harness/plots.js";
export { upBrokers, downBrokers, parseBrokerArg } from "../harness/lifecycle.js";
export {
  isolatedBrokerEnv,
  useEnv,
  installedVersion,
  ensureRabbitmq4Root,
  rabbitmq4RootReady,
} from "../harness/brokers/index.js";
export { labCacheDir } from "../harness/brokers/settings.js";
export { setupNativeBrokers } from "../harness/brokers/setup.js";
export { ensureJupyter, jupyterEnv, jupyterReady, notebooksDir, venvBin } from "../harness/jupyter.js";
export { addPdfs, buildReport, reportsDir } from "../harness/report.js";
export { projectRoot } from "../common/paths.js";
