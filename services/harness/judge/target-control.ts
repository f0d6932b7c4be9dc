// Acting on an implementation through its target file: its HTTP calls (fault switches, a replay)
// with their placeholders filled in, its owner's commands, its pid files — and NotObservable, the
// error that makes a check "not observable" when the file does not say how.
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { answers, waitUntil } from "../../common/wait.js";
import { isAlive } from "../run/processes.js";
import { request, type Answer } from "../measure/implementation.js";
import type { Control, HttpCall, Target } from "./target-schema.js";

/** What the target does not let the lab do or see; the experiment skips what depends on it, with this reason. */
export class NotObservable extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "NotObservable";
  }
}

/** Run `body`; a NotObservable on the way goes to `skip` with its reason (and gives undefined), any other error is thrown. */
export async function unlessNotObservable<T>(
  body: () => Promise<T>,
  skip: (reason: string) => void,
): Promise<T | undefined> {
  try {
    return await body();
  } catch (err) {
    if (!(err instanceof NotObservable)) throw err;
    skip(err.message);
    return undefined;
  }
}

/** Make one of the target's HTTP calls with its placeholders filled in; anything but 2xx is an error. */
export async function callTarget(call: HttpCall, values: Record<string, number>): Promise<Answer> {
  const fill = (s: string) => s.replace(/\{([a-z_]+)\}/g, (_, k: string) => String(values[k]));
  // A string that is only a placeholder becomes the number itself: {"delay": "{seconds}"} → {"delay": 2}.
  const fillBody = (v: unknown): unknown =>
    typeof v === "string"
      ? /^\{[a-z_]+\}$/.test(v)
        ? values[v.slice(1, -1)]
        : fill(v)
      : Array.isArray(v)
        ? v.map(fillBody)
        : v && typeof v === "object"
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fillBody(x)]))
          : v;
  const body = call.body === undefined ? undefined : fillBody(call.body);
  const method = (call.method ?? "GET").toLowerCase() as "get" | "post" | "put";
  const r = await request(method, fill(call.url), body);
  if (r.status < 200 || r.status > 299)
    throw new Error(`${call.method ?? "GET"} ${fill(call.url)} answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r;
}

/** Run one of the target's shell commands in the target file's folder; a non-zero exit is an error with its output. */
export function runTargetCommand(target: Target, command: string, timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("sh", ["-c", command], { cwd: path.dirname(target.file), timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`\`${command}\` failed (${err.code ?? err.signal}): ${(stderr || stdout).trim()}`));
      else resolve(stdout);
    });
  });
}

/** Stop (SIGTERM) or kill (SIGKILL) the one process in a pid file, and wait until it is gone. */
export async function signalPidFile(target: Target, pidFile: string, how: "graceful" | "kill"): Promise<void> {
  const file = path.resolve(path.dirname(target.file), pidFile);
  const pid = Number(fs.readFileSync(file, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`${file} does not hold a pid`);
  if (!isAlive(pid)) return;
  process.kill(pid, how === "kill" ? "SIGKILL" : "SIGTERM");
  await waitUntil(() => !isAlive(pid), `pid ${pid} (from ${pidFile}) to exit`, 30_000, 50);
}

/**
 * Stop, kill or start a service the way its target says: a command, else (stop, kill) the pid
 * file; a start waits until `healthUrl` answers (none, e.g. a consumer without HTTP: the caller
 * watches for it another way). What the file does not say is NotObservable.
 */
export async function controlService(
  target: Target,
  service: string,
  control: Control | undefined,
  action: "stop" | "kill" | "start",
  healthUrl?: string,
): Promise<void> {
  const command = control?.[action];
  if (command) await runTargetCommand(target, command);
  else if (action !== "start" && control?.pid_file)
    await signalPidFile(target, control.pid_file, action === "kill" ? "kill" : "graceful");
  else
    throw new NotObservable(
      `the target does not say how to ${action} ${service} (control.${service}.${action}${action === "start" ? "" : " or pid_file"})`,
    );
  if (action === "start" && healthUrl)
    await waitUntil(() => answers(healthUrl), `${service} to answer ${healthUrl}`, 60_000);
}
