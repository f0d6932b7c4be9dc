// What Part C's experiments share when they judge a foreign implementation from outside: the
// shape of a run (checks = the assignment's requirements, notes = the lab's stricter contract,
// skipped = what the target file does not let the lab observe, with the reason), a skip on
// NotObservable, waiting for the target's groups to catch up, and the summary files that name the target.
import { markdownTable, type Row } from "../../common/table.js";
import { sleep } from "../../common/wait.js";
import { checksRows, type Check } from "../../harness/check.js";
import { writeResultFiles } from "../../harness/results.js";
import type { TopLevelSpec } from "../../harness/plots.js";
import {
  targetLine,
  targetSummary,
  unlessNotObservable,
  type Target,
  type TargetSummary,
} from "../../harness/target.js";
import { partCTargetEndpoints, type TargetKafka } from "./target.js";

/** What the target could not let the lab do or see, and why (Part A's shape). */
export interface Skipped {
  scenario: string;
  reason: string;
}

/** One Part C experiment on a foreign implementation, judged from outside. */
export interface OutsideRun {
  kind: "outside";
  experiment: "load" | "lag" | "replay";
  target: TargetSummary;
  /** The assignment's requirements, as observed. */
  checks: (Check & { scenario: string })[];
  /** The lab's own stricter contract: shown beside the verdict, never part of it. */
  notes: (Check & { scenario: string })[];
  skipped: Skipped[];
  passed: boolean;
}

/** A new run's common fields; `passed` is settled by `settle`. */
export const outsideRun = <E extends OutsideRun["experiment"]>(target: Target, experiment: E) => ({
  kind: "outside" as const,
  experiment,
  target: targetSummary(target, partCTargetEndpoints(target)),
  checks: [] as (Check & { scenario: string })[],
  notes: [] as (Check & { scenario: string })[],
  skipped: [] as Skipped[],
  passed: false,
});

export const settle = <R extends OutsideRun>(run: R): R => ({ ...run, passed: run.checks.every((c) => c.passed) });

/** Run `body`; a NotObservable on the way becomes a skip of `scenario` with its reason. */
export const orSkip = <T>(run: OutsideRun, scenario: string, body: () => Promise<T>): Promise<T | undefined> =>
  unlessNotObservable(body, (reason) => run.skipped.push({ scenario, reason }));

/**
 * Wait until the named groups have read everything (lag 0), then `settleMs` more: a consumer
 * commits after it has handled an event, and its metrics may follow a moment later. A group
 * the file does not name is not waited for. Returns false on timeout.
 */
export async function caughtUp(
  wire: TargetKafka,
  which: ("inventory" | "analytics")[],
  timeoutMs: number,
  settleMs = 1000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (const w of which.filter((g) => wire.groups[g])) {
    while ((await wire.lag(w)).total_lag > 0) {
      if (Date.now() > deadline) return false;
      await sleep(250);
    }
  }
  await sleep(settleMs);
  return true;
}

/** summary.md's sections for a foreign target: the target, what was skipped and why, the lab's contract as notes. */
export function outsideSections(run: OutsideRun): string[] {
  const out: string[] = [];
  if (run.skipped.length)
    out.push("## Not observable on this target\n\n" + markdownTable(run.skipped as unknown as Row[]));
  if (run.notes.length)
    out.push(
      "## Notes: the lab's own stricter contract (not part of the verdict)\n\n" + markdownTable(checksRows(run.notes)),
    );
  return out;
}

/** summary.json, summary.md (naming the target), the data files and the plots of an outside run. */
export function writeOutsideResults(
  dir: string,
  run: OutsideRun,
  title: string,
  table: Row[],
  files: { data?: Record<string, string>; plots?: Record<string, TopLevelSpec> } = {},
): Promise<string[]> {
  return writeResultFiles(dir, {
    data: { "summary.json": JSON.stringify(run, null, 2) + "\n", ...files.data },
    plots: files.plots ?? {},
    summary: {
      title,
      sections: [`Target: ${targetLine(run.target)}`, markdownTable(table), ...outsideSections(run)],
      checks: run.checks,
    },
  });
}

/** A notebook's closing words on a foreign target: each experiment's verdict, what failed, what was not observable. */
export function outsideSummaryMarkdown(runs: OutsideRun[]): string {
  return runs
    .map((r) =>
      [
        `- **${r.experiment}** on ${r.target.name}: ${r.passed ? "PASS" : "FAIL"} (${r.checks.filter((c) => c.passed).length} of ${r.checks.length} checks)`,
        ...r.checks.filter((c) => !c.passed).map((c) => `  - ✖ ${c.check}: ${c.observed}`),
        ...r.skipped.map((s) => `  - not observable (${s.scenario}): ${s.reason}`),
      ].join("\n"),
    )
    .join("\n");
}
