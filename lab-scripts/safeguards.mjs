#!/usr/bin/env zx
// What each safeguard prevents: its scenario run WITH and WITHOUT it, on brokers of its own,
// counted by the same checker. Writes results/safeguards/<name>.json, README.md and a plot.
//   npx zx lab-scripts/safeguards.mjs [--quick] [--only manual-ack] [--part B] [--seed 42] [--target FILE]
import { lab, library, listOf, main, parseFlags, targetFlag, targetOf, withOwnBrokers } from "./lib.mjs";

const { values: argv } = parseFlags({
  summary:
    "Each safeguard's scenario run with and without it (SAFEGUARDS_OFF), on brokers of its own, counted by the same checker. Writes results/safeguards/<name>.json, README.md and safeguards.svg (a target's: results/targets/<name>/safeguards/).",
  usage: "npx zx lab-scripts/safeguards.mjs [--quick] [--only manual-ack] [--part B] [--seed 42] [--target FILE]",
  options: {
    quick: { type: "boolean", help: "the small sizes the tests use (about 10 minutes for all)" },
    only: {
      type: "string",
      multiple: true,
      value: "SAFEGUARD",
      help: "only these safeguards",
      defaultText: "every safeguard",
    },
    part: { type: "string", value: "A|B|C", help: "only this part's safeguards", defaultText: "all parts" },
    seed: { type: "string", default: "42", value: "N", help: "the seed of the generated inputs" },
    target: {
      ...targetFlag,
      help: "a target file; a team's implementation runs each lesson WITH its safeguard only",
    },
  },
});

const safeguards = library("safeguards");

await main(async () => {
  const quick = Boolean(argv.quick);
  const seed = Number(argv.seed);
  if (!Number.isInteger(seed)) throw new Error("--seed must be a whole number");
  if (argv.part && !["A", "B", "C"].includes(argv.part)) throw new Error("--part must be A, B or C");
  const chosen = (listOf(argv.only)?.map(safeguards.safeguardNamed) ?? safeguards.SAFEGUARDS).filter(
    (s) => !argv.part || s.part === argv.part,
  );
  if (!chosen.length) throw new Error("no safeguard matches");
  const target = targetOf(argv);
  const dir = lab.harness.targetResultsDir(target, "safeguards");
  const started = Date.now();
  let notShown = 0;
  await withOwnBrokers("safeguards", async (home) => {
    for (const [i, exp] of chosen.entries()) {
      console.log(
        chalk.bold(`\n== [${i + 1}/${chosen.length}] Part ${exp.part} · ${exp.safeguard}${quick ? " (quick)" : ""}`),
      );
      console.log(chalk.dim(`   ${exp.scenario}`));
      const result = await safeguards.runSafeguard(exp, {
        home,
        quick,
        seed,
        target,
        log: (line) => console.log(`  ${line}`),
      });
      safeguards.writeSafeguard(result, dir);
      console.log(
        result.shown
          ? chalk.green(`  shown: with ${result.with.anomalies} anomalies, without ${result.without.anomalies}`)
          : chalk.yellow(`  not shown: ${result.finding}`),
      );
      // On a team's implementation the verdict is its run WITH the safeguard: no anomaly.
      if (result.target ? result.with.verdict !== "PASS" : !result.shown) notShown++;
      console.log(chalk.dim(`  ${Math.round((Date.now() - started) / 1000)} s so far`));
    }
  });
  const all = safeguards.readSafeguards(dir);
  console.log(`\n${lab.markdownTable(safeguards.safeguardsTable(all))}`);
  console.log(chalk.dim(`\nwrote ${path.relative(process.cwd(), await safeguards.writeSafeguardsReadme(all, dir))}`));
  if (notShown)
    throw new Error(
      target.lab
        ? `${notShown} safeguard(s) not shown by their scenario (see the findings)`
        : `${notShown} lesson(s) counted anomalies on ${target.name} with the safeguard (see the findings)`,
    );
});
