// Long-running processes of the lab (services and native brokers), started in the background
// with their output in a log file and a record in `.lab/run/<name>.json`, so that another
// command (down.mjs, status.mjs, a test) can find and stop them later.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { logDir, runDir, labHome } from "../../common/paths.js";
import { sleep } from "../../common/wait.js";

export interface ProcessSpec {
  /** Unique name, e.g. `partA-order` or `rabbitmq`. */
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Anything worth showing in status (port, health url, part). */
  meta?: Record<string, unknown>;
}

export interface ProcessRecord extends ProcessSpec {
  pid: number;
  log: string;
  startedAt: string;
}

const recordFile = (name: string, home: string) => path.join(runDir(home), `${name}.json`);

export function readRecord(name: string, home = labHome()): ProcessRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(recordFile(name, home), "utf8")) as ProcessRecord;
  } catch {
    return undefined;
  }
}

export function listRecords(home = labHome()): ProcessRecord[] {
  return fs
    .readdirSync(runDir(home))
    .filter((f) => f.endsWith(".json"))
    .map((f) => readRecord(f.slice(0, -5), home))
    .filter((r): r is ProcessRecord => r !== undefined);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Start in its own process group (so stopping it stops its children too), logging to a file. */
export function startProcess(spec: ProcessSpec, home = labHome()): ProcessRecord {
  const log = path.join(logDir(home), `${spec.name}.log`);
  const out = fs.openSync(log, "a");
  fs.writeSync(out, `\n--- ${new Date().toISOString()} starting ${spec.command} ${spec.args.join(" ")}\n`);
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env },
    detached: true,
    stdio: ["ignore", out, out],
  });
  fs.closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${spec.name}: ${spec.command} not found?`);
  child.unref();
  const record: ProcessRecord = { ...spec, pid: child.pid, log, startedAt: new Date().toISOString() };
  fs.writeFileSync(recordFile(spec.name, home), JSON.stringify(record, null, 2));
  return record;
}

/** SIGTERM the process group, wait for a graceful exit, SIGKILL what is left. */
export async function stopProcess(name: string, home = labHome(), graceMs = 15_000): Promise<boolean> {
  const record = readRecord(name, home);
  if (!record) return false;
  await killGroup(record.pid, graceMs);
  fs.rmSync(recordFile(name, home), { force: true });
  return true;
}

/** kill -9, as a crash would: no chance to clean up. The record stays, marked dead by status. */
export function crashProcess(name: string, home = labHome()): void {
  const record = readRecord(name, home);
  if (record && isAlive(record.pid)) signalGroup(record.pid, "SIGKILL");
}

export async function killGroup(pid: number, graceMs: number): Promise<void> {
  signalGroup(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (groupAlive(pid) && Date.now() < deadline) await sleep(50);
  if (groupAlive(pid)) signalGroup(pid, "SIGKILL");
  while (groupAlive(pid)) await sleep(20);
}

/** A signal to a process and its children (its process group), else to the process alone; nothing if it is gone. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return isAlive(pid);
  }
}

/** The last lines of a log, to explain why something did not come up. */
export function tailLog(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
