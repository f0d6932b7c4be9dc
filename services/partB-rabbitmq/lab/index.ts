// Part B in the lab library: the driver (any target, the lab's own included), its experiments,
// the one way a script runs one and reads its verdict, and the safeguards' switches.
export { openPartB, type PartB, type PartBCapability } from "./implementation.js";
export { PARTB_EXPERIMENTS, partBVerdict, runPartB } from "../experiments/index.js";
export { PARTB_SAFEGUARDS } from "../switches.js";
