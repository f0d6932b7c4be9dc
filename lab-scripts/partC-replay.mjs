#!/usr/bin/env zx
// Part C replay: the analytics metrics before, POST /replay (reset analytics-group to the start
// of both topics and recompute), the metrics after — side by side, and whether they are equal.
//   npx zx lab-scripts/partC-replay.mjs [--seed-count 1000]
// --seed-count: orders produced first if the log is empty. Results in results/partC/replay/.
import { lab, main, parseFlags } from "./lib.mjs";

const { values: argv } = parseFlags({
  summary:
    "Part C replay: the analytics metrics before, POST /replay (analytics-group back to the start of both topics), the metrics after, and whether they are equal. Results in results/partC/replay/.",
  usage: "npx zx lab-scripts/partC-replay.mjs [--seed-count 1000]",
  options: {
    "seed-count": {
      type: "string",
      default: "1000",
      value: "N",
      help: "orders produced first if the log is empty, 0 to 1000000",
    },
  },
});

await main(async () => {
  const seedCount = Number(argv["seed-count"]);
  if (!Number.isInteger(seedCount) || seedCount < 0 || seedCount > 1_000_000)
    throw new Error("--seed-count must be a whole number from 0 to 1000000");

  console.log(chalk.bold("Part C replay: metrics before and after"));
  const result = await lab.partC.runReplayExperiment({
    seedCount,
    log: (line) => console.log(chalk.dim(`  ${line}`)),
    onPhase: (line) => console.log(`  ${line}`),
  });

  console.log(`\n${lab.markdownTable(lab.partC.replayTable(result))}\n`);
  console.log(
    result.equal
      ? chalk.green(`equal ✔ (replayed ${result.events_replayed} events in ${result.replay_ms} ms)`)
      : chalk.yellow(`not equal: ${result.reason}`),
  );
  console.log(`\n${lab.markdownTable(lab.harness.checksRows(result.checks))}`);
  const files = await lab.partC.writeReplayResults(result);
  console.log(chalk.dim(`\nwrote ${files.map((f) => path.relative(process.cwd(), f)).join(", ")}`));
  if (!result.passed) throw new Error("the checker found something that did not behave as expected (see above)");
});
