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
