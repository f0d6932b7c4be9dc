// What every script shares: its command line (flags.mjs), the compiled lab library, and how an
// experiment ends. The library is built by `npm install` (prepare) and loaded on first use, never
// at import: a script parses its flags first, so --help and a misspelt flag answer before the
// build (and --help takes 0.2 s; loading the library takes 1.4 s on a 2-core machine).
import fs from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export { listOf, parseFlags, scriptArgs } from "./flags.mjs";

/**
 * One of the compiled libraries under dist/ (lab, bench, faults, safeguards), loaded once; before
 * the build, one clear line and exit 1.
 */
export function library(name) {
  const entry = new URL(`../dist/${name}/index.js`, import.meta.url);
  if (!fs.existsSync(entry)) {
    console.error("The lab is not built yet: run `npm install` (or `npm run build`) in the project folder first.");
    process.exit(1);
  }
  return createRequire(import.meta.url)(fileURLToPath(entry));
}

let loaded;
/** The compiled lab library (dist/lab), loaded when a script first reads from it. */
export const lab = new Proxy(
  {},
  {
    get: (_, key) => (loaded ??= library("lab"))[key],
    has: (_, key) => key in (loaded ??= library("lab")),
  },
);

/** Run a script's main, printing one clear line instead of a stack trace for expected failures. */
export async function main(fn) {
  try {
    await fn();
  } catch (err) {
    console.error(`\n✖ ${err?.message ?? err}`);
    process.exitCode = 1;
  }
}

/**
 * The --target flag every experiment takes: the implementation under test, a target file
 * (lab-scripts/targets/README.md). Put `target: targetFlag` in parseFlags' options.
 */
export const targetFlag = {
  type: "string",
  value: "FILE",
  help: "the implementation under test, a target file (lab-scripts/targets/README.md)",
  defaultText: "LAB_TARGET, else lab-scripts/targets/lab.yml: the lab's own services",
};

/**
 * The --without flag of an experiment that shows what a safeguard prevents: `names` are the
 * safeguards it can switch off (the experiment's own list, which withoutOf checks at run time and
 * services/tests/lab-scripts.test.ts checks against this help).
 */
export const withoutFlag = (names, where) => ({
  type: "string",
  value: "SAFEGUARD",
  help: `switch this safeguard off to see what it prevents: ${names.join(" | ")} (${where})`,
  defaultText: "every safeguard on",
});

/**
 * How an experiment script ends: its results written (by default in
 * results/<part>/<experiment>/, or results/targets/<name>/… for a team's target), its summary
 * printed (figures, checks, what was not observable), and its verdict line. A run that did not show
 * what it should fails the script; one `without` a safeguard should show its anomaly.
 */
export async function reportExperiment(exp, result, target, dir) {
  const files = await lab.harness.writeExperiment(
    exp,
    result,
    dir ?? path.join(lab.harness.targetResultsDir(target, exp.part), exp.name),
  );
  console.log(`\n${lab.harness.experimentMarkdown(result)}`);
  console.log(chalk.dim(`wrote ${files.map((f) => path.relative(process.cwd(), f)).join(", ")}`));
  const verdict = lab.harness.experimentVerdict(result);
  if (!verdict.ok) throw new Error(verdict.line);
  console.log((result.verdict === "PASS" ? chalk.green : chalk.yellow)(`\n${verdict.line}`));
}

/**
 * A script's --without NAME, checked before anything starts against the safeguards the experiment
 * shows (`exp.safeguards`): an unknown or unrelated name is a clear error, not a run.
 */
export function withoutOf(exp, name) {
  if (name === undefined || exp.safeguards.includes(name)) return name;
  throw new Error(
    `--without ${name}: ${exp.title} shows ${exp.safeguards.length ? `what these safeguards prevent: ${exp.safeguards.join(", ")}` : "no safeguard"}`,
  );
}

/** The target a script measures (--target, else LAB_TARGET, else the lab's own), loaded and announced. */
export function targetOf(values) {
  const target = lab.harness.resolveTarget(values.target);
  if (!target.lab)
    console.log(
      chalk.bold(`Target: ${target.name}${target.version ? ` ${target.version}` : ""}`) +
        chalk.dim(` (${target.file}; started by its owner, the lab only talks to it)`),
    );
  return target;
}

/** `--without` switches a safeguard of the lab's own services: with a foreign target it stops here, in one line. */
export function refuseWithout(without, target) {
  if (without !== undefined && !target.lab)
    throw new Error(
      "--without switches a safeguard of the lab's own services: it cannot be used with a foreign --target",
    );
}

/**
 * For an experiment that measures something only the lab's own services have (a batch size, an
 * agent's connection set-up): with a foreign target it stops at once, with the reason.
 */
export function labServicesOnly(target, what) {
  if (!target.lab)
    throw new Error(
      `${what}: it cannot run on ${target.name}, a foreign target (run it without --target or LAB_TARGET)`,
    );
}

/**
 * Run `fn(home)` on brokers of the run's own: a temporary LAB_HOME, free ports, native processes
 * (the scenarios kill and restart them, never the ones a student has up). Whatever happens, an
 * interrupt too, everything started under that home is stopped afterwards (services, then
 * brokers); its logs stay and their folder is printed, unless `removeFolder` (the benchmarks).
 */
export async function withOwnBrokers(name, fn, { removeFolder = false } = {}) {
  const env = await lab.harness.isolatedBrokerEnv(name);
  const restoreEnv = lab.harness.useEnv({ ...env, LAB_BROKER_MODE: "native" });
  const home = env.LAB_HOME;
  console.log(chalk.dim(`lab folder of this run (brokers, services, logs): ${home}`));
  let cleaning;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      for (const part of lab.PART_IDS)
        await lab.down(part, { home }).catch((err) => console.error(`could not stop ${part}: ${err.message}`));
      restoreEnv();
      if (removeFolder) fs.rmSync(home, { recursive: true, force: true });
      else console.log(chalk.dim(`\nservice and broker logs: ${path.join(home, "logs")}`));
    })());
  const interrupted = () => {
    console.error(`\ninterrupted: stopping what the ${name} run started`);
    void cleanUp().finally(() => process.exit(130));
  };
  process.once("SIGINT", interrupted);
  try {
    return await fn(home);
  } finally {
    process.off("SIGINT", interrupted);
    await cleanUp();
  }
}
