// What the three Part B experiments share: bring the part up unless it runs (and stop only what
// the run started), and drive it through its implementation. Checks and result files are the
// harness's (check.ts, results.ts).
import { usePart, type LabOptions } from "../../harness/lifecycle.js";
import { labImplementation, type PartBImplementation } from "./implementation.js";

/** Run `body` against Part B: what runs is used, what is missing is started for this run and stopped afterwards. */
export const withPartB = <T>(opts: LabOptions, body: (impl: PartBImplementation) => Promise<T>): Promise<T> =>
  usePart("partB", opts, (running) => body(labImplementation(running, opts)));

export const round1 = (x: number): number => Math.round(x * 10) / 10;
