#!/usr/bin/env zx
// Part A latency experiment: N sequential orders per scenario (baseline, 2 s delay, failure,
// timeout), the seed report's table, plots and a checker's verdict in results/partA/.
//   npx zx lab-scripts/partA-latency.mjs [--requests 10] [--scenario baseline|delay_2s|failure|timeout]
//                                        [--delay 2] [--bound 10] [--without call-timeout] [--target FILE]
// The scenario and safeguard names in the help are the library's (LATENCY_SCENARIOS, the
// experiment's safeguards), written out so that --help needs no build; the tests compare them.
import { lab, main, parseFlags, reportExperiment, targetFlag, targetOf, withoutFlag, withoutOf } from "./lib.mjs";

const { values: flags } = parseFlags({
  summary:
    "Part A latency: N sequential orders per scenario through the synchronous chain; the original lab's report table, plots and a checker's verdict in results/partA/ (a target's: results/targets/<name>/partA/). The lab's own Part A is brought up if needed; a target's services are its owner's, nothing is brought up.",
  usage:
    "npx zx lab-scripts/partA-latency.mjs [--quick] [--requests 10] [--scenario baseline ...] [--delay 2] [--bound 10] [--without call-timeout] [--target FILE]",
  options: {
    quick: { type: "boolean", help: "the small sizes the tests use: 3 orders per scenario" },
    requests: { type: "string", default: "10", quick: "3", value: "N", help: "orders per scenario, 1 to 100000" },
    scenario: {
      type: "string",
      multiple: true,
      value: "SCENARIO",
      help: "run only these scenarios: baseline | delay_2s | failure | timeout",
      defaultText: "all four",
    },
    delay: { type: "string", default: "2", value: "S", help: "the slow inventory's injected delay, in seconds" },
    bound: {
      type: "string",
      default: "10",
      value: "S",
      help: "every order must be answered within this many seconds (the silent inventory stays 2 s longer)",
    },
    without: withoutFlag(
      ["idempotency-key", "call-timeout", "no-retry-on-timeout", "in-flight-limit"],
      "on a Part A of the run's own, results in results/partA/without-SAFEGUARD/; the lab's own services only",
    ),
    target: targetFlag,
  },
});

const seconds = (name, max) => {
  const v = Number(flags[name]);
  if (!Number.isFinite(v) || v <= 0 || v > max)
    throw new Error(`--${name} must be a number of seconds from 0 to ${max}`);
  return v;
};

await main(async () => {
  const requests = Number(flags.requests);
  if (!Number.isInteger(requests) || requests < 1 || requests > 100_000)
    throw new Error("--requests must be a whole number from 1 to 100000");
  const known = lab.partA.LATENCY_SCENARIOS;
  const scenarios = flags.scenario?.length ? flags.scenario : undefined;
  for (const s of scenarios ?? [])
    if (!known.includes(s)) throw new Error(`unknown --scenario ${s}: use one of ${known.join(", ")}`);
  const [delaySeconds, boundSeconds] = [seconds("delay", 60), seconds("bound", 300)];

  const without = withoutOf(lab.partA.latency, flags.without); // an unknown name stops here, before anything starts
  if (without !== undefined) {
    console.log(chalk.red.bold(`Safeguard OFF: ${without} — ${lab.partA.PARTA_SAFEGUARDS[without].prevents}`));
    console.log(
      chalk.dim("  Part A starts on ports of its own with SAFEGUARDS_OFF; a stack already up is not touched."),
    );
  }

  const target = targetOf(flags);
  const log = (line) => console.log(chalk.dim(`  ${line}`));
  const result = await lab.partA.withPartA(target, { without, log }, (impl) =>
    lab.harness.runExperiment(lab.partA.latency, impl, {
      requests,
      scenarios,
      delaySeconds,
      boundSeconds,
      quick: flags.quick,
      onProgress: (line) => console.log(chalk.bold(line)),
      onRequest: (row) => {
        const mark = row.ok ? chalk.green(row.http_status) : chalk.red(`${row.http_status} ${row.error}`);
        console.log(`  Request ${row.request}/${requests}: ${(row.latency_ms / 1000).toFixed(3)} s (HTTP ${mark})`);
      },
    }),
  );

  console.log(`\n${lab.markdownTable(lab.partA.summaryTable(result.data.summaries))}\n`);
  const dir = without ? lab.resultsDir("partA", `without-${without}`) : lab.harness.targetResultsDir(target, "partA");
  await reportExperiment(lab.partA.latency, result, target, dir);
});
