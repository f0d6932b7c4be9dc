// Running a short command (apt-get, mvn, docker, java -version) to completion, with a deadline,
// so a stuck install or a docker client waiting for a missing engine never hangs the lab.
import { spawn } from "node:child_process";

export interface RunResult {
  code: number | null;
  output: string;
  timedOut: boolean;
}

export function run(
  command: string,
  args: string[],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    let output = "";
    let timedOut = false;
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-64 * 1024); // the end is what explains a failure
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill("SIGKILL");
        }, opts.timeoutMs)
      : undefined;
    child.on("error", (err) => {
      clearTimeout(timer);
      resolve({ code: null, output: String(err.message), timedOut });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output, timedOut });
    });
  });
}

/** Is `command` an executable on PATH? Returns its path. */
export async function which(command: string): Promise<string | undefined> {
  const res = await run("sh", ["-c", `command -v ${command}`], { timeoutMs: 5_000 });
  const found = res.output.trim().split("\n")[0];
  return res.code === 0 && found ? found : undefined;
}

export const lastLines = (text: string, n = 5): string => text.trimEnd().split("\n").slice(-n).join("\n");
