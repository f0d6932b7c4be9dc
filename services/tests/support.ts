// What the tests share: a private lab folder and free ports, so a test run never touches
// the stack a student has up.
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import axios from "axios";
import { projectRoot } from "../common/paths.js";
export { freePortsFor } from "../harness/run/ports.js";

export function tempHome(prefix = "campus-food-lab-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** An HTTP client that returns every status instead of throwing, for asserting on it. */
export const http = axios.create({ validateStatus: () => true, timeout: 30_000 });

/** A lab script run as a student would (`npx zx lab-scripts/<script> …`), with this env on top: exit code and output. */
export function runLabScript(
  script: string,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 300_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const zx = path.join(projectRoot, "node_modules", "zx", "build", "cli.js");
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [zx, path.join(projectRoot, "lab-scripts", script), ...args],
      { cwd: projectRoot, timeout: timeoutMs, env: { ...process.env, ...env } },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}
