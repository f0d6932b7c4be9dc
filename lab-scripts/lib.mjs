// The compiled lab library, for every script here. It is built by `npm install` (prepare).
import fs from "node:fs";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";

const entry = new URL("../dist/lab/index.js", import.meta.url);
if (!fs.existsSync(entry)) {
  console.error("The lab is not built yet: run `npm install` (or `npm run build`) in the project folder first.");
  process.exit(1);
}
export const lab = createRequire(import.meta.url)(entry.pathname);

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
 * A script's own arguments: what follows the script's path on the command line (zx's own options
 * come before it). `npx zx lab-scripts/up.mjs partB --mode native` → ["partB", "--mode", "native"].
 */
export function scriptArgs(argv = process.argv) {
  const i = argv.findIndex((a, k) => k >= 2 && /\.[mc]?js$/.test(a) && fs.existsSync(a));
  return i < 0 ? argv.slice(2) : argv.slice(i + 1);
}

/**
 * Parse a script's flags strictly (node:util parseArgs): `--help` prints the usage and exits 0;
 * an unknown or misspelt flag, a missing value or an unexpected argument prints what is wrong,
 * the valid flags, and exits with code 2 before the script starts anything.
 *
 *   const { values, positionals } = parseFlags({
 *     summary: "What the script does.",
 *     usage: "npx zx lab-scripts/x.mjs [--requests N]",
 *     options: { requests: { type: "string", default: "10", value: "N", help: "orders per scenario" } },
 *     positionals: [{ name: "part", help: "partA | partB | partC | all" }], // optional; none by default
 *   });
 *
 * Every value is a string or a boolean (as parseArgs gives them); a flag with `multiple: true`
 * may be repeated and is an array. `defaultText` describes a default that depends on other flags.
 * `rest: true` keeps what follows a bare `--` as `rest` (arguments for another program).
 */
export function parseFlags(spec, args = scriptArgs()) {
  const options = { ...spec.options, help: { type: "boolean", short: "h", help: "print this help and exit" } };
  const parseOptions = Object.fromEntries(
    Object.entries(options).map(([name, o]) => [
      name,
      {
        type: o.type,
        ...(o.short ? { short: o.short } : {}),
        ...(o.multiple ? { multiple: true } : {}),
        ...(o.default !== undefined ? { default: o.default } : {}),
      },
    ]),
  );
  const dashDash = spec.rest ? args.indexOf("--") : -1;
  const own = dashDash < 0 ? args : args.slice(0, dashDash);
  const rest = dashDash < 0 ? [] : args.slice(dashDash + 1);
  const maxPositionals = (spec.positionals ?? []).length;
  let parsed;
  try {
    parsed = parseArgs({ args: own, options: parseOptions, strict: true, allowPositionals: maxPositionals > 0 });
    if (parsed.positionals.length > maxPositionals) {
      throw Object.assign(new Error(`unexpected argument '${parsed.positionals[maxPositionals]}'`), {
        code: "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL",
      });
    }
  } catch (err) {
    if (!String(err?.code ?? "").startsWith("ERR_PARSE_ARGS")) throw err;
    if (own.includes("--help") || own.includes("-h")) return printHelpAndExit(spec, options);
    const flags = Object.keys(options).map((n) => `--${n}`);
    const unknown = /Unknown option '([^']+)'/.exec(err.message)?.[1];
    let what = err.message.replace(/\. To specify a positional argument.*$/s, "");
    if (unknown) {
      const near = closest(unknown.replace(/^-+/, "").split("=")[0], Object.keys(options));
      what = `unknown flag ${unknown}${near ? ` (did you mean --${near}?)` : ""}`;
    } else if (err.code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
      const arg = /'([^']+)'/.exec(err.message)?.[1] ?? "";
      what = maxPositionals
        ? `unexpected argument '${arg}'`
        : `unexpected argument '${arg}': this script takes flags only`;
    }
    console.error(
      `✖ ${what}\n  valid flags: ${flags.join(", ")}\n  usage: ${spec.usage}\n  (--help for what each does)`,
    );
    process.exit(2);
  }
  if (parsed.values.help) return printHelpAndExit(spec, options);
  return { values: parsed.values, positionals: parsed.positionals, rest };
}

function printHelpAndExit(spec, options) {
  const lines = [spec.summary, "", `usage: ${spec.usage}`];
  if (spec.positionals?.length) {
    lines.push("", "arguments:");
    for (const p of spec.positionals) lines.push(`  ${p.name.padEnd(22)} ${p.help}`);
  }
  lines.push("", "flags:");
  for (const [name, o] of Object.entries(options)) {
    const flag = `${o.short ? `-${o.short}, ` : ""}--${name}${o.type === "string" ? ` ${o.value ?? "VALUE"}` : ""}`;
    const dflt =
      o.defaultText ?? (o.default !== undefined ? String(o.default) : o.type === "boolean" ? "off" : undefined);
    lines.push(
      `  ${flag.padEnd(22)} ${o.help ?? ""}${dflt !== undefined && name !== "help" ? ` (default: ${dflt})` : ""}${o.multiple ? "; may be repeated" : ""}`,
    );
  }
  if (spec.epilog) lines.push("", spec.epilog);
  console.log(lines.join("\n"));
  process.exit(0);
}

/** The known name nearest to a misspelt one (edit distance at most 3, or a prefix), if any. */
function closest(name, known) {
  const dist = (a, b) => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++)
        d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    return d[a.length][b.length];
  };
  const scored = known
    .filter((k) => k !== "help")
    .map((k) => ({ k, d: k.startsWith(name) || name.startsWith(k) ? 1 : dist(name, k) }));
  scored.sort((a, b) => a.d - b.d);
  return scored[0] && scored[0].d <= Math.min(3, Math.max(1, Math.floor(name.length / 2))) ? scored[0].k : undefined;
}

/** A list flag: repeated, comma-separated, or both (`--only 01,04`, `--only a --only b`). */
export const listOf = (value) =>
  value === undefined
    ? undefined
    : [value]
        .flat()
        .flatMap((v) => String(v).split(","))
        .map((v) => v.trim())
        .filter(Boolean);

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
 * (the scenarios kill and restart them, never the ones a student has up). Whatever happens,
 * everything started under that home is stopped afterwards; its logs stay, and their folder is printed.
 */
export async function withOwnBrokers(name, fn) {
  const env = await lab.harness.isolatedBrokerEnv(name);
  const restoreEnv = lab.harness.useEnv({ ...env, LAB_BROKER_MODE: "native" });
  const home = env.LAB_HOME;
  try {
    return await fn(home);
  } finally {
    for (const part of lab.PART_IDS) await lab.down(part, { home });
    restoreEnv();
    console.log(chalk.dim(`\nservice and broker logs: ${path.join(home, "logs")}`));
  }
}
