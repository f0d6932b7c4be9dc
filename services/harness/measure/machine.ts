// The machine a benchmark ran on, written beside every figure.
import os from "node:os";
import fs from "node:fs";

export interface MachineInfo {
  cores: number;
  cpu: string;
  memory_gib: number;
  os: string;
  node: string;
  [extra: string]: string | number;
}

export function machineInfo(extra: Record<string, string> = {}): MachineInfo {
  return {
    cores: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? "unknown",
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    ...extra,
  };
}

/** Peak resident memory of a process so far (Linux VmHWM), in MB; undefined elsewhere. */
export function peakRssMb(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The peak memory of each service of a part over a benchmark. A restarted service is a new
 * process, so each role keeps the highest peak of every process that played it; read a process
 * before it is stopped (its peak goes with it).
 */
export class PeakMemory {
  private readonly peaks = new Map<string, number>();

  sample(services: Record<string, { pid: number }>): void {
    for (const [role, { pid }] of Object.entries(services)) {
      const mb = peakRssMb(pid);
      if (mb !== undefined) this.peaks.set(role, Math.max(this.peaks.get(role) ?? 0, mb));
    }
  }

  byRole(): Record<string, number> {
    return Object.fromEntries(this.peaks);
  }
}

/** CPU time a process has used so far (user + system), in ms; undefined when it is gone or not Linux. */
export function cpuMs(pid: number): number | undefined {
  return procStat(pid)?.cpuMs;
}

/** CPU time used so far by every process of a process group (a broker and its children), in ms. */
export function groupCpuMs(pgid: number): number {
  let total = 0;
  let pids: string[] = [];
  try {
    pids = fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return 0;
  }
  for (const d of pids) {
    const s = procStat(Number(d));
    if (s?.pgid === pgid) total += s.cpuMs;
  }
  return total;
}

const TICKS_PER_S = 100; // USER_HZ on Linux

function procStat(pid: number): { pgid: number; cpuMs: number } | undefined {
  try {
    // Fields after "(comm) ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime …
    const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return { pgid: Number(f[2]), cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_S };
  } catch {
    return undefined;
  }
}

/**
 * CPU used per unit of work (an order, an event) by each process named, over one measurement:
 * `meter.start()` before, `meter.perUnit(n)` after. The bench process itself is "client".
 */
export class CpuMeter {
  private before = new Map<string, number>();
  private client = process.cpuUsage();

  constructor(private readonly processes: Record<string, { pid: number; group?: boolean }>) {}

  start(): this {
    this.before = new Map(Object.entries(this.processes).map(([name, p]) => [name, this.read(p) ?? NaN]));
    this.client = process.cpuUsage();
    return this;
  }

  /** CPU ms per unit, by process, rounded to µs. */
  perUnit(units: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, p] of Object.entries(this.processes)) {
      const used = (this.read(p) ?? NaN) - (this.before.get(name) ?? NaN);
      if (Number.isFinite(used)) out[name] = round3(used / units);
    }
    const c = process.cpuUsage(this.client);
    out.client = round3((c.user + c.system) / 1000 / units);
    out.total = round3(Object.values(out).reduce((a, b) => a + b, 0));
    return out;
  }

  private read(p: { pid: number; group?: boolean }): number | undefined {
    return p.group ? groupCpuMs(p.pid) : cpuMs(p.pid);
  }
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** "order 0.6 ms, rabbitmq 0.7 ms, …" for a progress line. */
export const describeCpu = (perUnit: Record<string, number>): string =>
  Object.entries(perUnit)
    .map(([name, ms]) => `${name} ${ms} ms`)
    .join(", ");
