#!/usr/bin/env zx
// The submission bundle: executes every notebook headless (tslab kernel) and writes, into
// results/reports/, each executed .ipynb, a self-contained HTML page per notebook and index.html.
//   npx zx lab-scripts/report.mjs [--quick] [--only 01,04]
// Fails (exit 1) when any cell of any notebook fails; the pages still show where.
import { lab, main, parseFlags } from "./lib.mjs";

const { values: argv } = parseFlags({
  summary: "The submission bundle: every notebook executed headless (tslab kernel); into results/reports/ each executed .ipynb, an HTML page per notebook and index.html. Fails when any cell fails.",
  usage: "npx zx lab-scripts/report.mjs [--quick] [--mode quick|full] [--only 01,04] [--no-summary]",
  options: {
    quick: { type: "boolean", help: "small figures (the same as --mode quick)" },
    mode: { type: "string", value: "MODE", help: "quick | full", defaultText: "LAB_MODE, else full" },
    only: { type: "string", value: "LIST", help: "some notebooks: 01 | 02 | 03 | 04, comma-separated", defaultText: "all" },
    "no-summary": { type: "boolean", help: "print no summary at the end (run-lab.mjs prints its own)" },
  },
});

await main(async () => {
  const mode = argv.quick ? "quick" : argv.mode ?? process.env.LAB_MODE ?? "full";
  const only = argv.only ? argv.only.split(",") : undefined;
  const report = await lab.harness.buildReport({ mode, only, log: (line) => console.log(styled(line)) });
  if (!argv["no-summary"]) {
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
