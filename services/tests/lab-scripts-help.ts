// What a lab script's --help says, read back for the tests: its usage lines as one would type
// them, and its flags. The scripts print it with lab-scripts/flags.mjs (helpText).
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { projectRoot } from "../common/paths.js";

export const scriptsDir = path.join(projectRoot, "lab-scripts");

/** The scripts: lab-scripts/*.mjs that zx runs (first line `#!/usr/bin/env zx`), as flags.mjs labScripts finds them. */
export const labScripts = (dir = scriptsDir): string[] =>
  fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".mjs") && fs.readFileSync(path.join(dir, f), "utf8").startsWith("#!/usr/bin/env zx"))
    .sort();

/**
 * Per run of a script. A --help run takes 0.2 s here, but CI (Node 24, a loaded 2-core machine)
 * once saw two --help runs in a row pass 60 s, then recover: a slow spawn, not a slow script, so
 * the bound is generous and says only "it did not hang".
 */
export const RUN_TIMEOUT_MS = 180_000;

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** A command run by a shell in the project folder, exactly as a person would type it. */
export function shell(command: string, cwd = projectRoot): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      "sh",
      ["-c", command],
      { cwd, timeout: RUN_TIMEOUT_MS, env: { ...process.env, npm_config_update_notifier: "false" } },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

/** `fn` over `items`, `width` at a time (a few scripts at once keep the whole file under a minute). */
export async function inTurns<T, R>(items: T[], fn: (item: T) => Promise<R>, width = 4): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]);
  };
  await Promise.all(Array.from({ length: width }, worker));
  return out;
}

/** The usage lines of a help text, each on one line (a wrapped one ends its lines with " \"). */
export function usageLines(help: string): string[] {
  const lines = help.split("\n");
  const start = lines.findIndex((l) => l.startsWith("usage: "));
  const block: string[] = [];
  for (const line of lines.slice(start)) {
    if (!line.trim()) break;
    const text = line.replace(/^usage: /, "").trim();
    const last = block.length - 1;
    if (last >= 0 && block[last].endsWith(" \\")) block[last] = block[last].slice(0, -1) + text;
    else block.push(text);
  }
  return block;
}

/**
 * A usage line as one types it: with every [optional group] (`optional`) or none, the first of
 * each a|b choice, without the "..." that says a flag may be repeated.
 */
export function asTyped(usage: string, optional: boolean): string {
  const line = optional ? usage.replace(/\[([^\]]*)\]/g, "$1") : usage.replace(/\s*\[[^\]]*\]/g, "");
  return line
    .split(/\s+/)
    .filter((w) => w && w !== "...")
    .map((w) => w.split("|")[0])
    .join(" ");
}

export interface FlagHelp {
  name: string;
  /** The placeholder of its value (N, FILE…), none for a switch. */
  value?: string;
  text: string;
  repeatable: boolean;
}

/** The flags a help text lists, each with its placeholder and its (unwrapped) text. */
export function flagsOf(help: string): FlagHelp[] {
  const lines = help.split("\n");
  const flags: FlagHelp[] = [];
  for (const line of lines.slice(lines.indexOf("flags:") + 1)) {
    if (!line.trim()) break;
    const m = /^ {2}(?:-\w, )?--([\w-]+)(?: (\S+))?(?: {2,}(.*))?$/.exec(line);
    if (m) flags.push({ name: m[1], value: m[2], text: m[3] ?? "", repeatable: false });
    else flags[flags.length - 1].text += ` ${line.trim()}`;
  }
  for (const f of flags) f.repeatable = f.text.includes("comma-separated or repeated");
  return flags;
}
