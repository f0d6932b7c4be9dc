// What the two native brokers share: refusing a taken port with one clear line, and waiting
// until a freshly started broker really serves, with a deadline and the log tail when it doesn't.
import { portInUse } from "../ports.js";
import { isAlive, stopProcess, tailLog, type ProcessRecord } from "../processes.js";
import { waitUntil } from "../../../common/wait.js";

export interface NamedPort {
  port: number;
  /** What it is for, e.g. "AMQP". */
  what: string;
  /** The env var that moves it. */
  envVar: string;
}

export async function assertPortsFree(broker: string, ports: NamedPort[]): Promise<void> {
  for (const p of ports) {
    if (await portInUse(p.port)) {
      throw new Error(
        `${broker}: port ${p.port} (${p.what}) is already taken by another program; stop that program, or set ${p.envVar} to a free port`,
      );
    }
  }
}

/**
 * Wait until `serves()` is true while the process stays alive. On failure the half-started
 * broker is stopped and the error carries the end of its log.
 */
export async function waitServing(
  broker: string,
  record: ProcessRecord,
  home: string,
  serves: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  try {
    await waitUntil(
      async () => {
        if (!isAlive(record.pid)) throw new Error("the process exited");
        return serves();
      },
      `${broker} to serve`,
      timeoutMs,
      250,
    );
  } catch (err) {
    await stopProcess(record.name, home);
    throw new Error(
      `${broker} did not start (${(err as Error).message}); full log: ${record.log}\n${tailLog(record.log, 20)}`,
    );
  }
}
