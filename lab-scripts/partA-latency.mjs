#!/usr/bin/env zx
// Part A latency experiment: N sequential orders per scenario (baseline, 2 s delay, failure,
// timeout), the seed report's table, plots and a checker's verdict in results/partA/.
//   npx zx lab-scripts/partA-latency.mjs [--requests 10] [--scenario baseline|delay_2s|failure|timeout]
//                                        [--without call-timeout] [--target FILE]
import { lab, main, parseFlags, refuseWithout, targetFlag, targetOf } from "./lib.mjs";

const { values: flags } = parseFlags({
  summary:
    "Part A latency: N sequential orders per scenario through the synchronous chain; the seed report's table, plots and a checker's verdict in results/partA/. Brings Part A up if needed.",
  usage:
    "npx zx lab-scripts/partA-latency.mjs [--requests 10] [--scenario baseline|delay_2s|failure|timeout ...] [--without SAFEGUARD]",
  options: {
    requests: { type: "string", default: "10", value: "N", help: "orders per scenario, 1 to 100000" },
    scenario: {
      type: "string",
      multiple: true,
      value: "NAME",
      help: "run only this scenario: baseline | delay_2s | failure | timeout",
      defaultText: "all four",
    },
    without: {
      type: "string",
      value: "SAFEGUARD",
      help: `switch this safeguard of the order service off, on a Part A of the run's own (${Object.keys(lab.partA.PARTA_SAFEGUARDS).join(" | ")})`,
      defaultText: "every safeguard on",
    },
    target: targetFlag,
  },
});

await main(async () => {
  const requests = Number(flags.requests);
  if (!Number.isInteger(requests) || requests < 1 || requests > 100_000)
    throw new Error("--requests must be a whole number from 1 to 100000");
  const known = lab.partA.SCENARIO_NAMES;
  const scenarios = flags.scenario?.length ? flags.scenario : undefined;
  for (const s of scenarios ?? [])
    if (!known.includes(s)) throw new Error(`unknown --scenario ${s}: use one of ${known.join(", ")}`);

  const without = flags.without;
  if (without !== undefined) {
    lab.partA.partASafeguardNamed(without); // an unknown name stops here, before anything starts
    console.log(chalk.red.bold(`Safeguard OFF: ${without} — ${lab.partA.PARTA_SAFEGUARDS[without].prevents}`));
    console.log(
      chalk.dim("  Part A starts on ports of its own with SAFEGUARDS_OFF; a stack already up is not touched."),
    );
  }

  const target = targetOf(flags);
  refuseWithout(without, target);
  const result = await lab.partA.runLatencyThrough(target, {
    requests,
    scenarios,
    without,
    log: (line) => console.log(chalk.dim(`  ${line}`)),
    onScenario: (s) => console.log(chalk.bold(`\n[${s.name}] ${requests} requests — expect ${s.expect}`)),
    onRequest: (row) => {
      const mark = row.ok ? chalk.green(row.http_status) : chalk.red(`${row.http_status} ${row.error}`);
      console.log(`  Request ${row.request}/${requests}: ${(row.latency_ms / 1000).toFixed(3)} s (HTTP ${mark})`);
    },
  });

  console.log(`\n${lab.markdownTable(lab.partA.summaryTable(result.summaries))}\n`);
  console.log(lab.markdownTable(lab.partA.checksTable(result.checks)));
  for (const line of lab.partA.outsideSections(result)) console.log(line);
  const files = await lab.partA.writeLatencyResults(
    result,
    without ? undefined : lab.harness.targetResultsDir(target, "partA"),
  );
  console.log(chalk.dim(`\nwrote ${files.map((f) => path.relative(process.cwd(), f)).join(", ")}`));
  if (!result.checks.every((c) => c.passed))
    throw new Error(
      without
        ? `without ${without}, the checker found a scenario that did not behave as the safeguarded chain does (see above): what the safeguard prevents`
        : "the checker found a scenario that did not behave as expected (see above)",
    );
});
