#!/usr/bin/env zx
// The whole lab in one command: set up what is missing (brokers, Jupyter), run every notebook —
// each brings its stack up, runs its experiments, writes results/<part>/ and brings it down —
// export the report bundle to results/reports/, and say where it is.
// `npm run lab` runs it, with the assignment's figures (N requests, 60 s outage, 10k events).
//   npx zx lab-scripts/run-lab.mjs --quick         small figures: the whole run in a few minutes
//   npx zx lab-scripts/run-lab.mjs --only 01       some notebooks (01 | 02 | 03 | 04)
//   npx zx lab-scripts/run-lab.mjs --target F.yml  a team's implementation (lab-scripts/targets/)
import { spawn } from "node:child_process";
import os from "node:os";
import { lab, listOf, main, parseFlags, targetFlag, targetOf } from "./lib.mjs";

const { values: argv } = parseFlags({
  summary:
    "The whole lab in one command (`npm run lab` runs it): set up what is missing (brokers, Jupyter), run every notebook (each brings its stack up, runs its experiments, writes results/<part>/ and brings it down), export the report bundle to results/reports/. With --target nothing of the target is started or stopped, and everything goes to results/targets/<name>/.",
  usage: "npx zx lab-scripts/run-lab.mjs [--quick] [--mode quick|full] [--only 01,04] [--target FILE] [--reference]",
  options: {
    quick: { type: "boolean", help: "small figures: the whole run in a few minutes (the same as --mode quick)" },
    mode: {
      type: "string",
      value: "MODE",
      help: "the size of the run: quick | full",
      defaultText: "LAB_MODE, else full: the assignment's figures",
    },
    only: {
      type: "string",
      multiple: true,
      value: "NOTEBOOK",
      help: "only these notebooks: 01 | 02 | 03 | 04",
      defaultText: "all",
    },
    target: {
      ...targetFlag,
      help: `${targetFlag.help}: the notebooks of the parts it names run on it, hands off (nothing of it is started or stopped); the report goes to results/targets/<name>/reports/`,
    },
    reference: {
      type: "boolean",
      help: "keep this run as the docs' reference: every summary and plot it wrote, with its date, machine, versions and load, in docs/reference/ (the lab's own services, every notebook)",
    },
  },
});

const mode = argv.quick ? "quick" : (argv.mode ?? process.env.LAB_MODE ?? "full");
const started = Date.now();
const loadAtStart = os.loadavg()[0];
const elapsed = () => `${Math.round((Date.now() - started) / 1000)} s`;

await main(async () => {
  if (mode !== "quick" && mode !== "full") throw new Error(`--mode ${mode}: use quick or full`);
  if (argv.quick && argv.mode !== undefined && argv.mode !== "quick")
    throw new Error(`--quick is --mode quick: it cannot go with --mode ${argv.mode}`);
  const target = targetOf(argv);
  if (argv.reference && (!target.lab || argv.only))
    throw new Error("--reference keeps a run of every notebook on the lab's own services: drop --target and --only");
  console.log(chalk.bold(`Campus Food Lab — ${mode} run${target.lab ? "" : ` on ${target.name}`}`));

  console.log(chalk.bold("\n1. Set-up (only what is missing)"));
  await runScript("lab-scripts/setup.mjs");

  console.log(chalk.bold(`\n2. The notebooks, executed one by one (${elapsed()})`));
  let failure;
  let brokers = [];
  try {
    await runScript("lab-scripts/report.mjs", [
      "--mode",
      mode,
      "--no-summary",
      ...(argv.only ? ["--only", listOf(argv.only).join(",")] : []),
      ...(target.lab ? [] : ["--target", target.file]),
    ]);
  } catch (err) {
    failure = err;
  } finally {
    // The brokers' versions are read while they still run.
    if (argv.reference) brokers = (await lab.status()).brokers;
    if (target.lab) await stopEveryStack();
    else
      console.log(
        chalk.bold("\n3. Nothing to stop: the target's services are its owner's, and the lab's taps are gone"),
      );
  }

  const reports = lab.harness.reportsDir(target);
  const summaryFile = path.join(reports, "report.json");
  if (!fs.existsSync(summaryFile) || fs.statSync(summaryFile).mtimeMs < started)
    throw failure ?? new Error("the report was not written");
  const summary = JSON.parse(fs.readFileSync(summaryFile, "utf8"));
  console.log(chalk.bold(`\nDone in ${elapsed()}.`));
  for (const r of summary.runs) {
    const mark = !r.ok ? chalk.red("✖ cell error") : r.passed ? chalk.green("✔ PASS") : chalk.red("✖ FAIL");
    const earlier = Date.parse(r.finished) < started ? chalk.dim(`  (an earlier ${r.mode} run)`) : "";
    console.log(`  ${mark}  ${r.title.padEnd(48)} ${path.relative(process.cwd(), r.html)}${earlier}`);
  }
  if (argv.reference && !failure) {
    const file = await lab.harness.writeReference({ mode, started, loadAtStart, runs: summary.runs, brokers });
    console.log(`  the reference run, for the docs: ${path.relative(process.cwd(), file)}`);
  }
  const perPart = target.lab ? lab.resultsDir() : path.dirname(reports);
  console.log(`  data, plots and summaries per part: ${path.relative(process.cwd(), perPart)}/<part>/`);
  const index = path.join(reports, "index.html");
  console.log(chalk.bold(`\nThe report: ${path.relative(process.cwd(), index)}`) + chalk.dim(`  (file://${index})`));
  if (failure) throw failure;
});

/** The lab's own stacks: each part brought down, and what was running said. */
async function stopEveryStack() {
  console.log(chalk.bold(`\n3. Stopping every stack (${elapsed()})`));
  const before = await lab.status();
  const wasRunning = new Set([
    ...before.services.filter((s) => s.alive).map((s) => s.name),
    ...before.brokers.filter((b) => b.running).map((b) => b.id),
  ]);
  for (const part of [...lab.PART_IDS].reverse()) {
    const stopped = (await lab.down(part).catch((err) => [`(${err.message})`])).filter(
      (name) => wasRunning.has(name) || name.startsWith("("),
    );
    if (stopped.length) console.log(`  ${part}: stopped ${stopped.join(", ")}`);
  }
  console.log("  nothing of the lab is left running");
}

function runScript(script, args = []) {
  const zx = path.join(lab.projectRoot, "node_modules", "zx", "build", "cli.js");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [zx, script, ...args], { stdio: "inherit", cwd: lab.projectRoot });
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${script} failed (exit ${code})`))));
  });
}
