// The report as PDF, for a hand-in: each notebook's self-contained page printed by headless
// Chromium (playwright-core drives it), and one combined file — the index, then every notebook in
// order. The pages need nothing from the network (plots are inline SVG, tables HTML), so what is
// printed is what the HTML page shows; print CSS keeps a plot or a table on one page and wraps
// long code lines instead of cutting them off.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { escapeHtml as esc } from "./notebook.js";

/** The Chromium the lab uses: Debian's (the set-up installs it), unless CHROMIUM names another (Chrome works too). */
export const chromiumPath = (): string => process.env.CHROMIUM || "/usr/bin/chromium";

/** Headless, nothing fetched in the background, no sandbox as root (Chromium refuses to start otherwise). */
export const chromiumArgs = (): string[] => [
  ...(process.getuid?.() === 0 ? ["--no-sandbox"] : []),
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export const chromiumMissing = (): string =>
  `Chromium is missing at ${chromiumPath()}: \`npx zx lab-scripts/setup.mjs --chromium\` installs Debian's, or set CHROMIUM to a Chromium or Chrome`;

/** What the title block and the page header of a notebook's PDF say. */
export interface PrintedNotebook {
  name: string;
  title: string;
  html: string;
  /** PASS, FAIL or cell error, and the lines under it. */
  state: string;
  passed: boolean;
  lines: string[];
  /** e.g. "quick mode · executed 2026-11-27 18:47 UTC · 63 s". */
  about: string;
  /** What was measured: the target's name (in every page's header) and its line (on the title block). */
  target: { name: string; line: string };
}

/** The pieces of the index that the combined PDF opens with. */
export interface PrintedIndex {
  title: string;
  intro: string;
  /** The index's table, with links to the notebooks' sections (`#nb-<name>`). */
  table: string;
}

/** Print CSS for a notebook page (nbconvert's JupyterLab export), alone or in the combined file. */
const PRINT_CSS = `
@page { size: A4; }
html, body { background: #fff !important; }
body.jp-Notebook { padding: 0 !important; margin: 0 !important; }
.jp-Cell { padding: 2px 0 !important; }
.jp-InputPrompt, .jp-OutputPrompt { display: none !important; }
.jp-InputArea-editor, .jp-OutputArea-output { width: 100% !important; max-width: 100% !important; }
pre { white-space: pre-wrap !important; overflow-wrap: anywhere; }
.jp-RenderedHTMLCommon pre, .jp-InputArea-editor pre, .jp-CodeMirrorEditor, .jp-OutputArea-output pre { font-size: 11px !important; line-height: 1.35 !important; }
.jp-OutputArea-output, .jp-RenderedHTMLCommon { overflow: visible !important; }
figure.lab-plot { overflow: visible !important; break-inside: avoid; page-break-inside: avoid; }
figure.lab-plot > svg { max-width: 100%; height: auto; }
table, tr, .lab-verdict, .jp-CodeMirrorEditor, .jp-InputArea, .lab-print-title { break-inside: avoid; page-break-inside: avoid; }
.jp-RenderedHTMLCommon table { font-size: 0.85em; }
h1, h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
.lab-print-title { font-family: system-ui, sans-serif; border-bottom: 2px solid #333; margin: 0 0 1em; padding: 0 0 0.6em; }
.lab-print-title .kicker { color: #555; font-size: 0.85em; margin: 0; }
.lab-print-title h1 { font-size: 1.7em; margin: 0.15em 0 0.3em; }
.lab-print-title .state { font-weight: 700; margin: 0.2em 0; }
.lab-print-title ul { margin: 0.2em 0; padding-left: 1.2em; }
.lab-print-title .about { color: #555; font-size: 0.85em; margin: 0.3em 0 0; }
.lab-print-section + .lab-print-section { break-before: page; page-break-before: always; }
.lab-print-cover { font-family: system-ui, sans-serif; }
.lab-print-cover h1 { font-size: 2em; }
.lab-print-cover table { border-collapse: collapse; width: 100%; }
.lab-print-cover td, .lab-print-cover th { border-bottom: 1px solid #ddd; padding: 0.4em; text-align: left; vertical-align: top; }
.lab-print-cover ul { margin: 0; padding-left: 1.2em; }
.lab-print-cover pre { font-size: 0.85em; }
`;

function titleBlock(nb: PrintedNotebook): string {
  const colour = nb.passed ? "#1e6b34" : "#a50e0e";
  return `<header class="lab-print-title" id="nb-${esc(nb.name)}">
<p class="kicker">Campus Food Lab · ${esc(nb.name)}.ipynb</p>
<h1>${esc(nb.title)}</h1>
<p class="state" style="color:${colour}">${esc(nb.state)}</p>
${nb.lines.length ? `<ul>${nb.lines.map((l) => `<li>${esc(l)}</li>`).join("")}</ul>` : ""}
<p class="about">Measured: ${esc(nb.target.line)}</p>
<p class="about">${esc(nb.about)}</p>
</header>`;
}

/** The `<style>` blocks of a page's head (JupyterLab's CSS), and what its body holds. */
function pageParts(html: string): { styles: string[]; bodyAttrs: string; body: string } {
  const head = /<head[^>]*>([\s\S]*?)<\/head>/i.exec(html)?.[1] ?? "";
  const styles = [...head.matchAll(/<style[^>]*>[\s\S]*?<\/style>/gi)].map((m) => m[0]);
  const open = /<body([^>]*)>/i.exec(html);
  if (!open) throw new Error("not an HTML page (no <body>)");
  const start = open.index + open[0].length;
  const end = html.lastIndexOf("</body>");
  return { styles, bodyAttrs: open[1], body: html.slice(start, end < start ? undefined : end) };
}

/** One page with every notebook: the index first, then each notebook in its own section. */
export function combinedHtml(index: PrintedIndex, notebooks: PrintedNotebook[]): string {
  const pages = notebooks.map((nb) => ({ nb, ...pageParts(fs.readFileSync(nb.html, "utf8")) }));
  const styles = [...new Set(pages.flatMap((p) => p.styles))];
  const bodyAttrs = pages[0]?.bodyAttrs ?? "";
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(index.title)}</title>
${styles.join("\n")}
<style>${PRINT_CSS}</style>
</head><body${bodyAttrs}>
<section class="lab-print-section lab-print-cover">
<h1>${esc(index.title)}</h1>
<p>${index.intro}</p>
${index.table}
</section>
${pages.map((p) => `<section class="lab-print-section">\n${titleBlock(p.nb)}\n${p.body}\n</section>`).join("\n")}
</body></html>
`;
}

const headerFooter = (left: string, right: string) => ({
  displayHeaderFooter: true,
  headerTemplate: `<div style="font-family:sans-serif;font-size:8px;color:#555;width:100%;margin:0 12mm;display:flex;justify-content:space-between"><span>${esc(left)}</span><span>${esc(right)}</span></div>`,
  footerTemplate: `<div style="font-family:sans-serif;font-size:8px;color:#555;width:100%;margin:0 12mm;text-align:right"><span class="pageNumber"></span> / <span class="totalPages"></span></div>`,
  margin: { top: "16mm", bottom: "14mm", left: "12mm", right: "12mm" },
  printBackground: true,
  format: "A4" as const,
});

/**
 * Print each notebook's page to `<name>.pdf` beside it, and the combined file to `combinedPdf`.
 * Returns the files written, in order (the notebooks', then the combined one).
 */
export async function printPdfs(
  notebooks: PrintedNotebook[],
  index: PrintedIndex,
  combinedPdf: string,
): Promise<{ notebooks: Record<string, string>; combined: string }> {
  if (!fs.existsSync(chromiumPath())) throw new Error(chromiumMissing());
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: chromiumArgs() });
  const written: Record<string, string> = {};
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "campus-food-pdf-"));
  try {
    const context = await browser.newContext({ offline: true });
    const page = await context.newPage();
    for (const nb of notebooks) {
      await page.goto(pathToFileURL(nb.html).href, { waitUntil: "load" });
      await page.addStyleTag({ content: PRINT_CSS });
      await page.evaluate((block) => document.body.insertAdjacentHTML("afterbegin", block), titleBlock(nb));
      const pdf = path.join(path.dirname(nb.html), `${nb.name}.pdf`);
      await page.pdf({ path: pdf, ...headerFooter(`Campus Food Lab — ${nb.title} — ${nb.target.name}`, nb.state) });
      written[nb.name] = pdf;
    }
    // The combined page goes to a scratch file (loaded from disk like the notebooks' pages), printed, then removed.
    const combinedPage = path.join(scratch, "report.html");
    fs.writeFileSync(combinedPage, combinedHtml(index, notebooks));
    await page.goto(pathToFileURL(combinedPage).href, { waitUntil: "load" });
    await page.pdf({ path: combinedPdf, ...headerFooter(index.title, `${notebooks.length} notebook(s)`) });
    await context.close();
  } finally {
    await browser.close();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return { notebooks: written, combined: combinedPdf };
}
