#!/usr/bin/env zx
// Part B idempotency: one order placed normally, then the same OrderPlaced (same message id)
// delivered again; stock is taken once and the copies are counted as duplicates.
//   npx zx lab-scripts/partB-idempotency.mjs [--quick] [--copies 2] [--sku burger] [--without idempotent-consumer]
// --without idempotent-consumer: inventory without its processed-id check (stock 10 → 8). Results in results/partB/idempotency/
// (a team's --target: results/targets/<name>/partB/idempotency/; what it does not offer is skipped with the reason).
import { lab, main, parseFlags, reportExperiment, targetFlag, targetOf, withoutFlag } from "./lib.mjs";

const { values: argv } = parseFlags({
  summary:
    "Part B idempotency: one order placed normally, then its very OrderPlaced (same message id) delivered again; stock is taken once and the copies are counted as duplicates. Results in results/partB/idempotency/ (a target's: results/targets/<name>/partB/idempotency/; what it does not offer is skipped with the reason).",
  usage:
    "npx zx lab-scripts/partB-idempotency.mjs [--quick] [--copies 2] [--sku burger] [--without idempotent-consumer] [--target FILE]",
  options: {
    quick: { type: "boolean", help: "the small sizes the tests use: one order and its copies, as always" },
    copies: {
      type: "string",
      value: "N",
      help: "copies published after the order, 1 to 1000",
      defaultText: "2, or 1 with --without (stock 10 → 8)",
    },
    without: withoutFlag(["idempotent-consumer"], "Part B must not be up already; the lab's own services only"),
    sku: { type: "string", value: "SKU", help: "the item ordered", defaultText: "the experiment's own (burger)" },
    target: targetFlag,
  },
});

await main(async () => {
  const target = targetOf(argv);
  const copies = Number(argv.copies ?? (argv.without ? 1 : 2));
  if (!Number.isInteger(copies) || copies < 1 || copies > 1000)
    throw new Error("--copies must be a whole number from 1 to 1000");
  console.log(
    chalk.bold(
      `Part B idempotency: one order, then ${copies} more copies of its OrderPlaced${argv.without ? ` — WITHOUT ${argv.without}` : ""}`,
    ),
  );
  const exp = lab.partB.PARTB_EXPERIMENTS.idempotency;
  const opts = {
    without: argv.without,
    copies,
    sku: argv.sku,
    quick: argv.quick,
    log: (line) => console.log(chalk.dim(`  ${line}`)),
    onProgress: (line) => console.log(`  ${line}`),
  };
  const result = await lab.partB.withPartB(target, opts, (impl) => lab.harness.runExperiment(exp, impl, opts));
  await reportExperiment(exp, result, target);
});
