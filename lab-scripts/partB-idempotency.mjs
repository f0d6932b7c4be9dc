#!/usr/bin/env zx
// Part B idempotency: one order placed normally, then the same OrderPlaced (same message id)
// delivered again; stock is taken once and the copies are counted as duplicates.
//   npx zx lab-scripts/partB-idempotency.mjs [--copies 2] [--sku burger] [--without idempotent-consumer]
// --without idempotent-consumer: inventory without its processed-id check (stock 10 → 8). Results in results/partB/idempotency/
// (a foreign --target: results/targets/<name>/partB/idempotency/, judged from outside).
import { lab, main, parseFlags, refuseWithout, targetFlag, targetOf } from "./lib.mjs";

const { values: argv } = parseFlags({
  summary:
    "Part B idempotency: one order placed normally, then its very OrderPlaced (same message id) delivered again; stock is taken once and the copies are counted as duplicates. Results in results/partB/idempotency/.",
  usage:
    "npx zx lab-scripts/partB-idempotency.mjs [--copies 2] [--sku burger] [--without idempotent-consumer] [--target FILE]",
  options: {
    copies: {
      type: "string",
      value: "N",
      help: "copies published after the order, 1 to 1000",
      defaultText: "2, or 1 with --without (stock 10 → 8)",
    },
    without: {
      type: "string",
      value: "NAME",
      help: "run Part B with this safeguard off to see what it prevents: idempotent-consumer (Part B must not be up already)",
    },
    sku: { type: "string", value: "SKU", help: "the item ordered", defaultText: "the experiment's own (burger)" },
    target: targetFlag,
  },
});

await main(async () => {
  const env = lab.partB.withoutSafeguard(argv.without, ["idempotent-consumer"]);
  const target = targetOf(argv);
  refuseWithout(argv.without, target);
  const copies = Number(argv.copies ?? (env ? 1 : 2));
  if (!Number.isInteger(copies) || copies < 1 || copies > 1000)
    throw new Error("--copies must be a whole number from 1 to 1000");
  console.log(
    chalk.bold(
      `Part B idempotency: one order, then ${copies} more copies of its OrderPlaced${env ? ` — WITHOUT ${argv.without}` : ""}`,
    ),
  );
  const result = await lab.partB.runIdempotencyThrough(target, {
    env,
    copies,
    sku: argv.sku,
    log: (line) => console.log(chalk.dim(`  ${line}`)),
    onProgress: (line) => console.log(`  ${line}`),
  });
  if (result.kind === "lab") console.log(`\n${lab.markdownTable(result.steps)}\n`);
  console.log(lab.markdownTable(lab.harness.checksRows(result.checks)));
  for (const line of lab.partB.outsideSections(result)) console.log(line);
  const files = await lab.partB.writeIdempotencyRun(result, lab.harness.targetResultsDir(target, "partB"));
  console.log(chalk.dim(`\nwrote ${files.map((f) => path.relative(process.cwd(), f)).join(", ")}`));
  const [first, , last] = result.steps;
  if (env && !result.passed)
    console.log(
      chalk.yellow(
        `\nwithout ${argv.without}: ${result.sku} stock ${first.stock} → ${last.stock} for one order of one item — the checks above caught what the safeguard prevents`,
      ),
    );
  else if (env) throw new Error(`without ${argv.without} this run showed nothing the safeguard prevents (see above)`);
  else if (!result.passed) throw new Error("the checker found something that did not behave as expected (see above)");
});
