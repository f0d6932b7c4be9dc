#!/usr/bin/env zx
// The submission bundle: executes every notebook headless (tslab kernel) and writes, into
// results/reports/, each executed .ipynb, a self-contained HTML page per notebook and index.html.
//   npx zx lab-scripts/report.mjs [--quick] [--only 01,04]
// Fails (exit 1) when any cell of any notebook fails; the pages still show where.
import { lab, main } from "./lib.mjs";

await main(async () => {
  const mode = argv.quick ? "quick" : argv.mode ?? process.env.LAB_MODE ?? "full";
  const only = argv.only ? String(argv.only).split(",") : undefined;
  const report = await lab.harness.buildReport({ mode, only, log: (line) => console.log(styled(line)) });
  if (argv.summary !== false) {
    // (--no-summary: the caller, run-lab.mjs, prints its own)
    console.log();
    for (const r of report.runs) console.log(`  ${r.ok && r.passed ? chalk.green("✔") : chalk.red("✖")} ${r.title.padEnd(48)} ${path.relative(process.cwd(), r.html)}`);
    console.log(chalk.bold(`\nReport: ${path.relative(process.cwd(), report.index)}`));
  }
  if (!report.ok) throw new Error("a notebook cell failed (see above, and the notebook's page in the report)");
});

function styled(line) {
  if (line.startsWith("▶")) return chalk.bold(`\n${line}`);
  if (line.startsWith("✔")) return chalk.green(line);
  if (line.startsWith("✖") || line.includes("✖ a cell failed")) return chalk.red(line);
  if (line.startsWith("      ")) return chalk.dim(line);
  return line;
}
