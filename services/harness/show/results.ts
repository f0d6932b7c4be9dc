// An experiment's results folder (results/<part>/<experiment>/): data, plots and a summary.md
// that ends with the checker's verdict. Every file written is remembered, for the script or the
// notebook to list and show.
import fs from "node:fs";
import path from "node:path";
import { resultsDir } from "../../common/paths.js";
import { summaryMarkdown, type Check, type SummarySection } from "../judge/check.js";
import { writeSvg, type TopLevelSpec } from "./plots.js";

export class ResultFiles {
  readonly files: string[] = [];
  constructor(readonly dir: string) {}

  /** results/<part>/<experiment>/, unless `dir` says otherwise. */
  static for(part: string, experiment: string, dir?: string): ResultFiles {
    return new ResultFiles(dir ?? resultsDir(part, experiment));
  }

  write(name: string, text: string): string {
    const file = path.join(this.dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    this.files.push(file);
    return file;
  }

  /** A vega-lite spec rendered to <name> (SVG). */
  async plot(name: string, spec: TopLevelSpec): Promise<string> {
    fs.mkdirSync(this.dir, { recursive: true });
    const file = await writeSvg(spec, path.join(this.dir, name));
    this.files.push(file);
    return file;
  }

  /** summary.md: the title, the sections and the checker's verdict. */
  summary(title: string, sections: SummarySection[], checks: Check[]): string {
    return this.write("summary.md", summaryMarkdown(title, sections, checks));
  }
}

/** The whole folder at once: data files by name, plots by name, then summary.md. Returns the paths written. */
export async function writeResultFiles(
  dir: string,
  files: {
    data: Record<string, string>;
    plots: Record<string, TopLevelSpec>;
    summary: { title: string; sections: SummarySection[]; checks: Check[] };
  },
): Promise<string[]> {
  const out = new ResultFiles(dir);
  for (const [name, text] of Object.entries(files.data)) out.write(name, text);
  for (const [name, spec] of Object.entries(files.plots)) await out.plot(name, spec);
  out.summary(files.summary.title, files.summary.sections, files.summary.checks);
  return out.files;
}
