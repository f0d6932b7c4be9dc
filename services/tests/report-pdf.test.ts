// The report's PDFs, fast: two small pages shaped like the report's (nbconvert's JupyterLab
// page, plots as inline SVG, tables, verdict lines) printed by `addPdfs`, as `npm run report --
// --pdf-only` does, then read back: the pages in order, the text on each, no plot cut across a
// page break, and index.html and report.json listing the files. (notebooks.test.ts prints the
// real report the same way.)
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { addPdfs, COMBINED_PDF, type NotebookRun, type Report } from "../harness/show/report.js";
import { chromiumMissing, chromiumPath } from "../harness/show/pdf.js";
import { readPdf } from "./pdf-text.js";
import { tempHome } from "./support.js";

/** A page like nbconvert's: JupyterLab's CSS in the head, cells in the body; `plots` plots between paragraphs. */
function notebookPage(title: string, tag: string, plots: number): string {
  const paragraph = (i: number) =>
    `<div class="jp-Cell jp-MarkdownCell"><div class="jp-RenderedHTMLCommon"><p>Paragraph ${i} of ${tag}: the order goes through the service, the service answers, and the numbers say how long it took.</p></div></div>`;
  const plot = (
    i: number,
  ) => `<div class="jp-Cell jp-CodeCell"><div class="jp-OutputArea-output"><figure class="lab-plot" role="img" aria-label="plot ${i}" style="margin:0.5em 0;overflow-x:auto">
<svg class="marks" width="698" height="380" viewBox="0 0 698 380" xmlns="http://www.w3.org/2000/svg">
<text x="10" y="16" font-size="13">${tag}-plot-${i}-top</text>
<rect x="40" y="30" width="600" height="300" fill="#eef" stroke="#336"></rect>
${Array.from({ length: 20 }, (_, k) => `<line x1="${50 + k * 29}" y1="320" x2="${50 + k * 29}" y2="${300 - k * 12}" stroke="#36c"></line>`).join("")}
<text x="10" y="372" font-size="13">${tag}-plot-${i}-bottom</text>
</svg></figure></div></div>`;
  const cells: string[] = [
    `<div class="jp-Cell jp-MarkdownCell"><div class="jp-RenderedHTMLCommon"><h1>${title}</h1></div></div>`,
  ];
  for (let i = 0; i < plots; i++) {
    for (let p = 0; p < 2 + i; p++) cells.push(paragraph(i * 10 + p));
    cells.push(plot(i));
  }
  cells.push(
    `<div class="jp-Cell jp-CodeCell"><div class="jp-OutputArea-output"><table><thead><tr><th>scenario</th><th>median (ms)</th><th>p95 (ms)</th></tr></thead><tbody><tr><td>baseline</td><td>12</td><td>30</td></tr></tbody></table></div></div>`,
  );
  cells.push(
    `<div class="jp-Cell jp-CodeCell"><div class="jp-OutputArea-output"><div class="lab-verdict" data-passed="true" style="background:#e6f4ea;color:#1e6b34">✔ PASS — ${tag} checked</div></div></div>`,
  );
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${tag}</title><style>.jp-Cell{padding:4px}.jp-InputPrompt{width:64px}</style></head>
<body class="jp-Notebook" data-jp-theme-light="true">
${cells.join("\n")}
</body></html>`;
}

let dir: string;
let report: Report | undefined;
let skipped: string | undefined;

before(async () => {
  dir = tempHome("campus-food-pdf-test-");
  const runs: NotebookRun[] = [
    { name: "01-sync-rest", title: "Part A — synchronous REST", tag: "alpha", plots: 5 },
    { name: "04-compare", title: "The three models side by side", tag: "omega", plots: 3 },
  ].map(({ name, title, tag, plots }) => {
    const html = path.join(dir, `${name}.html`);
    fs.writeFileSync(html, notebookPage(title, tag, plots));
    fs.writeFileSync(path.join(dir, `${name}.ipynb`), "{}");
    const verdicts = [{ passed: true, text: `✔ PASS — ${tag} checked` }];
    return {
      name,
      title,
      mode: "quick",
      finished: "2026-11-27T18:47:00.000Z",
      ok: true,
      passed: true,
      verdicts,
      seconds: 12.5,
      ipynb: path.join(dir, `${name}.ipynb`),
      html,
      // A team's implementation, measured through its target file: every page must say so.
      target: {
        name: "team-7",
        version: "1.2",
        file: "team-7.yml",
        managed_by: "owner" as const,
        endpoints: { "A order": "http://127.0.0.1:9080" },
      },
    };
  });
  fs.writeFileSync(path.join(dir, "report.json"), JSON.stringify({ generated: new Date().toISOString(), runs }));
  if (!fs.existsSync(chromiumPath())) {
    if (process.env.CI) throw new Error(chromiumMissing());
    skipped = chromiumMissing();
    return;
  }
  report = await addPdfs(dir);
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

const pdfOf = (file: string) => readPdf(fs.readFileSync(file));
/** Whitespace-insensitive: the extracted text has no reliable spaces between glyph runs. */
const squash = (s: string) => s.replace(/\s+/g, "");
const pageWith = (pages: string[], text: string) => pages.findIndex((p) => squash(p).includes(squash(text)));

describe("npm run report -- --pdf: the PDFs", () => {
  test("a PDF per notebook and the combined one, listed in report.json and linked from index.html", (t) => {
    if (skipped) return t.skip(skipped);
    assert.ok(report?.pdf);
    assert.equal(report.pdf, path.join(dir, COMBINED_PDF));
    const listed = JSON.parse(fs.readFileSync(path.join(dir, "report.json"), "utf8"));
    assert.equal(listed.pdf, report.pdf);
    const index = fs.readFileSync(path.join(dir, "index.html"), "utf8");
    assert.ok(index.includes(`href="${COMBINED_PDF}"`), "index.html links the combined PDF");
    for (const r of listed.runs as NotebookRun[]) {
      assert.equal(r.pdf, path.join(dir, `${r.name}.pdf`));
      assert.ok(fs.existsSync(r.pdf), `${r.name}.pdf written`);
      assert.ok(index.includes(`href="${r.name}.pdf"`), `index.html links ${r.name}.pdf`);
      assert.equal(fs.readFileSync(r.pdf).subarray(0, 5).toString(), "%PDF-");
    }
  });

  test("each notebook's PDF: a title block with the verdict, its plots and table, page numbers", (t) => {
    if (skipped) return t.skip(skipped);
    const { pages } = pdfOf(path.join(dir, "01-sync-rest.pdf"));
    assert.ok(pages.length >= 3, `five plots and their prose fill several pages (${pages.length})`);
    const first = squash(pages[0]);
    for (const wanted of [
      "Campus Food Lab",
      "01-sync-rest.ipynb",
      "Part A — synchronous REST",
      "PASS — 1 experiment(s) passed",
      "alpha checked",
      "quick mode",
      "Measured: team-7 1.2 — A order http://127.0.0.1:9080",
    ]) {
      assert.ok(first.includes(squash(wanted)), `page 1 shows "${wanted}": ${pages[0].slice(0, 400)}`);
    }
    pages.forEach((p, i) => {
      assert.ok(squash(p).includes(squash(`${i + 1} / ${pages.length}`)), `page ${i + 1} is numbered`);
      assert.ok(squash(p).includes(squash("Part A — synchronous REST — team-7")), `page ${i + 1} names the target`);
    });
    assert.ok(pageWith(pages, "median (ms)") >= 0, "the table");
    for (let i = 0; i < 5; i++) {
      const top = pageWith(pages, `alpha-plot-${i}-top`);
      const bottom = pageWith(pages, `alpha-plot-${i}-bottom`);
      assert.ok(top >= 0 && bottom >= 0, `plot ${i} is printed, its text with it`);
      assert.equal(top, bottom, `plot ${i} is on one page, not cut by a page break`);
    }
  });

  test("the combined PDF: the index, then every notebook in order, each from a new page", (t) => {
    if (skipped) return t.skip(skipped);
    const { pages } = pdfOf(path.join(dir, COMBINED_PDF));
    const cover = squash(pages[0]);
    for (const wanted of [
      "Campus Food Lab — report on team-7",
      "Measured: team-7 1.2",
      "Part A — synchronous REST",
      "The three models side by side",
      "alpha checked",
      "omega checked",
    ]) {
      assert.ok(cover.includes(squash(wanted)), `the first page (the index) shows "${wanted}"`);
    }
    const partA = pdfOf(path.join(dir, "01-sync-rest.pdf")).pages.length;
    const compare = pdfOf(path.join(dir, "04-compare.pdf")).pages.length;
    assert.equal(pages.length, 1 + partA + compare, "the index's page, then each notebook's pages");
    assert.ok(squash(pages[1]).includes(squash("01-sync-rest.ipynb")), "Part A starts on page 2");
    assert.ok(
      squash(pages[1 + partA]).includes(squash("04-compare.ipynb")),
      "the comparison starts on a page of its own, after Part A",
    );
    assert.ok(pageWith(pages, "omega-plot-2-bottom") > pageWith(pages, "alpha-plot-4-bottom"), "in order");
  });
});
