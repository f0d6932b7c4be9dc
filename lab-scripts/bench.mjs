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

const benches = {
  partA: (o) => bench.benchPartA(o),
  partB: (o) => bench.benchPartB(o),
  partC: (o) => bench.benchPartC(o),
};

await main(async () => {
  const quick = Boolean(argv.quick);
  const only = listOf(argv.only) ?? Object.keys(benches);
  for (const name of only)
    if (!benches[name]) throw new Error(`unknown benchmark ${name}: use one of ${Object.keys(benches).join(", ")}`);
  // Brokers and services of the benchmark's own (a temporary LAB_HOME, free ports): a benchmark
  // never touches the brokers a student has up. Native brokers, as the tests run them.
  const env = await lab.harness.isolatedBrokerEnv("bench");
  const restoreEnv = lab.harness.useEnv({ ...env, LAB_BROKER_MODE: "native" });
  const home = env.LAB_HOME;
  console.log(chalk.dim(`lab folder of this run (brokers, services, logs): ${home}`));
  const runs = [];
  let cleaned = false;
  const cleanUp = async () => {
    if (cleaned) return;
    cleaned = true;
    // Whatever failed, nothing the benchmark started keeps running: services, then brokers.
    for (const part of lab.PART_IDS)
      await lab.down(part, { home }).catch((err) => console.error(`could not stop ${part}: ${err.message}`));
    restoreEnv();
    fs.rmSync(home, { recursive: true, force: true });
  };
  process.once("SIGINT", () => {
    console.error("\ninterrupted: stopping what the benchmark started");
    cleanUp().finally(() => process.exit(130));
  });
  try {
    for (const name of only) {
      console.log(chalk.bold(`\n== ${name}${quick ? " (quick)" : ""}`));
      const nodeArgs = argv.profile
        ? ["--cpu-prof", `--cpu-prof-dir=${lab.resultsDir("bench", "profiles", name)}`]
        : undefined;
      const { figures, details, versions } = await benches[name]({
        home,
        quick,
        nodeArgs,
        log: (line) => console.log(`  ${line}`),
      });
      const run = {
        name,
        quick,
        machine: bench.machineInfo(versions ?? {}),
        figures,
        details,
        at: new Date().toISOString(),
      };
      bench.writeBenchRun(run);
      runs.push(run);
      console.log(lab.markdownTable(bench.figuresTable(figures)));
    }
  } finally {
    await cleanUp();
  }
  const all = bench.readBenchRuns();
  const rows = bench.benchRows(all);
  const plots = [
    await lab.harness.writeSvg(bench.benchRatioSpec(rows), path.join(lab.resultsDir("bench"), "ratios.svg")),
    await lab.harness.writeSvg(bench.benchMemorySpec(rows), path.join(lab.resultsDir("bench"), "memory.svg")),
  ];
  const file = bench.writeBenchReadme(all, bench.lessons(all));
  for (const f of [file, ...plots]) console.log(chalk.dim(`wrote ${path.relative(process.cwd(), f)}`));
});
