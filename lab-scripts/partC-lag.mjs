#!/usr/bin/env zx
// Part C consumer lag: inventory stopped, a burst produced, inventory started again with a pause
// per message, and the lag of every partition sampled until it has drained; inventory is left as
// it was found.
//   npx zx lab-scripts/partC-lag.mjs [--quick] [--count 3000] [--throttle-ms 20] [--sample-ms 250] [--target FILE]
// The lab's own Part C is brought up if needed (and only what was started is stopped); a team's
// inventory is stopped and started by its target file's commands (the pause reaches it as
// CONSUMER_THROTTLE_MS). Results in results/partC/lag/ (a team's: results/targets/<name>/partC/lag/).
import { lab, main, parseFlags, reportExperiment, targetFlag, targetOf } from "./lib.mjs";

const { values: argv } = parseFlags({
  summary:
    "Part C consumer lag: inventory stopped, a burst produced, inventory started again with a pause per message, the lag of every partition sampled until it drains. Results in results/partC/lag/ (a target's: results/targets/<name>/partC/lag/). The lab's own Part C is brought up if needed; a target's inventory is stopped and started by its target file's commands, nothing is brought up.",
  usage:
    "npx zx lab-scripts/partC-lag.mjs [--quick] [--count 3000] [--throttle-ms 20] [--sample-ms 250] [--target FILE]",
  options: {
    quick: { type: "boolean", help: "the small sizes the tests use: 600 events" },
    count: { type: "string", default: "3000", quick: "600", value: "N", help: "events produced, 1 to 1000000" },
    "throttle-ms": { type: "string", default: "20", value: "MS", help: "inventory's pause per message, 1 to 60000" },
    "sample-ms": { type: "string", default: "250", value: "MS", help: "how often the lag is sampled, 50 to 10000" },
    target: targetFlag,
  },
});

await main(async () => {
  const count = Number(argv.count);
  const throttleMs = Number(argv["throttle-ms"]);
  const sampleMs = Number(argv["sample-ms"]);
  if (!Number.isInteger(count) || count < 1 || count > 1_000_000)
    throw new Error("--count must be a whole number from 1 to 1000000");
  if (!Number.isInteger(throttleMs) || throttleMs < 1 || throttleMs > 60_000)
    throw new Error("--throttle-ms must be a whole number of ms from 1 to 60000");
  if (!(sampleMs >= 50 && sampleMs <= 10_000)) throw new Error("--sample-ms must be from 50 to 10000");
  const target = targetOf(argv);
  console.log(
    chalk.bold(
      `Part C lag: ${count} events produced while inventory is stopped, then it pauses ${throttleMs} ms per message (≈ ${((count * throttleMs) / 3000).toFixed(0)} s to drain over 3 partitions)`,
    ),
  );

  let shown = -1;
  const onSample = (t, g) => {
    if (Math.floor(t) === shown) return; // a line a second
    shown = Math.floor(t);
    const parts = g.partitions.map((p) => `p${p.partition} ${String(p.lag).padStart(6)}`).join("  ");
    console.log(`  t=${t.toFixed(1).padStart(6)} s  lag ${String(g.total_lag).padStart(7)}   ${parts}`);
  };
  const exp = lab.partC.lagExperiment;
  const log = (line) => console.log(chalk.dim(`  ${line}`));
  const result = await lab.partC.withPartC(target, { log }, (impl) =>
    lab.harness.runExperiment(exp, impl, { count, throttleMs, sampleMs, quick: argv.quick, onProgress: log, onSample }),
  );

  await reportExperiment(exp, result, target);
});
