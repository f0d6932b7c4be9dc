// What the three Part B experiments share: bring the part up unless it runs (and stop only what
// the run started), a checker's list of checks, and writing results/partB/<experiment>/.
import fs from "node:fs";
import path from "node:path";
import { usePart, type LabOptions, type RunningPart } from "../../harness/lifecycle.js";
import { resultsDir } from "../../common/paths.js";
import { markdownTable, type Row } from "../../common/table.js";
import { partBEndpoints, type PartBEndpoints } from "./client.js";

export interface PartBCheck {
  check: string;
  passed: boolean;
  observed: string;
}

export const checksRows = (checks: PartBCheck[]): Row[] => checks.map((c) => ({ verdict: c.passed ? "✔" : "✖", check: c.check, observed: c.observed }));

/** Run `body` against Part B: what runs is used, what is missing is started for this run and stopped afterwards. */
export const withPartB = <T>(opts: LabOptions, body: (running: RunningPart, urls: PartBEndpoints) => Promise<T>): Promise<T> =>
  usePart("partB", opts, (running) => body(running, partBEndpoints(running)));

/** Writes files into one experiment's folder and remembers them, for the script to list. */
export class ResultFiles {
  readonly files: string[] = [];
  constructor(readonly dir: string) {}

  static for(experiment: string, dir?: string): ResultFiles {
    return new ResultFiles(dir ?? resultsDir("partB", experiment));
  }

  write(name: string, text: string): string {
    const file = path.join(this.dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    this.files.push(file);
    return file;
  }

  add(file: string): void {
    this.files.push(file);
  }
}

/** summary.md: a title, tables, and the checker's verdict. */
export function summaryMarkdown(title: string, sections: { heading?: string; text?: string; rows?: Row[] }[], checks: PartBCheck[]): string {
  const passed = checks.every((c) => c.passed);
  const out = [`# ${title}`, ""];
  for (const s of sections) {
    if (s.heading) out.push(`## ${s.heading}`, "");
    if (s.text) out.push(s.text, "");
    if (s.rows?.length) out.push(markdownTable(s.rows, 1), "");
  }
  out.push(`## Checker: ${passed ? "PASS" : "FAIL"}`, "", markdownTable(checksRows(checks)), "");
  return out.join("\n");
}

export const round1 = (x: number): number => Math.round(x * 10) / 10;
