// Part B in the lab library: the driver (any target, the lab's own included), its experiments and
// the safeguards' switches.
export { openPartB, withPartB, type PartB, type PartBCapability } from "./implementation.js";
export { PARTB_EXPERIMENTS } from "../experiments/index.js";
export { PARTB_SAFEGUARDS } from "../switches.js";
