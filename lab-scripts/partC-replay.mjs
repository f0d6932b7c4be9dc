#!/usr/bin/env zx
// Part C replay: the analytics metrics before, POST /replay (reset analytics-group to the start
// of both topics and recompute), the metrics after — side by side, and whether they are equal.
//   npx zx lab-scripts/partC-replay.mjs [--quick] [--seed-count 1000] [--without event-time] [--target FILE]
// --seed-count: orders produced first if the log is empty. Results in results/partC/replay/.
// --without NAME: Part C's services started with that safeguard switched off (switches.ts), to see
// what it prevents: without event-time the replay waits for the clock's minute to turn and the
// orders per minute move; without dedupe a log holding duplicates counts them all.
// Then copies of a few OrderPlaced must not be counted again. A team's --target: through its
// replay call and its metrics' field names (results in results/targets/<name>/partC/replay/).
import { lab, main, parseFlags, reportExperiment, targetFlag, targetOf, withoutFlag, withoutOf } from "./lib.mjs";

const { values: argv } = parseFlags({
  summary:
    "Part C replay: the analytics metrics before, POST /replay (analytics-group back to the start of both topics), the metrics after, and whether they are equal. Results in results/partC/replay/ (a target's: results/targets/<name>/partC/replay/). The lab's own Part C is brought up if needed; a target's services are its owner's, nothing is brought up.",
  usage: "npx zx lab-scripts/partC-replay.mjs [--quick] [--seed-count 1000] [--without event-time] [--target FILE]",
  options: {
    quick: { type: "boolean", help: "the small sizes the tests use: 100 orders produced first" },
    "seed-count": {
      type: "string",
      default: "1000",
      quick: "100",
      value: "N",
      help: "orders produced first if the log is empty, 0 to 1000000",
    },
    without: withoutFlag(["event-time", "dedupe"], "Part C must not be up already; the lab's own services only"),
    target: targetFlag,
  },
});

await main(async () => {
  const seedCount = Number(argv["seed-count"]);
  if (!Number.isInteger(seedCount) || seedCount < 0 || seedCount > 1_000_000)
    throw new Error("--seed-count must be a whole number from 0 to 1000000");

  const without = withoutOf(lab.partC.replayExperiment, argv.without);
  const target = targetOf(argv);
  console.log(chalk.bold(`Part C replay: metrics before and after${without ? ` — WITHOUT ${without}` : ""}`));
  const exp = lab.partC.replayExperiment;
  const log = (line) => console.log(chalk.dim(`  ${line}`));
  const result = await lab.partC.withPartC(target, { log, without }, (impl) =>
    // Read by the clock, the minutes can only move if the replay reads at another time.
    lab.harness.runExperiment(exp, impl, {
      seedCount,
      quick: argv.quick,
      replayInAnotherMinute: without === "event-time",
      onProgress: log,
    }),
  );

  await reportExperiment(exp, result, target);
});
