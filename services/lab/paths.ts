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
