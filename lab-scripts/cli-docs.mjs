#!/usr/bin/env zx
// docs/cli.md, the command line's chapter: every script's --help, as the script prints it, so the
// page cannot say something the scripts do not. Run it after changing a script's flags; --check
// (run by services/tests/lab-scripts.test.ts) fails when the page is out of date.
//   npx zx lab-scripts/cli-docs.mjs [--check]
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { labScripts, parseFlags } from "./flags.mjs";

const { values: argv } = parseFlags({
  summary:
    "Write docs/cli.md from every script's --help (the scripts are the one source of what they take). With --check, write nothing: say whether docs/cli.md is up to date, exit 1 if not.",
  usage: "npx zx lab-scripts/cli-docs.mjs [--check]",
  options: {
    check: { type: "boolean", help: "compare docs/cli.md with the scripts' help instead of writing it" },
  },
});

const root = fileURLToPath(new URL("..", import.meta.url));
const page = path.join(root, "docs", "cli.md");
const zx = path.join(root, "node_modules", "zx", "build", "cli.js");

/** The page's sections, in the order a newcomer meets the scripts; a script not named here goes last. */
const SECTIONS = [
  ["Running the lab", ["setup", "up", "status", "down", "notebooks", "run-lab", "report"]],
  ["Experiments, one lesson each", [/^partA-/, /^partB-/, /^partC-/]],
  ["Campaigns, on brokers of their own", ["faults", "safeguards", "bench"]],
  ["This page", ["cli-docs"]],
];

/** What `script --help` prints (the help needs no build, so this runs anywhere). */
async function helpOf(script) {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [zx, path.join(root, "lab-scripts", script), "--help"],
    {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: "0" },
    },
  );
  return stdout.trimEnd();
}

/** docs/cli.md as the scripts' help makes it today. */
async function cliPage() {
  const scripts = labScripts(path.join(root, "lab-scripts")).map((f) => f.replace(/\.mjs$/, ""));
  const helps = Object.fromEntries(await Promise.all(scripts.map(async (s) => [s, await helpOf(`${s}.mjs`)])));
  const placed = new Set();
  const lines = [
    "# The command line",
    "",
    "<!-- Generated from every script's --help by `npx zx lab-scripts/cli-docs.mjs`: edit the scripts, then run it. -->",
    "",
    "Every script runs from the project folder as `npx zx lab-scripts/<script>.mjs [flags]` and answers",
    "`--help` with what is below, even before the lab is built. A misspelt or unknown flag, and a flag",
    "given twice that is not marked *comma-separated or repeated*, stop the script before it starts",
    "anything, with exit code 2.",
  ];
  const pick = (match) =>
    scripts.filter((s) => !placed.has(s) && (match instanceof RegExp ? match.test(s) : s === match));
  for (const [title, matches] of [...SECTIONS, ["Other scripts", [/./]]]) {
    const chosen = matches.flatMap(pick);
    if (!chosen.length) continue;
    lines.push("", `## ${title}`);
    for (const s of chosen) {
      placed.add(s);
      lines.push("", `### ${s}.mjs`, "", "```text", helps[s], "```");
    }
  }
  return `${lines.join("\n")}\n`;
}

const wanted = await cliPage();
if (argv.check) {
  const current = fs.existsSync(page) ? fs.readFileSync(page, "utf8") : "";
  if (current !== wanted) {
    console.error("✖ docs/cli.md is out of date with the scripts' --help: run npx zx lab-scripts/cli-docs.mjs");
    process.exit(1);
  }
  console.log("docs/cli.md is up to date");
} else {
  fs.mkdirSync(path.dirname(page), { recursive: true });
  fs.writeFileSync(page, wanted);
  console.log(`wrote ${path.relative(process.cwd(), page)}`);
}
