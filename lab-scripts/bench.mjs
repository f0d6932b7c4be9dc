#!/usr/bin/env zx
// Every benchmark against its baseline, in one run: results/bench/<name>.json + README.md.
//   npx zx lab-scripts/bench.mjs [--quick] [--only partB] [--profile]
//   --profile: the services run under `node --cpu-prof`; profiles in results/bench/profiles/<part>/
import fs from "node:fs";
import { createRequire } from "node:module";
import { lab, listOf, main, parseFlags } from "./lib.mjs";

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
  await withBenchFolder(async (home) => {
    for (const name of only) {
      console.log(chalk.bold(`\n== ${name}${quick ? " (quick)" : ""}`));
      const nodeArgs = argv.profile
        ? ["--cpu-prof", `--cpu-prof-dir=${lab.resultsDir("bench", "profiles", name)}`]
        : undefined;
      const run = await bench.runBenchmark(name, { home, quick, nodeArgs, log: (line) => console.log(`  ${line}`) });
      console.log(lab.markdownTable(bench.figuresTable(run.figures)));
    }
  });
  for (const f of await bench.writeBenchSummary()) console.log(chalk.dim(`wrote ${path.relative(process.cwd(), f)}`));
});

/**
 * `fn(home)` on brokers and services of the benchmark's own (a temporary LAB_HOME, free ports,
 * native brokers, as the tests run them): a benchmark never touches the brokers a student has up.
 * Whatever happens, an interrupt too, what it started is stopped (services, then brokers) and
 * its folder removed.
 */
async function withBenchFolder(fn) {
  const env = await lab.harness.isolatedBrokerEnv("bench");
  const restoreEnv = lab.harness.useEnv({ ...env, LAB_BROKER_MODE: "native" });
  const home = env.LAB_HOME;
  console.log(chalk.dim(`lab folder of this run (brokers, services, logs): ${home}`));
  let cleaning;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      for (const part of lab.PART_IDS)
        await lab.down(part, { home }).catch((err) => console.error(`could not stop ${part}: ${err.message}`));
      restoreEnv();
      fs.rmSync(home, { recursive: true, force: true });
    })());
  process.once("SIGINT", () => {
    console.error("\ninterrupted: stopping what the benchmark started");
    cleanUp().finally(() => process.exit(130));
  });
  try {
    return await fn(home);
  } finally {
    await cleanUp();
  }
}
