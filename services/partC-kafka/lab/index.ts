// Part C in the lab library: the driver (openPartC / withPartC on any target file, the lab's own
// lab.yml included) and its three experiments (load, lag, replay), for scripts and notebook 03.
export { openPartC, withPartC, type PartC } from "./implementation.js";
export { loadExperiment } from "../experiments/load.js";
export { lagExperiment } from "../experiments/lag.js";
export { replayExperiment } from "../experiments/replay.js";
