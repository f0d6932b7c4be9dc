#!/usr/bin/env zx
// Part C load test: produce N OrderPlaced events (10,000 by default) and measure the producer's
// throughput and how long until analytics has counted every order and every inventory answer.
//   npx zx lab-scripts/partC-load.mjs [--quick] [--count 10000] [--target FILE]
// The target's producer makes the orders (the lab's own: brought up if needed, and only what was
// started is stopped); the lab's tap on its topics counts what reaches the wire, its metrics what
// analytics counted. Results in results/partC/load/ (a team's: results/targets/<name>/partC/load/).
import { lab, main, parseFlags, reportExperiment, targetFlag, targetOf } from "./lib.mjs";

const { values: argv } = parseFlags({
  summary:
    "Part C load test: produce N OrderPlaced events and measure the producer's throughput and how long until analytics has counted them all. Results in results/partC/load/ (a target's: results/targets/<name>/partC/load/). The lab's own Part C is brought up if needed; a target's services are its owner's, nothing is brought up.",
  usage: "npx zx lab-scripts/partC-load.mjs [--quick] [--count 10000] [--target FILE]",
  options: {
    quick: { type: "boolean", help: "the small sizes the tests use: 1000 events" },
    count: { type: "string", default: "10000", quick: "1000", value: "N", help: "events produced, 1 to 1000000" },
    target: targetFlag,
  },
});

await main(async () => {
  const count = Number(argv.count);
  if (!Number.isInteger(count) || count < 1 || count > 1_000_000)
    throw new Error("--count must be a whole number from 1 to 1000000");

  const target = targetOf(argv);
  console.log(chalk.bold(`Part C load test: ${count} events`));
  const latest = {};
  let shown = -1;
  const onSample = (s) => {
    latest[s.series] = s.value;
    const tick = Math.floor(s.t_s * 2);
    if (tick === shown) return; // two lines a second
    shown = tick;
    const counters = Object.entries(latest).map(([k, v]) => `${k} ${String(v).padStart(7)}`);
    console.log(`  t=${s.t_s.toFixed(1).padStart(5)} s  ${counters.join("  ")}`);
  };
  const exp = lab.partC.loadExperiment;
  const log = (line) => console.log(chalk.dim(`  ${line}`));
  const result = await lab.partC.withPartC(target, { log }, (impl) =>
    lab.harness.runExperiment(exp, impl, { count, quick: argv.quick, onProgress: log, onSample }),
  );

  await reportExperiment(exp, result, target);
});
