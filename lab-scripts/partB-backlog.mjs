#!/usr/bin/env zx
// Part B backlog and recovery: inventory stopped while orders keep coming, then started again;
// the queue depth over time, the drain, and a check that no accepted order was lost.
//   npx zx lab-scripts/partB-backlog.mjs [--seconds 60] [--rate 10] [--quick] [--kill] [--target FILE]
// --quick: a 10 s outage; --kill: kill -9 instead of a graceful stop. Results in results/partB/backlog/
// (a foreign --target: results/targets/<name>/partB/backlog/, judged from outside).
import { lab, main, parseFlags, targetFlag, targetOf } from "./lib.mjs";

const { values: argv } = parseFlags({
  summary:
    "Part B backlog and recovery: orders at a fixed rate while inventory is stopped and started again; queue depth, drain time and lost = 0 checked. Results in results/partB/backlog/.",
  usage: "npx zx lab-scripts/partB-backlog.mjs [--seconds 60] [--rate 10] [--quick] [--kill] [--target FILE]",
  options: {
    seconds: {
      type: "string",
      value: "S",
      help: "how long inventory stays down, 1 to 3600",
      defaultText: "60, or 10 with --quick",
    },
    rate: { type: "string", default: "10", value: "N", help: "orders per second, above 0 and at most 500" },
    quick: { type: "boolean", help: "a 10 s outage and a 3 s warm-up" },
    kill: { type: "boolean", help: "stop inventory with kill -9 (messages in hand) instead of gracefully" },
    target: targetFlag,
  },
});

await main(async () => {
  const seconds = Number(argv.seconds ?? (argv.quick ? 10 : 60));
  const rate = Number(argv.rate ?? 10);
  if (!(seconds >= 1 && seconds <= 3600)) throw new Error("--seconds must be a number of seconds from 1 to 3600");
  if (!(rate > 0 && rate <= 500)) throw new Error("--rate must be orders per second, above 0 and at most 500");

  const target = targetOf(argv);
  console.log(
    chalk.bold(
      `Part B backlog: inventory ${argv.kill ? "killed" : "down"} for ${seconds} s while ${rate} orders/s keep coming`,
    ),
  );
  const result = await lab.partB.runBacklogThrough(target, {
    outageSeconds: seconds,
    rate,
    stop: argv.kill ? "kill" : "graceful",
    warmupSeconds: argv.quick ? 3 : 5,
    log: (line) => console.log(chalk.dim(`  ${line}`)),
    onProgress: (line) => console.log(`  ${line}`),
  });

  const files = await lab.partB.writeBacklogRun(result, lab.harness.targetResultsDir(target, "partB"));
  const m = result.metrics;
  if (result.kind === "lab") {
    console.log(
      `\n${lab.markdownTable([
        { figure: "orders sent / accepted (202)", value: `${m.sent} / ${m.accepted}` },
        {
          figure: "202 latency median / p95 / max (ms)",
          value: `${m.accept_ms.median.toFixed(1)} / ${m.accept_ms.p95.toFixed(1)} / ${m.accept_ms.max.toFixed(1)}`,
        },
        { figure: "peak queue depth", value: `${m.peak_queue_depth} at t=${m.peak_at_s} s` },
        { figure: "inventory restart until consuming (s)", value: m.restart_s },
        { figure: "backlog when it consumed again", value: m.backlog_at_restart },
        { figure: "drain time from then (s)", value: m.drain_s ?? "not drained" },
        { figure: "consume rate while draining (orders/s)", value: m.consume_rate_per_s ?? "–" },
        { figure: "confirmed / failed / lost", value: `${m.confirmed} / ${m.failed} / ${m.lost}` },
      ])}\n`,
    );
  } else {
    console.log(
      `\n${lab.markdownTable([
        { figure: "orders sent / accepted (2xx)", value: `${m.sent} / ${m.accepted}` },
        { figure: "peak queue depth", value: m.peak_queue_depth ?? "not observable" },
        { figure: "drain time (s)", value: m.drain_s ?? "–" },
        { figure: "drain rate (orders/s)", value: m.drain_rate_per_s ?? "–" },
        {
          figure: "reserved / failed / lost / duplicated",
          value: `${m.reserved} / ${m.failed} / ${m.lost} / ${m.duplicated}`,
        },
      ])}\n`,
    );
  }
  console.log(lab.markdownTable(lab.harness.checksRows(result.checks)));
  for (const line of lab.partB.outsideSections(result)) console.log(line);
  console.log(m.lost === 0 ? chalk.green(`\nlost = 0 ✔`) : chalk.red(`\nlost = ${m.lost} ✖`));
  console.log(chalk.dim(`wrote ${files.map((f) => path.relative(process.cwd(), f)).join(", ")}`));
  if (!result.passed) throw new Error("the checker found something that did not behave as expected (see above)");
});
