#!/usr/bin/env zx
// Part C load test: produce N OrderPlaced events (10,000 by default) and measure the producer's
// throughput and how long until analytics has counted every order and every inventory answer.
//   npx zx lab-scripts/partC-load.mjs [--count 10000] [--target FILE]
// Brings Part C up if needed (and stops only what it started). Results in results/partC/load/.
// With a foreign --target: its producer makes the orders, and the lab's own tap on its topics
// counts what reaches the wire (results in results/targets/<name>/partC/load/).
import { lab, main, parseFlags, targetFlag, targetOf } from "./lib.mjs";

const { values: argv } = parseFlags({
  summary:
    "Part C load test: produce N OrderPlaced events and measure the producer's throughput and how long until analytics has counted them all. Brings Part C up if needed. Results in results/partC/load/.",
  usage: "npx zx lab-scripts/partC-load.mjs [--count 10000] [--target FILE]",
  options: {
    count: { type: "string", default: "10000", value: "N", help: "events produced, 1 to 1000000" },
    target: targetFlag,
  },
});

await main(async () => {
  const count = Number(argv.count);
  if (!Number.isInteger(count) || count < 1 || count > 1_000_000)
    throw new Error("--count must be a whole number from 1 to 1000000");

  const target = targetOf(argv);
  console.log(chalk.bold(`Part C load test: ${count} events`));
  const latest = {};
  let shown = -1;
  const result = await lab.partC.runLoadThrough(target, {
    count,
    log: (line) => console.log(chalk.dim(`  ${line}`)),
    onSample: (s) => {
      latest[s.series] = s.value;
      const tick = Math.floor(s.t_s * 2);
      if (tick === shown) return; // two lines a second
      shown = tick;
      const v = (name) => String(latest[name] ?? 0).padStart(7);
      console.log(
        target.lab
          ? `  t=${s.t_s.toFixed(1).padStart(5)} s  acknowledged ${v("acknowledged by Kafka")}  orders counted ${v("orders counted by analytics")}  answers counted ${v("inventory answers counted by analytics")}`
          : `  t=${s.t_s.toFixed(1).padStart(5)} s  ${Object.keys(latest)
              .map((k) => `${k} ${v(k)}`)
              .join("  ")}`,
      );
    },
  });

  console.log(`\n${lab.markdownTable(lab.partC.loadThroughTable(result))}\n`);
  console.log(lab.markdownTable(lab.harness.checksRows(result.checks)));
  if (result.kind === "outside") for (const line of lab.partC.outsideSections(result)) console.log(`\n${line}`);
  const files = await lab.partC.writeLoadThroughResults(result, target);
  console.log(chalk.dim(`\nwrote ${files.map((f) => path.relative(process.cwd(), f)).join(", ")}`));
  if (result.kind === "lab")
    console.log(chalk.dim(`metrics report: ${path.relative(process.cwd(), result.report.markdown)}`));
  if (!result.passed) throw new Error("the checker found something that did not behave as expected (see above)");
});
