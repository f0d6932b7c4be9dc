// The command line of every script: strict flags, --help, and the errors that stop a script before
// it starts anything. Plain Node, nothing built: --help answers on a fresh clone, before
// `npm install` has built the lab's library (lib.mjs loads that only when a script first uses it).
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

/** Help lines are wrapped to this many columns (a terminal's, and docs/cli.md's code blocks). */
export const HELP_WIDTH = 100;
/** Where a flag's help text starts: two spaces, the flag padded to 22, a space. */
const FLAG_COLUMN = 25;

/** The scripts in a folder: its .mjs files that zx runs (a `#!/usr/bin/env zx` first line), by name. */
export const labScripts = (dir) =>
  fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".mjs") && fs.readFileSync(path.join(dir, f), "utf8").startsWith("#!/usr/bin/env zx"))
    .sort();

/**
 * A script's own arguments: what follows the script's path on the command line (zx's own options
 * come before it). `npx zx lab-scripts/up.mjs partB --broker-mode native` → ["partB", "--broker-mode", "native"].
 */
export function scriptArgs(argv = process.argv) {
  const i = argv.findIndex((a, k) => k >= 2 && /\.[mc]?js$/.test(a) && fs.existsSync(a));
  return i < 0 ? argv.slice(2) : argv.slice(i + 1);
}

/**
 * Parse a script's flags strictly (node:util parseArgs): `--help` prints the usage and exits 0;
 * an unknown or misspelt flag, a flag given twice that is not repeatable, a missing value or an
 * unexpected argument prints what is wrong, the valid flags, and exits with code 2 before the
 * script starts anything.
 *
 *   const { values, positionals } = parseFlags({
 *     summary: "What the script does.",
 *     usage: "npx zx lab-scripts/x.mjs [--requests 10] [--quick]", // or several lines, an array
 *     options: {
 *       requests: { type: "string", default: "10", quick: "3", value: "N", help: "orders per scenario" },
 *       quick: { type: "boolean", help: "the small sizes the tests use" },
 *     },
 *     positionals: [{ name: "part", help: "partA | partB | partC | all" }], // optional; none by default
 *   });
 *
 * Every value is a string or a boolean (as parseArgs gives them). A flag with `multiple: true` may be
 * repeated or comma-separated and is an array; any other flag given twice is refused (never "the
 * last one wins").
 * `quick` is a string flag's default under --quick. `defaultText` describes a default that depends
 * on other flags. `rest: true` keeps what follows a bare `--` as `rest` (arguments for another
 * program). `renamed: { old: "new" }` answers a flag's former name with its new one (exit 2).
 */
export function parseFlags(spec, args = scriptArgs()) {
  const options = optionsOf(spec);
  const parseOptions = Object.fromEntries(
    Object.entries(options).map(([name, o]) => [
      name,
      { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) },
    ]),
  );
  const dashDash = spec.rest ? args.indexOf("--") : -1;
  const own = dashDash < 0 ? args : args.slice(0, dashDash);
  const rest = dashDash < 0 ? [] : args.slice(dashDash + 1);
  const maxPositionals = (spec.positionals ?? []).length;
  let parsed;
  try {
    parsed = parseArgs({
      args: own,
      options: parseOptions,
      strict: true,
      allowPositionals: maxPositionals > 0,
      tokens: true,
    });
  } catch (err) {
    if (!String(err?.code ?? "").startsWith("ERR_PARSE_ARGS")) throw err;
    if (own.includes("--help") || own.includes("-h")) return printHelpAndExit(spec);
    return refuse(spec, options, whatIsWrong(err, spec, options));
  }
  if (parsed.values.help) return printHelpAndExit(spec);
  if (parsed.positionals.length > maxPositionals) {
    const arg = parsed.positionals[maxPositionals];
    return refuse(
      spec,
      options,
      maxPositionals ? `unexpected argument '${arg}'` : `unexpected argument '${arg}': this script takes flags only`,
    );
  }
  const given = parsed.tokens.filter((t) => t.kind === "option").map((t) => t.name);
  const twice = given.find((name, i) => !options[name].multiple && given.indexOf(name) !== i);
  if (twice) return refuse(spec, options, `--${twice} given more than once: it takes one value (give it once)`);
  return { values: withDefaults(parsed.values, options, new Set(given)), positionals: parsed.positionals, rest };
}

/**
 * The values, each flag not given set to its default (its `quick` one under --quick), and a
 * repeatable flag's values split at commas (`--only 01,04` is `--only 01 --only 04`).
 */
function withDefaults(values, options, given) {
  const out = { ...values };
  for (const [name, o] of Object.entries(options)) {
    if (given.has(name)) continue;
    const dflt = values.quick && o.quick !== undefined ? o.quick : o.default;
    if (dflt !== undefined) out[name] = dflt;
  }
  for (const [name, o] of Object.entries(options)) if (o.multiple && out[name]) out[name] = listOf(out[name]);
  return out;
}

/** One line that says what is wrong with the command line, from parseArgs' error. */
function whatIsWrong(err, spec, options) {
  const unknown = /Unknown option '([^']+)'/.exec(err.message)?.[1];
  if (!unknown) return err.message.replace(/\. To specify a positional argument.*$/s, "");
  const name = unknown.replace(/^-+/, "").split("=")[0];
  const renamed = spec.renamed?.[name];
  if (renamed) return `--${name} is now --${renamed}`;
  const near = closest(name, Object.keys(options));
  return `unknown flag ${unknown}${near ? ` (did you mean --${near}?)` : ""}`;
}

function refuse(spec, options, what) {
  const flags = Object.keys(options).map((n) => `--${n}`);
  console.error(
    `✖ ${what}\n  valid flags: ${flags.join(", ")}\n${usageLines(spec)
      .map((l) => `  usage: ${l}\n`)
      .join("")}  (--help for what each does)`,
  );
  process.exit(2);
}

const usageLines = (spec) => [spec.usage].flat();
const optionsOf = (spec) => ({
  ...spec.options,
  help: { type: "boolean", short: "h", help: "print this help and exit" },
});

/** A script's help, as --help prints it: wrapped to HELP_WIDTH columns. */
export function helpText(spec) {
  const options = optionsOf(spec);
  const lines = [...wrap(spec.summary, HELP_WIDTH), ""];
  usageLines(spec).forEach((u, i) => lines.push(...wrapUsage(i ? "       " : "usage: ", u)));
  if (spec.positionals?.length) {
    lines.push("", "arguments:");
    for (const p of spec.positionals) lines.push(...column(p.name, p.help));
  }
  lines.push("", "flags:");
  for (const [name, o] of Object.entries(options)) {
    const flag = `${o.short ? `-${o.short}, ` : ""}--${name}${o.type === "string" ? ` ${o.value ?? "VALUE"}` : ""}`;
    const dflt = name === "help" ? undefined : defaultOf(o);
    lines.push(
      ...column(
        flag,
        `${o.help ?? ""}${o.multiple ? ", comma-separated or repeated" : ""}${dflt !== undefined ? ` (default: ${dflt})` : ""}`,
      ),
    );
  }
  if (spec.epilog) lines.push("", ...wrap(spec.epilog, HELP_WIDTH));
  return lines.join("\n");
}

/** A flag's default in words: its own text, else its value (and its --quick one), else off. */
function defaultOf(o) {
  if (o.defaultText !== undefined) return o.defaultText;
  if (o.default !== undefined) return `${o.default}${o.quick !== undefined ? `, or ${o.quick} with --quick` : ""}`;
  return o.type === "boolean" ? "off" : undefined;
}

function printHelpAndExit(spec) {
  console.log(helpText(spec));
  process.exit(0);
}

/** A name and its text in two columns, the text wrapped under itself. */
function column(name, text) {
  const lead = `  ${name}`;
  const body = wrap(text, HELP_WIDTH - FLAG_COLUMN);
  if (lead.length >= FLAG_COLUMN) return [lead, ...body.map((l) => " ".repeat(FLAG_COLUMN) + l)];
  return body.map((l, i) => (i ? " ".repeat(FLAG_COLUMN) : lead.padEnd(FLAG_COLUMN)) + l);
}

/** Words wrapped to `width` columns (a word longer than that keeps its own line). */
export function wrap(text, width) {
  const lines = [];
  let line = "";
  for (const word of String(text).split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

/**
 * A usage line wrapped between its words, never inside a [bracketed group]; each line but the
 * last ends in " \", so the lines still copy as one shell command.
 */
function wrapUsage(lead, line) {
  const [first, ...groups] = line.match(/\[[^\]]*\]|\S+/g) ?? [];
  const lines = [];
  let current = `${lead}${first}`;
  for (const group of groups) {
    if (current.length + 1 + group.length + 2 > HELP_WIDTH) {
      lines.push(`${current} \\`);
      current = `${" ".repeat(lead.length + 2)}${group}`;
    } else current = `${current} ${group}`;
  }
  return [...lines, current];
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
