#!/usr/bin/env zx
// Part B idempotency: one order placed normally, then the same OrderPlaced (same message id)
// delivered again; stock is taken once and the copies are counted as duplicates.
//   npx zx lab-scripts/partB-idempotency.mjs [--copies 2] [--sku burger]
// Results in results/partB/idempotency/.
import { lab, main, parseFlags } from "./lib.mjs";

const { values: argv } = parseFlags({
  summary:
    "Part B idempotency: one order placed normally, then its very OrderPlaced (same message id) delivered again; stock is taken once and the copies are counted as duplicates. Results in results/partB/idempotency/.",
  usage: "npx zx lab-scripts/partB-idempotency.mjs [--copies 2] [--sku burger]",
  options: {
    copies: { type: "string", default: "2", value: "N", help: "copies published after the order, 1 to 1000" },
    sku: { type: "string", value: "SKU", help: "the item ordered", defaultText: "the experiment's own (burger)" },
  },
});

await main(async () => {
  const copies = Number(argv.copies);
  if (!Number.isInteger(copies) || copies < 1 || copies > 1000)
    throw new Error("--copies must be a whole number from 1 to 1000");
  console.log(chalk.bold(`Part B idempotency: one order, then ${copies} more copies of its OrderPlaced`));
  const result = await lab.partB.runIdempotencyExperiment({
    copies,
    sku: argv.sku,
    log: (line) => console.log(chalk.dim(`  ${line}`)),
    onProgress: (line) => console.log(`  ${line}`),
  });
  console.log(`\n${lab.markdownTable(result.steps)}\n`);
  console.log(lab.markdownTable(lab.harness.checksRows(result.checks)));
  const files = await lab.partB.writeIdempotencyResults(result);
  console.log(chalk.dim(`\nwrote ${files.map((f) => path.relative(process.cwd(), f)).join(", ")}`));
  if (!result.passed) throw new Error("the checker found something that did not behave as expected (see above)");
});
