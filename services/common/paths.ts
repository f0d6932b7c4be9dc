// Where the lab keeps things. Runtime state (pids, logs, broker data) lives in an ignored
// folder, `.lab/` by default (LAB_HOME to move it, as the tests do); results in `results/`.
import path from "node:path";
import fs from "node:fs";

export const projectRoot = path.resolve(__dirname, "..", "..");
export const distDir = path.join(projectRoot, "dist");

export const labHome = (): string => path.resolve(process.env.LAB_HOME ?? path.join(projectRoot, ".lab"));
export const runDir = (home = labHome()): string => ensureDir(path.join(home, "run"));
export const logDir = (home = labHome()): string => ensureDir(path.join(home, "logs"));
export const resultsDir = (...sub: string[]): string =>
  ensureDir(path.join(path.resolve(process.env.RESULTS_DIR ?? path.join(projectRoot, "results")), ...sub));

export function ensureDir(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** A result as `<dir>/<name>.json`, pretty-printed so a person can read it too. */
export function writeJsonResult(dir: string, name: string, value: unknown): string {
  const file = path.join(ensureDir(dir), `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + "\n");
  return file;
}

/** Every `<dir>/*.json` result, in file-name order. */
export function readJsonResults<T>(dir: string): T[] {
  return fs
    .readdirSync(ensureDir(dir))
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as T);
}
