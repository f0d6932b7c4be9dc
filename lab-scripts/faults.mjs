#!/usr/bin/env zx
// The fault campaign: each scenario against the real stack, then its invariants checked.
// A scenario that depends on safeguards runs again without each, and its checker must then fail.
// Writes results/faults/<scenario>.json and results/faults/README.md.
//   npm run faults [-- --quick] [-- --only A-bad-input] [-- --seed 42]
import { createRequire } from "node:module";
import { lab, listOf, main, parseFlags, withOwnBrokers } from "./lib.mjs";

const { values: argv } = parseFlags({
  summary:
    "The fault campaign: each scenario against the real stack on brokers of its own, then its invariants checked. Writes results/faults/<scenario>.json and results/faults/README.md.",
  usage: "npm run faults [-- --quick] [-- --only A-bad-input] [-- --seed 42]",
  options: {
    quick: { type: "boolean", help: "the small sizes CI runs" },
    only: {
      type: "string",
      multiple: true,
      value: "SCENARIO",
      help: "only these scenarios (comma-separated or repeated)",
      defaultText: "every scenario",
    },
    seed: {
      type: "string",
      default: "42",
      value: "N",
      help: "the seed of the generated inputs (the same seed sends the same inputs)",
    },
  },
});

const faults = createRequire(import.meta.url)("../dist/faults/index.js");

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
  let failed = 0;
  await withOwnBrokers("faults", async (home) => {
    for (const name of names) {
      console.log(chalk.bold(`\n== ${name}${quick ? " (quick)" : ""}, seed ${seed}`));
      const result = await faults
        .runScenario(name, { home, quick, seed, log: (line) => console.log(`  ${line}`) })
        .catch((err) => crashed(name, seed, err));
      faults.writeScenario(result);
      for (const i of result.invariants)
        console.log(`  ${i.passed ? chalk.green("✔") : chalk.red("✖")} ${i.check} — ${i.observed}`);
      console.log(`  ${result.verdict === "PASS" ? chalk.green("PASS") : chalk.red("FAIL")}`);
      const without = result.without_safeguards ?? [];
      for (const w of without)
        console.log(
          `  without ${w.safeguard}: ${w.caught ? chalk.green(`${w.verdict}, caught`) : chalk.red(`${w.verdict}, not caught`)}` +
            (w.broken.length ? ` — ${w.broken[0]}` : ""),
        );
      if (result.verdict !== "PASS" || without.some((w) => !w.caught)) failed++;
    }
  });
  const all = faults.readScenarios();
  console.log(`\n${lab.markdownTable(faults.scenarioTable(all))}`);
  console.log(chalk.dim(`\nwrote ${path.relative(process.cwd(), faults.writeFaultsReadme(all))}`));
  if (failed) throw new Error(`${failed} scenario(s) failed their invariants, or passed without their safeguard`);
});
