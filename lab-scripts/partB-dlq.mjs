#!/usr/bin/env zx
// Part B poison messages: malformed JSON and a wrong-shape event land in order.placed.dlq with
// their reason, and a normal order placed right after is still confirmed.
//   npx zx lab-scripts/partB-dlq.mjs [--quick] [--without dead-letter] [--target FILE]
// --without dead-letter: inventory requeues what it cannot read; the poison loops. Results in results/partB/dlq/
// (a team's --target: results/targets/<name>/partB/dlq/; what it does not offer is skipped with the reason).
import { lab, main, parseFlags, reportExperiment, targetFlag, targetOf, withoutFlag } from "./lib.mjs";

const { values: argv } = parseFlags({
  summary:
    "Part B poison messages: malformed JSON and a wrong-shape event land in order.placed.dlq with their reason; a normal order placed right after is still confirmed. Results in results/partB/dlq/ (a target's: results/targets/<name>/partB/dlq/; what it does not offer is skipped with the reason).",
  usage: "npx zx lab-scripts/partB-dlq.mjs [--quick] [--without dead-letter] [--target FILE]",
  options: {
    quick: { type: "boolean", help: "the small sizes the tests use: two poison messages and one order, as always" },
    without: withoutFlag(["dead-letter"], "Part B must not be up already; the lab's own services only"),
    target: targetFlag,
  },
});

await main(async () => {
  const target = targetOf(argv);
  console.log(
    chalk.bold(
      `Part B dead-letter queue: two poison messages, then a good order${argv.without ? ` — WITHOUT ${argv.without}` : ""}`,
    ),
  );
  const exp = lab.partB.PARTB_EXPERIMENTS.dlq;
  const opts = {
    without: argv.without,
    quick: argv.quick,
    log: (line) => console.log(chalk.dim(`  ${line}`)),
    onProgress: (line) => console.log(`  ${line}`),
  };
  const result = await lab.partB.withPartB(target, opts, (impl) => lab.harness.runExperiment(exp, impl, opts));
  await reportExperiment(exp, result, target);
});
