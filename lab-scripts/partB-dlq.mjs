#!/usr/bin/env zx
// Part B poison messages: malformed JSON and a wrong-shape event land in order.placed.dlq with
// their reason, and a normal order placed right after is still confirmed.
//   npx zx lab-scripts/partB-dlq.mjs [--without dead-letter]
// --without dead-letter: inventory requeues what it cannot read; the poison loops. Results in results/partB/dlq/
// (a team's --target: results/targets/<name>/partB/dlq/; what it does not offer is skipped with the reason).
import { lab, main, parseFlags, targetFlag, targetOf } from "./lib.mjs";

const { values: argv } = parseFlags({
  summary:
    "Part B poison messages: malformed JSON and a wrong-shape event land in order.placed.dlq with their reason; a normal order placed right after is still confirmed. Results in results/partB/dlq/.",
  usage: "npx zx lab-scripts/partB-dlq.mjs [--without dead-letter] [--target FILE]",
  options: {
    without: {
      type: "string",
      value: "NAME",
      help: "run Part B with this safeguard off to see what it prevents: dead-letter (Part B must not be up already)",
    },
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
  const { result, files } = await lab.partB.runPartB(lab.partB.PARTB_EXPERIMENTS.dlq, target, {
    without: argv.without,
    log: (line) => console.log(chalk.dim(`  ${line}`)),
    onProgress: (line) => console.log(`  ${line}`),
  });
  console.log(`\n${lab.harness.experimentMarkdown(result)}`);
  console.log(chalk.dim(`wrote ${files.map((f) => path.relative(process.cwd(), f)).join(", ")}`));
  const verdict = lab.partB.partBVerdict(result);
  if (!verdict.ok) throw new Error(verdict.line);
  console.log(result.without ? chalk.yellow(`\n${verdict.line}`) : chalk.green(`\n${verdict.line}`));
});
