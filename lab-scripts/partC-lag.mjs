#!/usr/bin/env zx
// Part C consumer lag: restart inventory with a pause per message, produce a burst, and sample
// the lag of every partition until it has drained; inventory is restarted as it was afterwards.
//   npx zx lab-scripts/partC-lag.mjs [--count 3000] [--throttle-ms 20] [--sample-ms 250] [--target FILE]
// Brings Part C up if needed (and stops only what it started). Results in results/partC/lag/.
// With a foreign --target: its inventory is stopped and started by the file's commands instead of
// throttled, and its group's lag read from Kafka (results in results/targets/<name>/partC/lag/).
import { lab, main, parseFlags, targetFlag, targetOf } from "./lib.mjs";

const { values: argv } = parseFlags({
  summary:
    "Part C consumer lag: inventory restarted with a pause per message, a burst produced, the lag of every partition sampled until it drains. Brings Part C up if needed. Results in results/partC/lag/.",
  usage: "npx zx lab-scripts/partC-lag.mjs [--count 3000] [--throttle-ms 20] [--sample-ms 250] [--target FILE]",
  options: {
    count: { type: "string", default: "3000", value: "N", help: "events produced, 1 to 1000000" },
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
      target.lab
        ? `Part C lag: ${count} events, inventory pausing ${throttleMs} ms per message (≈ ${((count * throttleMs) / 3000).toFixed(0)} s to drain over 3 partitions)`
        : `Part C lag: ${count} events produced while ${target.name}'s inventory is stopped, then it is started again (--throttle-ms applies to the lab's own only)`,
    ),
  );

  let shown = -1;
  const result = await lab.partC.runLagThrough(target, {
    count,
    throttleMs,
    sampleMs,
    log: (line) => console.log(chalk.dim(`  ${line}`)),
    onSample: (t, g) => {
      if (Math.floor(t) === shown) return; // a line a second
      shown = Math.floor(t);
      const parts = g.partitions.map((p) => `p${p.partition} ${String(p.lag).padStart(6)}`).join("  ");
      console.log(`  t=${t.toFixed(1).padStart(6)} s  lag ${String(g.total_lag).padStart(7)}   ${parts}`);
    },
  });

  console.log(`\n${lab.markdownTable(lab.partC.lagThroughTable(result))}\n`);
  console.log(lab.markdownTable(lab.harness.checksRows(result.checks)));
  if (result.kind === "outside") for (const line of lab.partC.outsideSections(result)) console.log(`\n${line}`);
  const files = await lab.partC.writeLagThroughResults(result, target);
  console.log(chalk.dim(`\nwrote ${files.map((f) => path.relative(process.cwd(), f)).join(", ")}`));
  if (!result.passed) throw new Error("the checker found something that did not behave as expected (see above)");
});
