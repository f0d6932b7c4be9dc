#!/usr/bin/env zx
// Part B backlog and recovery: inventory stopped while orders keep coming, then started again;
// the queue depth over time, the drain, and a check that no accepted order was lost.
//   npx zx lab-scripts/partB-backlog.mjs [--quick] [--seconds 60] [--rate 10] [--kill] [--target FILE]
// --quick: a 10 s outage; --kill: kill -9 instead of a graceful stop. Results in results/partB/backlog/
// (a team's --target: results/targets/<name>/partB/backlog/; what it does not offer is skipped with the reason).
import { lab, main, parseFlags, reportExperiment, targetFlag, targetOf } from "./lib.mjs";

const { values: argv } = parseFlags({
  summary:
    "Part B backlog and recovery: orders at a fixed rate while inventory is stopped and started again; queue depth, drain time and lost = 0 checked. Results in results/partB/backlog/ (a target's: results/targets/<name>/partB/backlog/; what it does not offer is skipped with the reason).",
  usage: "npx zx lab-scripts/partB-backlog.mjs [--quick] [--seconds 60] [--rate 10] [--kill] [--target FILE]",
  options: {
    quick: { type: "boolean", help: "the small sizes the tests use: a 10 s outage and a 3 s warm-up" },
    seconds: {
      type: "string",
      default: "60",
      quick: "10",
      value: "S",
      help: "how long inventory stays down, 1 to 3600",
    },
    rate: { type: "string", default: "10", value: "N", help: "orders per second, above 0 and at most 500" },
    kill: { type: "boolean", help: "stop inventory with kill -9 (messages in hand) instead of gracefully" },
    target: targetFlag,
  },
});

await main(async () => {
  const seconds = Number(argv.seconds);
  const rate = Number(argv.rate);
  if (!(seconds >= 1 && seconds <= 3600)) throw new Error("--seconds must be a number of seconds from 1 to 3600");
  if (!(rate > 0 && rate <= 500)) throw new Error("--rate must be orders per second, above 0 and at most 500");
  const target = targetOf(argv);
  console.log(
    chalk.bold(
      `Part B backlog: inventory ${argv.kill ? "killed" : "down"} for ${seconds} s while ${rate} orders/s keep coming`,
    ),
  );
  const exp = lab.partB.PARTB_EXPERIMENTS.backlog;
  const opts = {
    outageSeconds: seconds,
    rate,
    stop: argv.kill ? "kill" : "graceful",
    warmupSeconds: argv.quick ? 3 : 5,
    quick: argv.quick,
    log: (line) => console.log(chalk.dim(`  ${line}`)),
    onProgress: (line) => console.log(`  ${line}`),
  };
  const result = await lab.partB.withPartB(target, opts, (impl) => lab.harness.runExperiment(exp, impl, opts));
  await reportExperiment(exp, result, target);
});
