#!/usr/bin/env zx
// Every benchmark against its baseline, in one run: results/bench/<name>.json + README.md.
//   npx zx lab-scripts/bench.mjs [--quick] [--only partB] [--profile]
//   --profile: the services run under `node --cpu-prof`; profiles in results/bench/profiles/<part>/
import { createRequire } from "node:module";
import { lab, listOf, main, parseFlags, withOwnBrokers } from "./lib.mjs";

const { values: argv } = parseFlags({
  summary:
    "Every benchmark against its baseline, on brokers and services of its own (a temporary lab folder, free ports): results/bench/<name>.json, plots and README.md.",
  usage: "npx zx lab-scripts/bench.mjs [--quick] [--only partB] [--profile]",
  options: {
    quick: { type: "boolean", help: "the small sizes the tests use: a smoke test, not a measurement" },
    only: {
      type: "string",
      multiple: true,
      value: "PART",
      help: "only these benchmarks: partA | partB | partC",
      defaultText: "all three",
    },
    profile: {
      type: "boolean",
      help: "run the services under node --cpu-prof; profiles in results/bench/profiles/<part>/",
    },
  },
});

const bench = createRequire(import.meta.url)("../dist/bench/index.js");

await main(async () => {
  const quick = Boolean(argv.quick);
  const names = Object.keys(bench.BENCHES);
  const only = listOf(argv.only) ?? names;
  for (const name of only)
    if (!bench.BENCHES[name]) throw new Error(`unknown benchmark ${name}: use one of ${names.join(", ")}`);
  // Brokers and services of the benchmark's own, removed afterwards: it never touches a student's.
  await withOwnBrokers(
    "bench",
    async (home) => {
      for (const name of only) {
        console.log(chalk.bold(`\n== ${name}${quick ? " (quick)" : ""}`));
        const nodeArgs = argv.profile
          ? ["--cpu-prof", `--cpu-prof-dir=${lab.resultsDir("bench", "profiles", name)}`]
          : undefined;
        const run = await bench.runBenchmark(name, { home, quick, nodeArgs, log: (line) => console.log(`  ${line}`) });
        console.log(lab.markdownTable(bench.figuresTable(run.figures)));
      }
    },
    { removeFolder: true },
  );
  for (const f of await bench.writeBenchSummary()) console.log(chalk.dim(`wrote ${path.relative(process.cwd(), f)}`));
});
