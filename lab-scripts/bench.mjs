#!/usr/bin/env zx
// Every benchmark against its baseline, in one run: results/bench/<name>.json + README.md.
//   npm run bench [-- --quick] [-- --only partA]
import fs from "node:fs";
import os from "node:os";
import { createRequire } from "node:module";
import { lab, main } from "./lib.mjs";

const bench = createRequire(import.meta.url)("../dist/bench/index.js");

const benches = {
  partA: (o) => bench.benchPartA(o),
};

await main(async () => {
  const quick = Boolean(argv.quick);
  const only = argv.only ? [argv.only].flat() : Object.keys(benches);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "campus-food-bench-"));
  const runs = [];
  try {
    for (const name of only) {
      if (!benches[name]) throw new Error(`unknown benchmark ${name}: use one of ${Object.keys(benches).join(", ")}`);
      console.log(chalk.bold(`\n== ${name}${quick ? " (quick)" : ""}`));
      const { figures, details } = await benches[name]({ home, quick, log: (line) => console.log(`  ${line}`) });
      const run = { name, quick, machine: bench.machineInfo(), figures, details, at: new Date().toISOString() };
      bench.writeBenchRun(run);
      runs.push(run);
      console.log(lab.markdownTable(bench.figuresTable(figures)));
    }
  } finally {
    await lab.down("partA", { home }).catch(() => {});
  }
  const all = bench.readBenchRuns();
  const file = bench.writeBenchReadme(all, bench.lessons(all));
  console.log(chalk.dim(`\nwrote ${path.relative(process.cwd(), file)}`));
});
