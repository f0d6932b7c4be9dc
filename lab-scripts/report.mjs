#!/usr/bin/env zx
// The submission bundle: executes every notebook headless (tslab kernel) and writes, into
// results/reports/, each executed .ipynb, a self-contained HTML page per notebook and index.html;
// with --pdf, a PDF of each page and one combined PDF to hand in (headless Chromium).
//   npx zx lab-scripts/report.mjs [--quick] [--only 01,04] [--pdf | --pdf-only] [--target FILE]
// (a target's bundle: results/targets/<name>/reports/)
// Fails (exit 1) when any cell of any notebook fails; the pages still show where.
import { lab, listOf, main, parseFlags, targetFlag, targetOf } from "./lib.mjs";

const { values: argv } = parseFlags({
  summary:
    "The submission bundle: every notebook executed headless (tslab kernel); into results/reports/ (a target's: results/targets/<name>/reports/) each executed .ipynb, an HTML page per notebook and index.html. Fails when any cell fails.",
  usage: [
    "npx zx lab-scripts/report.mjs [--quick] [--mode quick|full] [--only 01,04] [--pdf] [--target FILE] [--no-summary]",
    "npx zx lab-scripts/report.mjs --pdf-only [--target FILE]",
  ],
  options: {
    quick: { type: "boolean", help: "small figures (the same as --mode quick)" },
    mode: {
      type: "string",
      value: "MODE",
      help: "the size of the run: quick | full",
      defaultText: "LAB_MODE, else full",
    },
    only: {
      type: "string",
      multiple: true,
      value: "NOTEBOOK",
      help: "only these notebooks: 01 | 02 | 03 | 04",
      defaultText: "all",
    },
    pdf: {
      type: "boolean",
      help: "also print each page to PDF, and the whole report to one PDF to hand in (campus-food-lab-report.pdf); needs Chromium",
    },
    "pdf-only": { type: "boolean", help: "print the report already in results/reports/ to PDF, running no notebook" },
    "no-summary": { type: "boolean", help: "print no summary at the end (run-lab.mjs prints its own)" },
    target: {
      ...targetFlag,
      help: `${targetFlag.help}: its notebooks run with LAB_TARGET set, into results/targets/<name>/reports/; every page names it`,
    },
  },
});

await main(async () => {
  if (argv["pdf-only"] && (argv.pdf || argv.only || argv.quick || argv.mode))
    throw new Error("--pdf-only prints the report as it is: it takes no --pdf, --only, --quick or --mode");
  if (argv.quick && argv.mode !== undefined && argv.mode !== "quick")
    throw new Error(`--quick is --mode quick: it cannot go with --mode ${argv.mode}`);
  const mode = argv.quick ? "quick" : (argv.mode ?? process.env.LAB_MODE ?? "full");
  const only = listOf(argv.only);
  const target = targetOf(argv);
  const report = argv["pdf-only"]
    ? await lab.harness.addPdfs(lab.harness.reportsDir(target))
    : await lab.harness.buildReport({ mode, only, pdf: argv.pdf, target, log: (line) => console.log(styled(line)) });
  if (!argv["no-summary"]) {
    // (--no-summary: the caller, run-lab.mjs, prints its own)
    console.log();
    for (const r of report.runs)
      console.log(
        `  ${r.ok && r.passed ? chalk.green("✔") : chalk.red("✖")} ${r.title.padEnd(48)} ${path.relative(process.cwd(), r.pdf ?? r.html)}`,
      );
    console.log(chalk.bold(`\nReport: ${path.relative(process.cwd(), report.index)}`));
    if (report.pdf) console.log(chalk.bold(`To hand in: ${path.relative(process.cwd(), report.pdf)}`));
  }
  if (!report.ok && !argv["pdf-only"])
    throw new Error("a notebook cell failed (see above, and the notebook's page in the report)");
});

function styled(line) {
  if (line.startsWith("▶")) return chalk.bold(`\n${line}`);
  if (line.startsWith("✔")) return chalk.green(line);
  if (line.startsWith("✖") || line.includes("✖ a cell failed")) return chalk.red(line);
  if (line.startsWith("      ")) return chalk.dim(line);
  return line;
}
