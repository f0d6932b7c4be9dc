// The submission bundle: every notebook executed headless on the tslab kernel, saved as an
// executed .ipynb and a self-contained HTML page in results/reports/, plus an index page with
// one verdict line per notebook; with `pdf`, a PDF of each page and one combined PDF for a
// hand-in. `npm run report`, `npm run lab` and the tests all run this.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { down } from "../run/lifecycle.js";
import { ensureJupyter, jupyterEnv, notebooksDir, venvBin } from "./jupyter.js";
import { verdictsIn, type LabMode } from "./notebook.js";
import {
  earlierRuns,
  indexIntro,
  indexTable,
  indexTitle,
  markPage,
  measuredLine,
  reportTarget,
  runState,
  verdictLine,
  verdictText,
  writeIndex,
  type NotebookRun,
} from "./report-pages.js";

export type { NotebookRun };
import { PART_IDS } from "../run/parts.js";
import { printPdfs, type PrintedNotebook } from "./pdf.js";
import { projectRoot, resultsDir } from "../../common/paths.js";
import { resolveTarget, targetResultsDir, type Target } from "../judge/target.js";

export const NOTEBOOKS = [
  { name: "01-sync-rest", title: "Part A — synchronous REST" },
  { name: "02-async-rabbitmq", title: "Part B — asynchronous messaging over RabbitMQ" },
  { name: "03-streaming-kafka", title: "Part C — event streaming over Kafka" },
  { name: "04-compare", title: "The three models side by side" },
] as const;

const executeScript = path.join(projectRoot, "lab-scripts", "report", "execute.py");

export interface ReportOptions {
  mode: LabMode;
  /** Only these notebooks (names or their number prefixes, e.g. "01"). */
  only?: (string | number)[];
  outDir?: string;
  /** Seconds one cell may take. */
  cellTimeoutS?: number;
  /** Also print each page, and one combined file, to PDF (headless Chromium). */
  pdf?: boolean;
  /**
   * The implementation under test (default: LAB_TARGET, else the lab's own services). A foreign
   * target's notebooks run with LAB_TARGET set, into results/targets/<name>/reports/.
   */
  target?: Target;
  log?: (line: string) => void;
}

export interface Report {
  mode: LabMode;
  ok: boolean;
  runs: NotebookRun[];
  index: string;
  /** The combined PDF (with `pdf`). */
  pdf?: string;
}

/** The one file to hand in: the index, then every notebook in order. */
export const COMBINED_PDF = "campus-food-lab-report.pdf";

export function selectNotebooks(wanted?: (string | number)[]): (typeof NOTEBOOKS)[number][] {
  if (!wanted?.length) return [...NOTEBOOKS];
  const only = wanted.map((o) => (/^\d+$/.test(String(o)) ? String(o).padStart(2, "0") : String(o))); // --only 1 or 01
  const picked = NOTEBOOKS.filter((nb) =>
    only.some((o) => nb.name === o || nb.name.startsWith(`${o}-`) || `${nb.name}.ipynb` === o),
  );
  const unknown = only.filter(
    (o) => !NOTEBOOKS.some((nb) => nb.name === o || nb.name.startsWith(`${o}-`) || `${nb.name}.ipynb` === o),
  );
  if (unknown.length)
    throw new Error(`unknown notebook ${unknown.join(", ")}: use one of ${NOTEBOOKS.map((n) => n.name).join(", ")}`);
  return picked;
}

/** Execute one notebook headless; its progress goes to `log` line by line as it runs. */
export async function executeNotebook(
  name: string,
  opts: { mode: LabMode; outDir: string; target: Target; cellTimeoutS?: number; log?: (line: string) => void },
): Promise<NotebookRun> {
  const title = NOTEBOOKS.find((n) => n.name === name)?.title ?? name;
  const ipynb = path.join(opts.outDir, `${name}.ipynb`);
  const html = path.join(opts.outDir, `${name}.html`);
  for (const file of [ipynb, html, path.join(opts.outDir, `${name}.pdf`)]) fs.rmSync(file, { force: true }); // (a PDF of an earlier run would be stale)
  const started = Date.now();
  const args = [
    executeScript,
    path.join(notebooksDir, `${name}.ipynb`),
    "--ipynb",
    ipynb,
    "--html",
    html,
    "--timeout",
    String(opts.cellTimeoutS ?? 3600),
  ];
  const env = jupyterEnv({ LAB_MODE: opts.mode, LAB_TARGET: opts.target.file, FORCE_COLOR: "0" });
  const { code, tail } = await runPython(args, env, opts.log ?? (() => {}));
  const ok = code === 0 && fs.existsSync(ipynb);
  const target = reportTarget(opts.target);
  if (fs.existsSync(html)) markPage(html, target);
  const verdicts = fs.existsSync(ipynb) ? verdictsIn(fs.readFileSync(ipynb, "utf8")) : [];
  return {
    name,
    title,
    mode: opts.mode,
    finished: new Date().toISOString(),
    ok,
    passed: ok && verdicts.length > 0 && verdicts.every((v) => v.passed),
    verdicts,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    ipynb,
    html,
    error: ok ? undefined : tail.slice(-8).join("\n"),
    target,
  };
}

/**
 * Run the venv's python in the notebooks folder: its stdout goes to `log` line by line; the last
 * lines of both streams (stderr without Python's warnings) are kept to say why it failed.
 */
function runPython(
  args: string[],
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<{ code: number | null; tail: string[] }> {
  const tail: string[] = [];
  return new Promise((resolve) => {
    const child = spawn(venvBin("python"), args, { cwd: notebooksDir, env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n")) {
        if (!line.trim()) continue;
        log(line);
        tail.push(line);
        if (tail.length > 20) tail.shift();
      }
    });
    child.stderr.on("data", (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n"))
        if (line.trim() && !/Warning|warn\(|_validate\(/.test(line)) tail.push(line);
    });
    child.on("error", (err) => {
      tail.push(err.message);
      resolve({ code: null, tail });
    });
    child.on("close", (code) => resolve({ code, tail }));
  });
}

/** Where a target's report goes: results/reports/ for the lab's own, results/targets/<name>/reports/ for another. */
export const reportsDir = (target: Target = resolveTarget()): string =>
  target.lab ? resultsDir("reports") : targetResultsDir(target, "reports");

/** The notebooks of a target: a foreign one gets those of the parts its file names, never 04 (the lab's own three models compared). */
export function notebooksFor(
  target: Target,
  only?: (string | number)[],
  log: (line: string) => void = () => {},
): (typeof NOTEBOOKS)[number][] {
  const picked = selectNotebooks(only);
  if (target.lab) return picked;
  const why = (name: string): string | undefined => {
    const part = { "01-sync-rest": "partA", "02-async-rabbitmq": "partB", "03-streaming-kafka": "partC" }[name] as
      "partA" | "partB" | "partC" | undefined;
    if (!part) return "it compares the lab's own three models and shows the lab's benchmark and fault campaign";
    return target[part] ? undefined : `the target ${target.name} has no ${part}`;
  };
  const kept = picked.filter((nb) => !why(nb.name));
  const dropped = picked.filter((nb) => why(nb.name));
  if (only?.length && dropped.length)
    throw new Error(dropped.map((nb) => `${nb.name} cannot run on ${target.name}: ${why(nb.name)}`).join("; "));
  for (const nb of dropped) log(`(${nb.name} left out: ${why(nb.name)})`);
  if (!kept.length) throw new Error(`the target ${target.name} names no part a notebook measures`);
  return kept;
}

/** Run every notebook (or `only`), one after the other, then write the index page. */
export async function buildReport(opts: ReportOptions): Promise<Report> {
  const log = opts.log ?? (() => {});
  if (opts.mode !== "quick" && opts.mode !== "full")
    throw new Error(`mode ${JSON.stringify(opts.mode)}: use quick or full`);
  const target = opts.target ?? resolveTarget();
  const outDir = opts.outDir ?? reportsDir(target);
  const notebooks = notebooksFor(target, opts.only, log);
  fs.mkdirSync(outDir, { recursive: true });
  await ensureJupyter({ log: (line) => log(`jupyter: ${line}`) });
  const runs: NotebookRun[] = [];
  for (const nb of notebooks) {
    log(`▶ ${nb.name}.ipynb — ${nb.title} (${opts.mode} mode)`);
    const run = await executeNotebook(nb.name, {
      mode: opts.mode,
      outDir,
      target,
      cellTimeoutS: opts.cellTimeoutS,
      log,
    });
    runs.push(run);
    if (!run.ok && target.lab) {
      // A failed cell skips the notebook's own clean-up: stop whatever it left running (the lab's
      // own services only: a foreign target's are its owner's).
      for (const part of [...PART_IDS].reverse()) await down(part).catch(() => []);
    }
    log(
      `${run.ok ? (run.passed ? "✔" : "✖") : "✖"} ${nb.name}: ${run.ok ? verdictLine(run) : "a cell failed"} (${run.seconds} s)`,
    );
  }
  // The index lists every page in the folder: the notebooks run now, and those of an earlier run
  // (`--only` re-runs some) whose pages are still there.
  const listed = [
    ...runs,
    ...earlierRuns(outDir).filter(
      (e) => !runs.some((r) => r.name === e.name) && e.target?.name === target.name && fs.existsSync(e.html),
    ),
  ];
  listed.sort((x, y) => NOTEBOOKS.findIndex((n) => n.name === x.name) - NOTEBOOKS.findIndex((n) => n.name === y.name));
  for (const r of listed) if (r.pdf && !fs.existsSync(r.pdf)) delete r.pdf;
  fs.rmSync(path.join(outDir, COMBINED_PDF), { force: true }); // it would no longer match the pages
  let pdf: string | undefined;
  if (opts.pdf) {
    log(`printing ${listed.length + 1} PDF(s) with headless Chromium`);
    pdf = await printReport(listed, outDir);
  }
  const index = writeIndex(listed, outDir, pdf);
  writeReportJson(listed, outDir, pdf);
  return { mode: opts.mode, ok: runs.every((r) => r.ok), runs, index, pdf };
}

/**
 * PDFs of the report already in `outDir` (no notebook runs again): each page, and the combined
 * file; index.html and report.json then list them. `npm run report -- --pdf-only`, and the tests.
 */
export async function addPdfs(outDir: string = reportsDir()): Promise<Report> {
  const listed = earlierRuns(outDir).filter((r) => fs.existsSync(r.html));
  if (listed.length === 0)
    throw new Error(`no report in ${outDir} to print: run \`npm run report\` (add --pdf to print it as it is made)`);
  listed.sort((x, y) => NOTEBOOKS.findIndex((n) => n.name === x.name) - NOTEBOOKS.findIndex((n) => n.name === y.name));
  const pdf = await printReport(listed, outDir);
  const index = writeIndex(listed, outDir, pdf);
  writeReportJson(listed, outDir, pdf);
  return {
    mode: listed.some((r) => r.mode === "quick") ? "quick" : "full",
    ok: listed.every((r) => r.ok),
    runs: listed,
    index,
    pdf,
  };
}

/** Print every listed page and the combined file; sets each run's `pdf`, returns the combined file. */
async function printReport(runs: NotebookRun[], outDir: string): Promise<string> {
  const printed: PrintedNotebook[] = runs.map((r) => ({
    name: r.name,
    title: r.title,
    html: r.html,
    state: `${runState(r)} — ${r.ok ? verdictLine(r) : "a cell failed"}`,
    passed: r.ok && r.passed,
    lines: r.ok ? r.verdicts.map((v) => `${v.passed ? "✔" : "✖"} ${verdictText(v.text)}`) : [],
    about: `${r.mode} mode · executed ${r.finished.slice(0, 16).replace("T", " ")} UTC · ${r.seconds} s`,
    target: { name: r.target.name, line: measuredLine(r.target) },
  }));
  const index = { title: indexTitle(runs), intro: indexIntro(runs), table: indexTable(runs, (r) => `#nb-${r.name}`) };
  const files = await printPdfs(printed, index, path.join(outDir, COMBINED_PDF));
  for (const r of runs) r.pdf = files.notebooks[r.name];
  return files.combined;
}

function writeReportJson(runs: NotebookRun[], outDir: string, pdf?: string): void {
  fs.writeFileSync(
    path.join(outDir, "report.json"),
    JSON.stringify(
      { generated: new Date().toISOString(), target: runs[0]?.target, runs, ...(pdf ? { pdf } : {}) },
      null,
      2,
    ) + "\n",
  );
}
