// The checker's verdicts and how every Part C experiment writes its results folder:
// data (CSV/JSON), plots (SVG) and a summary.md that ends with the verdict.
import fs from "node:fs";
import path from "node:path";
import { writeSvg, type TopLevelSpec } from "../../harness/plots.js";
import { markdownTable, type Row } from "../../common/table.js";

export interface PartCCheck {
  check: string;
  passed: boolean;
  observed: string;
}

export const check = (check: string, passed: boolean, observed: string): PartCCheck => ({ check, passed, observed });
export const allPassed = (checks: PartCCheck[]): boolean => checks.every((c) => c.passed);
export const checksRows = (checks: PartCCheck[]): Row[] => checks.map((c) => ({ verdict: c.passed ? "✔" : "✖", check: c.check, observed: c.observed }));

export interface ResultFiles {
  data: Record<string, string>;
  plots: Record<string, TopLevelSpec>;
  summary: { title: string; sections: string[]; checks: PartCCheck[] };
}

/** Write an experiment's folder; returns the paths written. */
export async function writeResultFiles(dir: string, files: ResultFiles): Promise<string[]> {
  fs.mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, text] of Object.entries(files.data)) {
    fs.writeFileSync(path.join(dir, name), text);
    written.push(path.join(dir, name));
  }
  for (const [name, spec] of Object.entries(files.plots)) written.push(await writeSvg(spec, path.join(dir, name)));
  const { title, sections, checks } = files.summary;
  const summary = [`# ${title}`, "", ...sections.flatMap((s) => [s, ""]), `## Checker: ${allPassed(checks) ? "PASS" : "FAIL"}`, "", markdownTable(checksRows(checks)), ""].join("\n");
  fs.writeFileSync(path.join(dir, "summary.md"), summary);
  written.push(path.join(dir, "summary.md"));
  return written;
}
