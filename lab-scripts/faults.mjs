#!/usr/bin/env zx
// The fault campaign: each scenario against the real stack, then its invariants checked.
// Writes results/faults/<scenario>.json and results/faults/README.md.
//   npm run faults [-- --quick] [-- --only A-bad-input] [-- --seed 42]
import fs from "node:fs";
import os from "node:os";
import { createRequire } from "node:module";
import { lab, main } from "./lib.mjs";

const faults = createRequire(import.meta.url)("../dist/faults/index.js");

await main(async () => {
  const quick = Boolean(argv.quick);
  const seed = Number(argv.seed ?? 42);
  const names = argv.only ? [argv.only].flat() : Object.keys(faults.SCENARIOS);
  for (const n of names) if (!faults.SCENARIOS[n]) throw new Error(`unknown scenario ${n}: use one of ${Object.keys(faults.SCENARIOS).join(", ")}`);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "campus-food-faults-"));
  let failed = 0;
  for (const name of names) {
    console.log(chalk.bold(`\n== ${name}${quick ? " (quick)" : ""}, seed ${seed}`));
    const result = await faults.SCENARIOS[name]({ home, quick, seed, log: (line) => console.log(`  ${line}`) });
    faults.writeScenario(result);
    for (const i of result.invariants) console.log(`  ${i.holds ? chalk.green("✔") : chalk.red("✖")} ${i.name} — ${i.observed}`);
    console.log(`  ${result.verdict === "PASS" ? chalk.green("PASS") : chalk.red("FAIL")}`);
    if (result.verdict !== "PASS") failed++;
  }
  const all = faults.readScenarios();
  console.log(`\n${lab.markdownTable(faults.scenarioTable(all))}`);
  console.log(chalk.dim(`\nwrote ${path.relative(process.cwd(), faults.writeFaultsReadme(all))}`));
  if (failed) throw new Error(`${failed} scenario(s) failed their invariants`);
});
