// What the report's pages say: each notebook run's record, the banner that names what was
// measured on every page, and the index with one verdict line per notebook.
import fs from "node:fs";
import path from "node:path";
import { escapeHtml as esc, type LabMode } from "./notebook.js";
import { targetLine, targetSummary, type Target, type TargetSummary } from "../judge/target.js";

export interface NotebookRun {
  name: string;
  title: string;
  mode: LabMode;
  /** When it finished (ISO). */
  finished: string;
  /** Every cell ran without an error. */
  ok: boolean;
  /** Every verdict the notebook showed passed (and it showed at least one). */
  passed: boolean;
  verdicts: { passed: boolean; text: string }[];
  seconds: number;
  ipynb: string;
  html: string;
  /** Its page printed (report --pdf). */
  pdf?: string;
  /** The last lines printed when a cell failed. */
  error?: string;
  /** What it measured: the target's name, version, commit and endpoints. */
  target: TargetSummary;
}

/** What a report says it measured: a foreign target with its endpoints, or the lab's own services. */
export function reportTarget(t: Target): TargetSummary {
  const endpoints: Record<string, string> = {};
  if (!t.lab) {
    for (const [name, url] of Object.entries(t.partA?.services ?? {})) endpoints[`A ${name}`] = url;
    for (const [name, url] of Object.entries(t.partB?.services ?? {})) endpoints[`B ${name}`] = url;
    if (t.partB?.broker) endpoints["B broker"] = withoutPassword(t.partB.broker.amqp_url);
    for (const [name, url] of Object.entries(t.partC?.services ?? {})) endpoints[`C ${name}`] = url;
    if (t.partC?.broker) endpoints["C broker"] = t.partC.broker.bootstrap;
  }
  return targetSummary(t, endpoints);
}

const withoutPassword = (url: string): string => {
  const u = new URL(url);
  if (u.password) u.password = "***";
  return u.toString().replace(/\/$/, "");
};

export const measuredLine = (s: TargetSummary): string =>
  s.managed_by === "lab" ? `${targetLine(s)} (the lab's own services, started by the lab)` : targetLine(s);

/** Every page says what it measured, at its top, whatever its cells show. */
export function markPage(html: string, target: TargetSummary): void {
  const page = fs.readFileSync(html, "utf8");
  const banner = `<div class="lab-target" style="font-family:sans-serif;font-size:0.9em;color:#333;background:#f3f6fa;border-left:4px solid #4c78a8;padding:0.4em 0.8em;margin:0.5em 0">Measured: <strong>${esc(measuredLine(target))}</strong></div>`;
  fs.writeFileSync(
    html,
    page.replace(/<body([^>]*)>/i, (m) => `${m}\n${banner}`),
  );
}

export function earlierRuns(outDir: string): NotebookRun[] {
  try {
    const runs = JSON.parse(fs.readFileSync(path.join(outDir, "report.json"), "utf8")).runs as NotebookRun[];
    return runs.filter((r) => r.mode && r.finished); // written by this version
  } catch {
    return [];
  }
}

export const verdictLine = (run: NotebookRun): string =>
  run.verdicts.length === 0
    ? "no verdict shown"
    : run.passed
      ? `${run.verdicts.length} experiment(s) passed`
      : run.verdicts
          .filter((v) => !v.passed)
          .map((v) => v.text)
          .join("; ");
export const runState = (r: NotebookRun): string => (!r.ok ? "cell error" : r.passed ? "PASS" : "FAIL");
export const verdictText = (text: string): string => text.replace(/^[✔✖] (PASS|FAIL) — /, "");

export const indexTitle = (runs: NotebookRun[]): string =>
  runs[0] && runs[0].target.managed_by === "owner"
    ? `Campus Food Lab — report on ${runs[0].target.name}`
    : "Campus Food Lab — report";
export const indexIntro = (runs: NotebookRun[]): string => `${
  runs[0] ? `Measured: <strong>${esc(measuredLine(runs[0].target))}</strong>.<br>\n` : ""
}One workflow (place an order → reserve inventory → notify the user) built three ways, run and measured.
${runs.some((r) => r.mode === "quick") ? "Runs in <strong>quick</strong> mode use small figures for a first look; <code>npm run lab</code> uses the assignment's figures (full mode)." : "Full mode: the assignment's figures."}
Generated ${esc(new Date().toISOString().slice(0, 16).replace("T", " "))} UTC.`;

/** The index's table: one row per notebook, its title linking to `href(run)`. */
export function indexTable(runs: NotebookRun[], href: (r: NotebookRun) => string, files = false): string {
  const rows = runs
    .map((r) => {
      const colour = r.ok && r.passed ? "#1e6b34" : "#a50e0e";
      const detail = r.ok
        ? r.verdicts.map((v) => `<li>${v.passed ? "✔" : "✖"} ${esc(verdictText(v.text))}</li>`).join("")
        : `<li><pre>${esc(r.error ?? "")}</pre></li>`;
      const links = files
        ? `<br><small><a href="${r.name}.ipynb">${r.name}.ipynb</a>${r.pdf ? ` · <a href="${r.name}.pdf">${r.name}.pdf</a>` : ""}</small>`
        : "";
      return `<tr><td><a href="${href(r)}">${esc(r.title)}</a>${links}</td><td style="color:${colour};font-weight:600">${runState(r)}</td><td><ul>${detail}</ul></td><td>${r.seconds} s, ${r.mode}<br><small>${esc(r.finished.slice(0, 16).replace("T", " "))}</small></td></tr>`;
    })
    .join("\n");
  return `<table><thead><tr><th>notebook</th><th>verdict</th><th>experiments</th><th>run</th></tr></thead>
<tbody>
${rows}
</tbody></table>`;
}

/** index.html: one line per notebook with its verdict and links to the page, the .ipynb and the PDFs. */
export function writeIndex(runs: NotebookRun[], outDir: string, combinedPdf?: string): string {
  const handIn = combinedPdf
    ? `\n<p><strong>To hand in:</strong> <a href="${esc(path.basename(combinedPdf))}">${esc(path.basename(combinedPdf))}</a> — this page, then every notebook, as one PDF.</p>`
    : "";
  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(indexTitle(runs))}</title>
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:0.5em;text-align:left;vertical-align:top}ul{margin:0;padding-left:1.2em}pre{white-space:pre-wrap;font-size:0.85em}</style>
</head><body>
<h1>${esc(indexTitle(runs))}</h1>
<p>${indexIntro(runs)}</p>${handIn}
${indexTable(runs, (r) => `${r.name}.html`, true)}
</body></html>
`;
  const file = path.join(outDir, "index.html");
  fs.writeFileSync(file, html);
  return file;
}
