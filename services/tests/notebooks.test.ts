// The notebooks as a student runs them: every notebook executed headless in quick mode by the
// report's own code (any cell error fails), each exported page checked for its plots as inline
// SVG and the tables the assignment asks for, one page opened in headless Chromium to see
// that the plots are really displayed, and the report printed to PDF (report --pdf-only). Brokers, services and results are this test's own
// (a temporary LAB_HOME and RESULTS_DIR, free ports), beside anything a student has up.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { isolatedBrokerEnv, useEnv } from "../harness/run/brokers/index.js";
import { down } from "../harness/run/lifecycle.js";
import { PART_IDS, PARTS } from "../harness/run/parts.js";
import { freePort } from "../harness/run/ports.js";
import { addPdfs, buildReport, COMBINED_PDF, NOTEBOOKS, type Report } from "../harness/show/report.js";
import { notebooksDir } from "../harness/show/jupyter.js";
import { chromiumArgs, chromiumMissing, chromiumPath } from "../harness/show/pdf.js";
import { readPdf } from "./pdf-text.js";
import { tempHome } from "./support.js";

/** What each page must show: at least this many plots, and a table with each of these headers. */
const EXPECTED: Record<(typeof NOTEBOOKS)[number]["name"], { plots: number; tables: string[][] }> = {
  "01-sync-rest": { plots: 1, tables: [["scenario", "median (ms)", "p95 (ms)", "errors"]] },
  "02-async-rabbitmq": {
    plots: 4,
    tables: [
      ["figure", "value"],
      ["step", "stock", "duplicates_ignored"],
      ["message", "reason"],
    ],
  },
  "03-streaming-kafka": {
    plots: 3,
    tables: [
      ["figure", "value"],
      ["metric", "before", "after", "equal"],
    ],
  },
  "04-compare": { plots: 4, tables: [["model", "condition", "response median (ms)", "confirmed after, median (ms)"]] },
};

let restoreEnv: () => void;
let home: string;
let outDir: string;
let report: Report;

before(async () => {
  const env: Record<string, string> = {
    ...(await isolatedBrokerEnv("notebooks")),
    RESULTS_DIR: tempHome("campus-food-results-"),
  };
  for (const part of PART_IDS) {
    for (const name of Object.keys(PARTS[part].defaultPorts))
      env[`${part.toUpperCase()}_${name.toUpperCase()}_PORT`] = String(await freePort());
  }
  restoreEnv = useEnv(env);
  home = env.LAB_HOME;
  outDir = path.join(env.RESULTS_DIR, "reports");
  // Progress only (the steps and the verdicts), not every line a cell prints.
  const log = (line: string) => /^(▶|✔|✖|\s{2}\[\d+\/\d+)/.test(line) && console.log(line);
  report = await buildReport({ mode: "quick", outDir, log });
});

after(async () => {
  for (const part of [...PART_IDS].reverse()) await down(part, { home }).catch(() => []);
  restoreEnv();
  fs.rmSync(home, { recursive: true, force: true }); // broker data; the pages stay in RESULTS_DIR to look at
});

const run = (name: string) => {
  const r = report.runs.find((x) => x.name === name);
  assert.ok(r, `${name} was not run`);
  return r;
};

describe("every notebook, executed in quick mode", () => {
  for (const [name, expected] of Object.entries(EXPECTED)) {
    test(`${name}: every cell runs, and its checker passes`, () => {
      const r = run(name);
      assert.ok(r.ok, `a cell failed in ${name}:\n${r.error}`);
      assert.ok(r.verdicts.length > 0, "the notebook shows a checker's verdict");
      assert.deepEqual(
        r.verdicts.filter((v) => !v.passed),
        [],
        "every verdict passes",
      );
    });

    test(`${name}.html: self-contained, with its plots as inline SVG and its tables`, () => {
      const html = fs.readFileSync(run(name).html, "utf8");
      // (nbconvert re-serialises the page: attribute order and case may change.)
      const plots = [...html.matchAll(/<figure\b[^>]*class="lab-plot"[^>]*>\s*<svg[\s\S]*?<\/svg>\s*<\/figure>/g)];
      assert.ok(plots.length >= expected.plots, `${plots.length} inline SVG plots, expected ≥ ${expected.plots}`);
      for (const plot of plots) assert.match(plot[0], /<(path|line|rect)\b/, "a plot draws marks");
      assert.doesNotMatch(html, /<script[^>]+src=["']https?:/, "no script from the network");
      const headers = [...html.matchAll(/<thead>([\s\S]*?)<\/thead>/g)].map((m) =>
        [...m[1].matchAll(/<th[^>]*>([\s\S]*?)<\/th>/g)].map((h) => h[1].trim()),
      );
      for (const wanted of expected.tables) {
        assert.ok(
          headers.some((h) => wanted.every((w) => h.includes(w))),
          `a table with the columns ${wanted.join(", ")}; found tables with: ${headers.map((h) => h.join(", ")).join(" | ")}`,
        );
      }
      const verdicts = [...html.matchAll(/<div\b[^>]*class="lab-verdict"[^>]*>/g)].map((m) => m[0]);
      assert.ok(
        verdicts.length > 0 && verdicts.every((tag) => tag.includes('data-passed="true"')),
        "the verdict lines, all passed",
      );
    });
  }

  test("index.html links every page with its verdict", () => {
    const index = fs.readFileSync(report.index, "utf8");
    for (const r of report.runs) {
      assert.ok(index.includes(`href="${r.name}.html"`), `links ${r.name}.html`);
      assert.ok(fs.existsSync(r.ipynb) && fs.existsSync(r.html), `${r.name}: both files written`);
    }
    assert.equal(index.match(/>PASS</g)?.length, report.runs.length, "one PASS per notebook");
  });

  test("the executed notebooks keep their outputs; the stored ones have none", () => {
    for (const r of report.runs) {
      const executed = JSON.parse(fs.readFileSync(r.ipynb, "utf8"));
      assert.ok(
        executed.cells.some((c: { outputs?: unknown[] }) => c.outputs?.length),
        `${r.name}: executed copy has outputs`,
      );
    }
    for (const file of fs.readdirSync(notebooksDir).filter((f) => f.endsWith(".ipynb"))) {
      const stored = JSON.parse(fs.readFileSync(path.join(notebooksDir, file), "utf8"));
      const withOutput = stored.cells.filter(
        (c: { outputs?: unknown[]; execution_count?: number | null }) => c.outputs?.length || c.execution_count,
      );
      assert.equal(
        withOutput.length,
        0,
        `notebooks/${file} is stored with outputs: clear them (see CONTRIBUTING.md, Editing a notebook)`,
      );
    }
  });
});

describe("a report page as a student sees it", () => {
  test("headless Chromium displays the plots and tables of 01-sync-rest.html", async (t) => {
    if (!fs.existsSync(chromiumPath())) {
      if (process.env.CI) assert.fail(chromiumMissing());
      return t.skip(chromiumMissing());
    }
    const { chromium } = await import("playwright-core");
    const profile = tempHome("campus-food-chromium-");
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath(),
      headless: true,
      args: chromiumArgs(),
      viewport: { width: 1100, height: 900 },
    });
    try {
      const page = await browser.newPage();
      const failed: string[] = [];
      page.on("requestfailed", (req) => failed.push(req.url()));
      await page.goto(`file://${run("01-sync-rest").html}`, { waitUntil: "load" });
      const plots = await page.$$eval("figure.lab-plot > svg", (svgs) =>
        svgs.map((svg) => {
          const box = svg.getBoundingClientRect();
          return {
            width: box.width,
            height: box.height,
            marks: svg.querySelectorAll("path, line, rect").length,
            text: svg.textContent ?? "",
          };
        }),
      );
      assert.ok(plots.length >= 1, "at least one plot on the page");
      for (const p of plots) {
        assert.ok(p.width > 200 && p.height > 100, `a plot is laid out at a visible size (${p.width}×${p.height})`);
        assert.ok(p.marks > 10, "and draws its marks");
      }
      assert.match(plots[0].text, /latency/, "the latency plot, with its axis title");
      const tableRows = await page.$$eval(
        "table tbody tr",
        (rows) => rows.filter((r) => r.getBoundingClientRect().height > 0).length,
      );
      assert.ok(tableRows >= 4, `the latency table's rows are displayed (${tableRows})`);
      assert.deepEqual(failed, [], "the page loads nothing that fails (no network needed)");
      await page.locator("figure.lab-plot").first().scrollIntoViewIfNeeded();
      const shot = path.join(outDir, "01-sync-rest.png");
      await page.screenshot({ path: shot });
      console.log(`screenshot: ${shot}`);
    } finally {
      await browser.close();
      fs.rmSync(profile, { recursive: true, force: true });
    }
  });
});

describe("the report as PDF, to hand in", () => {
  test("every notebook's page and the combined file print, with their titles, verdicts and tables", async (t) => {
    if (!fs.existsSync(chromiumPath())) {
      if (process.env.CI) assert.fail(chromiumMissing());
      return t.skip(chromiumMissing());
    }
    const printed = await addPdfs(outDir);
    assert.equal(printed.pdf, path.join(outDir, COMBINED_PDF));
    const squash = (s: string) => s.replace(/\s+/g, "");
    let pages = 0;
    for (const r of printed.runs) {
      assert.ok(r.pdf && fs.existsSync(r.pdf), `${r.name}.pdf written`);
      const text = readPdf(fs.readFileSync(r.pdf)).pages;
      pages += text.length;
      assert.ok(
        squash(text[0]).includes(squash(r.title)) && squash(text[0]).includes("PASS"),
        `${r.name}.pdf opens with its title and verdict`,
      );
      for (const header of EXPECTED[r.name as keyof typeof EXPECTED].tables.flat()) {
        assert.ok(
          text.some((p) => squash(p).includes(squash(header))),
          `${r.name}.pdf shows the column ${header}`,
        );
      }
    }
    const combined = readPdf(fs.readFileSync(printed.pdf)).pages;
    const index = combined.findIndex((p) => squash(p).includes(squash(`${printed.runs[0].name}.ipynb`))); // where the first notebook starts
    assert.ok(index >= 1, "the index comes first");
    assert.equal(combined.length, index + pages, "the combined PDF: the index, then every notebook's pages");
    for (const r of printed.runs)
      assert.ok(squash(combined[0]).includes(squash(r.title)), `its first page lists ${r.title}`);
  });
});
