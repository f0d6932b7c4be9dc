// Showing the lab's results in a notebook cell (tslab kernel), the same way in JupyterLab and in
// the exported report: plots as inline SVG (nbconvert's HTML drops vega-lite bundles and turns
// image outputs into <img>s without a description), tables as markdown, and a checker's verdict
// as one coloured line the report's index picks up. Outside a kernel (plain node) each falls
// back to text on stdout, so the same code runs in a script or a test.
import fs from "node:fs";
import path from "node:path";
import { renderSvg, type TopLevelSpec } from "./plots.js";
import { markdownTable, type Row } from "../../common/table.js";
import { checksRows, type Check } from "../judge/check.js";

export type LabMode = "quick" | "full";

/**
 * quick: small figures, a whole run of every notebook in a few minutes (CI, a first look).
 * full: the assignment's figures. Read from LAB_MODE: papermill has no tslab translator, so the
 * notebooks take their parameters from the environment that `npm run lab` / `report` set.
 */
export function labMode(): LabMode {
  const mode = process.env.LAB_MODE ?? "full";
  if (mode !== "quick" && mode !== "full") throw new Error(`LAB_MODE=${mode}: use quick or full`);
  return mode;
}

/** The figure for the current mode: `byMode({ quick: 10, full: 100 })`. */
export const byMode = <T>(choices: Record<LabMode, T>): T => choices[labMode()];

interface Display {
  html(s: string): void;
  markdown(s: string): void;
}

/** Show rich content in the running cell, or print the text version outside a kernel. */
function emit(kind: keyof Display, content: string, text: string): void {
  try {
    // Required lazily: only a kernel has a display, and tslab pulls in a TypeScript compiler.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require("tslab") as { display: Display }).display[kind](content);
  } catch {
    console.log(text);
  }
}

export const escapeHtml = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** An SVG picture inline in the cell's output. */
export function showSvg(svg: string, label = "plot"): void {
  emit(
    "html",
    `<figure class="lab-plot" role="img" aria-label="${escapeHtml(label)}" style="margin:0.5em 0;overflow-x:auto">${svg}</figure>`,
    `[plot: ${label}]`,
  );
}

/** Show the SVG plots among an experiment's result files (what its write…Results wrote). */
export function showSvgFiles(files: string[]): void {
  for (const file of files.filter((f) => f.endsWith(".svg")))
    showSvg(fs.readFileSync(file, "utf8"), path.basename(file));
}

/**
 * Render a vega-lite spec to SVG and show it. Returns nothing on purpose: tslab prints a cell's
 * last value, and a page of SVG source under the picture helps nobody.
 */
export async function showPlot(spec: TopLevelSpec): Promise<void> {
  showSvg(await renderSvg(spec), typeof spec.title === "string" ? spec.title : "plot");
}

/** A table, as markdown (it renders as an HTML table in JupyterLab and in the report). */
export function showTable(rows: Row[], opts: { caption?: string; digits?: number; columns?: string[] } = {}): void {
  const table = markdownTable(rows, opts.digits ?? 1, opts.columns);
  const md = opts.caption ? `**${opts.caption}**\n\n${table}` : table;
  emit("markdown", md, md);
}

export function showMarkdown(md: string): void {
  emit("markdown", md, md);
}

/**
 * The checker's verdict on an experiment: one coloured PASS/FAIL line (the report's index reads
 * it back from the executed notebook) and the table of checks behind it.
 */
export function showVerdict(title: string, checks: Check[]): void {
  const passed = checks.length > 0 && checks.every((c) => c.passed);
  const failed = checks.filter((c) => !c.passed).length;
  const line = `${passed ? "✔ PASS" : "✖ FAIL"} — ${title}${failed ? ` (${failed} of ${checks.length} checks failed)` : ` (${checks.length} checks)`}`;
  const colours = passed ? "background:#e6f4ea;color:#1e6b34" : "background:#fce8e6;color:#a50e0e";
  emit(
    "html",
    `<div class="lab-verdict" data-passed="${passed}" style="padding:0.4em 0.8em;border-radius:4px;font-weight:600;${colours}">${escapeHtml(line)}</div>`,
    line,
  );
  showTable(checksRows(checks));
}

/** The verdict lines a notebook showed, read back from its executed .ipynb (see showVerdict). */
export function verdictsIn(executedNotebookJson: string): { passed: boolean; text: string }[] {
  const found: { passed: boolean; text: string }[] = [];
  const nb = JSON.parse(executedNotebookJson) as {
    cells: { outputs?: { data?: Record<string, string | string[]> }[] }[];
  };
  for (const cell of nb.cells) {
    for (const out of cell.outputs ?? []) {
      const html = out.data?.["text/html"];
      const text = Array.isArray(html) ? html.join("") : (html ?? "");
      for (const m of text.matchAll(/class="lab-verdict" data-passed="(true|false)"[^>]*>([^<]*)</g)) {
        found.push({ passed: m[1] === "true", text: unescapeHtml(m[2]) });
      }
    }
  }
  return found;
}

const unescapeHtml = (s: string): string =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&gt;/g, ">")
    .replace(/&lt;/g, "<")
    .replace(/&amp;/g, "&");
