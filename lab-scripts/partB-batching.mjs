#!/usr/bin/env zx
// Part B batching: the same load at batch sizes 1, 4, 16, 64 and 256 (BATCH_MAX of the three
// services): throughput and placed → notified latency against batch size, nothing lost or doubled.
//   npx zx lab-scripts/partB-batching.mjs [--quick] [--sizes 1,4,16,64,256] [--burst N] [--rate N] [--seconds S]
// The lab's own services only: a team's --target is not observable (there is no BATCH_MAX to set on it).
// Results in results/partB/batching/.
import { lab, main, parseFlags, reportExperiment, targetFlag, targetOf } from "./lib.mjs";

const { values: argv } = parseFlags({
  summary:
    "Part B batching: for each batch size (BATCH_MAX of order, inventory and notification) a burst of orders timed until the last user is notified (orders/s), then orders at a fixed rate (placed → notified p50/p99); the checker counts lost and duplicated orders. Results in results/partB/batching/. The lab's own services only: a team's --target is not observable (with the reason).",
  usage:
    "npx zx lab-scripts/partB-batching.mjs [--quick] [--sizes 1,4,16,64,256] [--burst 3000] [--rate 200] [--seconds 10] [--target FILE]",
  options: {
    quick: { type: "boolean", help: "the small sizes the tests use: a burst of 400, 100 orders/s for 3 s" },
    sizes: {
      type: "string",
      default: "1,4,16,64,256",
      value: "LIST",
      help: "batch sizes, comma-separated, each 1 to 1000",
    },
    burst: {
      type: "string",
      value: "N",
      help: "orders in the burst, per size",
      defaultText: "3000, or 400 with --quick",
    },
    rate: {
      type: "string",
      value: "N",
      help: "orders/s of the latency phase",
      defaultText: "200, or 100 with --quick",
    },
    seconds: { type: "string", value: "S", help: "length of the latency phase", defaultText: "10, or 3 with --quick" },
    target: {
      ...targetFlag,
      help: "the lab's own services only: batching measures their BATCH_MAX (a team's target is not observable)",
    },
  },
});

const whole = (name, lo, hi) => {
  if (argv[name] === undefined) return undefined;
  const n = Number(argv[name]);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new Error(`--${name} must be a whole number from ${lo} to ${hi}`);
  return n;
};

await main(async () => {
  const target = targetOf(argv);
  const sizes = String(argv.sizes)
    .split(",")
    .map((s) => Number(s.trim()));
  if (!sizes.length || sizes.some((s) => !Number.isInteger(s) || s < 1 || s > 1000))
    throw new Error("--sizes must be whole numbers from 1 to 1000, comma-separated");
  const opts = {
    sizes,
    quick: argv.quick,
    burst: whole("burst", 1, 100_000),
    rate: whole("rate", 1, 5_000),
    seconds: whole("seconds", 1, 600),
    log: (line) => console.log(chalk.dim(`  ${line}`)),
    onProgress: (line) => console.log(`  ${line}`),
  };
  console.log(chalk.bold(`Part B batching: batch sizes ${sizes.join(", ")}${argv.quick ? " (quick)" : ""}`));
  const exp = lab.partB.PARTB_EXPERIMENTS.batching;
  const result = await lab.partB.withPartB(target, opts, (impl) => lab.harness.runExperiment(exp, impl, opts));
  await reportExperiment(exp, result, target);
});
