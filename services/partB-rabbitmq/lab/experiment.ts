// What the three Part B experiments share: bring the part up unless it runs (and stop only what
// the run started). Checks and result files are the harness's (check.ts, results.ts).
import { usePart, type LabOptions, type RunningPart } from "../../harness/lifecycle.js";
import { endpoints, type PartBEndpoints } from "./client.js";

/** Run `body` against Part B: what runs is used, what is missing is started for this run and stopped afterwards. */
export const withPartB = <T>(opts: LabOptions, body: (running: RunningPart, urls: PartBEndpoints) => Promise<T>): Promise<T> =>
  usePart("partB", opts, (running) => body(running, endpoints(running)));

export const round1 = (x: number): number => Math.round(x * 10) / 10;
