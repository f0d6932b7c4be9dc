// Part A in the lab library: its driver (any target, the lab's own included), its two experiments
// (latency: baseline, a slow, a failing and a silent inventory; connections: what connecting costs
// per hop) and what the scripts and notebook show of them; its safeguards' switches (`--without`).
export { openPartA, withPartA, type PartAImplementation } from "./implementation.js";
export { latency, summaryTable, latencyPlot, scenariosFor, LATENCY_SCENARIOS } from "../experiments/latency.js";
export {
  connections,
  CONNECTION_MODES,
  MODE_TEXT,
  HOPS,
  hopsTable,
  connectionsPlot,
} from "../experiments/connections.js";
export { PARTA_SAFEGUARDS } from "../switches.js";
