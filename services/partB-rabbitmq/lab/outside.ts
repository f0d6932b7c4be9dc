// What Part B's three experiments share when they run on any target: the shape of a run (the
// lab's own services, or a foreign implementation judged from outside), skipping what the target
// does not let the lab observe, and the results folder of a run from outside (data, a plot,
// summary.md and summary.json that name the target).
import { summaryMarkdown, type Check, type SummarySection } from "../../harness/check.js";
import type { TopLevelSpec } from "../../harness/plots.js";
import { ResultFiles } from "../../harness/results.js";
import {
  targetLine,
  targetSummary,
  unlessNotObservable as skipUnlessObservable,
  type Target,
  type TargetSummary,
} from "../../harness/target.js";
import { markdownTable } from "../../common/table.js";
import { checksRows } from "../../harness/check.js";
import { targetEndpoints } from "./target.js";

/** Why the inventory events cannot be seen: the file names no exchange for them. */
export const NO_INVENTORY_EXCHANGE =
  "the target names no inventory exchange (partB.broker.inventory_exchange): its events cannot be seen";

/** A check the target could not be put to, and why. */
export interface Skipped {
  check: string;
  reason: string;
}

/** What every run says, on any target. */
export interface PartBRunBase {
  /** What was measured: the target's name, version, commit and endpoints. */
  target: TargetSummary;
  /** The assignment's requirements, as observed. */
  checks: Check[];
  /** A foreign target: the lab's own stricter contract, shown beside the verdict, never part of it. */
  notes: Check[];
  /** What the target does not let the lab observe, with the reason. */
  skipped: Skipped[];
  passed: boolean;
}

/** A run on the lab's own services: the experiment's own result, and the target it ran on. */
export type LabRun<T> = T & PartBRunBase & { kind: "lab" };

/** A run on a foreign implementation, judged from outside. */
export interface OutsideRunBase extends PartBRunBase {
  kind: "outside";
}

/** The lab's own experiment's result, as a run on its target. */
export const labRun = <T extends { checks: Check[]; passed: boolean }>(target: Target, result: T): LabRun<T> => ({
  ...result,
  kind: "lab",
  target: targetSummary(target),
  notes: [],
  skipped: [],
});

export const outsideSummary = (target: Target): TargetSummary => targetSummary(target, targetEndpoints(target));

/** Run `body` unless the target cannot let it; a NotObservable on the way is a skip of `check`, with its reason. */
export const unlessNotObservable = <T>(
  check: string,
  skipped: Skipped[],
  body: () => Promise<T>,
): Promise<T | undefined> => skipUnlessObservable(body, (reason) => skipped.push({ check, reason }));

/** summary.md's "Target:" line. */
export const targetSection = (t: TargetSummary | undefined): SummarySection[] =>
  t ? [`Target: ${targetLine(t)}`] : [];

/** summary.md's sections after the verdict: what was not observable, and the lab's stricter contract. */
export function outsideSections(run: PartBRunBase): string[] {
  const out: string[] = [];
  if (run.skipped.length)
    out.push(
      "## Not observable on this target",
      "",
      markdownTable(run.skipped as unknown as Record<string, string>[]),
      "",
    );
  if (run.notes.length)
    out.push(
      "## Notes: the lab's own stricter contract (not part of the verdict)",
      "",
      markdownTable(checksRows(run.notes)),
      "",
    );
  return out;
}

/**
 * A run from outside, written to `dir`: its data files, its plots, summary.json (the target, the
 * checks, the notes, what was skipped, the figures) and summary.md.
 */
export async function writeOutsideResults(
  run: OutsideRunBase,
  dir: string,
  files: {
    title: string;
    text: string;
    figures: Record<string, unknown>;
    data: Record<string, string>;
    plots: Record<string, TopLevelSpec>;
  },
): Promise<string[]> {
  const out = new ResultFiles(dir);
  for (const [name, text] of Object.entries(files.data)) out.write(name, text);
  for (const [name, spec] of Object.entries(files.plots)) await out.plot(name, spec);
  const { target, checks, notes, skipped, passed } = run;
  out.write(
    "summary.json",
    JSON.stringify({ target, figures: files.figures, checks, notes, skipped, passed }, null, 2),
  );
  const figures = Object.entries(files.figures).map(([figure, value]) => ({ figure, value: String(value) }));
  out.write(
    "summary.md",
    [
      summaryMarkdown(
        files.title,
        [...targetSection(target), { text: files.text }, { heading: "Figures", rows: figures }],
        checks,
      ),
      ...outsideSections(run),
    ].join("\n"),
  );
  return out.files;
}

/** Experiments that only make sense on the lab's own services, and why. */
export const PARTB_LAB_ONLY = {
  batching: "measures the lab's own batch sizes (BATCH_MAX of its three services)",
  safeguards: "switches the lab's own safeguards off (SAFEGUARDS_OFF) on services it starts itself",
} as const;

/** Why `experiment` cannot run on this target (`… : it cannot measure team-7`), or undefined for the lab's own. */
export const labOnlyReason = (target: Target, experiment: keyof typeof PARTB_LAB_ONLY): string | undefined =>
  target.lab ? undefined : `${PARTB_LAB_ONLY[experiment]}: it cannot measure ${target.name}`;
