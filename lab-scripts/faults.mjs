#!/usr/bin/env zx
// The fault campaign: each scenario against the real stack, then its invariants checked.
// A scenario that depends on safeguards runs again without each, and its checker must then fail.
// Writes results/faults/<scenario>.json and results/faults/README.md.
//   npx zx lab-scripts/faults.mjs [--quick] [--only A-bad-input] [--seed 42] [--target FILE]
import { lab, library, listOf, main, parseFlags, targetFlag, targetOf, withOwnBrokers } from "./lib.mjs";

const { values: argv } = parseFlags({
  summary:
    "The fault campaign: each scenario against the real stack on brokers of its own, then its invariants checked. Writes results/faults/<scenario>.json and results/faults/README.md (a target's: results/targets/<name>/faults/).",
  usage: "npx zx lab-scripts/faults.mjs [--quick] [--only A-bad-input] [--seed 42] [--target FILE]",
  options: {
    quick: { type: "boolean", help: "the small sizes the tests use" },
    only: {
      type: "string",
      multiple: true,
      value: "SCENARIO",
      help: "only these scenarios",
      defaultText: "every scenario",
    },
    seed: {
      type: "string",
      default: "42",
      value: "N",
      help: "the seed of the generated inputs (the same seed sends the same inputs)",
    },
    target: targetFlag,
  },
});

const faults = library("faults");

/** A scenario that could not run to its end is a failed one, with the reason, not a missing row. */
const crashed = (scenario, seed, err) =>
  faults.verdictOf({
    scenario,
    part: /^[ABC]-/.test(scenario) ? scenario[0] : "all",
    seed,
    orders_sent: 0,
    orders_acknowledged: 0,
    final_states: {},
    lost: 0,
    duplicated_effects: 0,
    invariants: [
      { check: "the scenario ran to its end", passed: false, observed: String(err?.message ?? err).split("\n")[0] },
    ],
  });

await main(async () => {
  const quick = Boolean(argv.quick);
  const seed = Number(argv.seed);
  if (!Number.isInteger(seed)) throw new Error("--seed must be a whole number");
  const names = listOf(argv.only) ?? Object.keys(faults.SCENARIOS);
  for (const n of names)
    if (!faults.SCENARIOS[n])
      throw new Error(`unknown scenario ${n}: use one of ${Object.keys(faults.SCENARIOS).join(", ")}`);
  const target = targetOf(argv);
  const dir = lab.harness.targetResultsDir(target, "faults");
  let failed = 0;
  await withOwnBrokers("faults", async (home) => {
    for (const name of names) {
      console.log(chalk.bold(`\n== ${name}${quick ? " (quick)" : ""}, seed ${seed}`));
      const result = await faults
        .runScenario(name, { home, quick, seed, target, log: (line) => console.log(`  ${line}`) })
        .catch((err) => crashed(name, seed, err));
      faults.writeScenario(result, dir);
      for (const i of result.invariants)
        console.log(`  ${i.passed ? chalk.green("✔") : chalk.red("✖")} ${i.check} — ${i.observed}`);
      for (const s of result.details?.skipped ?? [])
        console.log(chalk.dim(`  – not observable: ${s.check} — ${s.reason}`));
      const paint = { PASS: chalk.green, FAIL: chalk.red, "NOT OBSERVABLE": chalk.yellow }[result.verdict];
      console.log(`  ${paint(result.verdict)}`);
      const without = result.without_safeguards ?? [];
      for (const w of without)
        console.log(
          `  without ${w.safeguard}: ${w.caught ? chalk.green(`${w.verdict}, caught`) : chalk.red(`${w.verdict}, not caught`)}` +
            (w.broken.length ? ` — ${w.broken[0]}` : ""),
        );
      if (result.verdict === "FAIL" || without.some((w) => !w.caught)) failed++;
    }
  });
  const all = faults.readScenarios(dir);
  console.log(`\n${lab.markdownTable(faults.scenarioTable(all))}`);
  console.log(chalk.dim(`\nwrote ${path.relative(process.cwd(), faults.writeFaultsReadme(all, dir))}`));
  if (failed) throw new Error(`${failed} scenario(s) failed their invariants, or passed without their safeguard`);
});
