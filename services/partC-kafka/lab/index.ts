// Part C in the lab library: the driver (openPartC / withPartC on any target file, the lab's own
// lab.yml included), its three experiments (load, lag, replay) and the lab's own services' client.
export { openPartC, withPartC, partCSafeguard, type PartC } from "./implementation.js";
export { loadExperiment } from "../experiments/load.js";
export { lagExperiment } from "../experiments/lag.js";
export { replayExperiment } from "../experiments/replay.js";
export { labClient, endpoints, GROUPS, TOPICS } from "./client.js";
