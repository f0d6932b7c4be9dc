// The checker's verdict, one shape for every experiment, the comparison and the notebooks: what
// was checked, whether it held, and what was observed. The rows of its table and the summary.md
// that ends with it.
import { markdownTable, type Row } from "../../common/table.js";

export interface Check {
  check: string;
  passed: boolean;
  observed: string;
  /** Which scenario or condition of the experiment the check is about, where it has several. */
  scenario?: string;
}

export const check = (check: string, passed: boolean, observed: string): Check => ({ check, passed, observed });

export const allPassed = (checks: Check[]): boolean => checks.every((c) => c.passed);

/** One row per check: ✔/✖, the scenario (when the checks have one), what was checked, what was seen. */
export const checksRows = (checks: Check[]): Row[] =>
  checks.map((c) => ({
    verdict: c.passed ? "✔" : "✖",
    ...(c.scenario !== undefined ? { scenario: c.scenario } : {}),
    check: c.check,
    observed: c.observed,
  }));

/** A part of summary.md: a paragraph, or a heading with text and a table. */
export type SummarySection = string | { heading?: string; text?: string; rows?: Row[] };

/** summary.md: a title, its sections, and the checker's verdict with the table of checks. */
export function summaryMarkdown(title: string, sections: SummarySection[], checks: Check[]): string {
  const out = [`# ${title}`, ""];
  for (const s of sections) {
    if (typeof s === "string") {
      out.push(s, "");
      continue;
    }
    if (s.heading) out.push(`## ${s.heading}`, "");
    if (s.text) out.push(s.text, "");
    if (s.rows?.length) out.push(markdownTable(s.rows, 1), "");
  }
  // No check at all is no verdict: nothing could be observed (the reasons follow, where known).
  if (!checks.length) out.push("## Checker: NOT OBSERVABLE", "");
  else out.push(`## Checker: ${allPassed(checks) ? "PASS" : "FAIL"}`, "", markdownTable(checksRows(checks)), "");
  return out.join("\n");
}
