// Bring a part up (brokers first, then services, each waited for until healthy) and down; use a
// part for a run (start what is missing, stop only that). The experiments, notebooks, tests and
// up.mjs / down.mjs use this; what runs, and the brokers alone, are in status.ts.
import path from "node:path";
import { BROKERS, type BrokerMode, type BrokerStatus } from "./brokers/index.js";
import { labHome } from "../../common/paths.js";
import { PARTS, portsFor, scriptPath, type BrokerId, type PartId, type ServiceDef } from "./parts.js";
import {
  isAlive,
  listRecords,
  readRecord,
  startProcess,
  stopProcess,
  tailLog,
  type ProcessRecord,
} from "./processes.js";
import { answers, waitUntil } from "../../common/wait.js";
import { portInUse } from "./ports.js";

export interface LabOptions {
  home?: string;
  /** Explicit ports by service name (tests use free ports). */
  ports?: Record<string, number>;
  /** Extra env for every service started (e.g. FAIL_SEED, BACKOFF_BASE_MS). */
  env?: Record<string, string>;
  /** Flags for node itself, e.g. ["--cpu-prof"] to profile the services. */
  nodeArgs?: string[];
  /** Only these services of the part (e.g. restart `inventory` alone). */
  only?: string[];
  mode?: BrokerMode;
  healthTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface RunningService {
  name: string;
  port: number;
  url: string;
  pid: number;
  log: string;
}

export interface RunningPart {
  part: PartId;
  services: Record<string, RunningService>;
  brokers: BrokerStatus[];
  /** What this call of `up` started; the rest it found running. */
  started: Started;
}

/** Services (by short name) and brokers a call started, as opposed to found running. */
export interface Started {
  services: string[];
  brokers: BrokerId[];
}

export const processName = (part: PartId, service: string): string => `${part}-${service}`;

/** The URL of a running service of the part, or an error that says it is not running. */
export function serviceUrl(running: RunningPart, name: string): string {
  const s = running.services[name];
  if (!s) throw new Error(`${processName(running.part, name)} is not running`);
  return s.url;
}

/** A variable of a running broker's client env (AMQP_URL, KAFKA_BROKERS), or an error that says the broker is not running. */
export function brokerEnv(running: RunningPart, broker: BrokerId, name: string): string {
  const value = running.brokers.find((b) => b.id === broker)?.env?.[name];
  if (!value) throw new Error(`${broker} is not running (no ${name}): bring ${running.part} up first`);
  return value;
}

/**
 * Start what of the part is missing (brokers first, unless `only`), each waited for until
 * healthy. `started` in the answer says what this call started. `startedSoFar`, when given, is
 * filled as it goes, so a caller whose `up` failed half-way still knows what to stop.
 */
export async function up(
  part: PartId,
  opts: LabOptions = {},
  startedSoFar: Started = { services: [], brokers: [] },
): Promise<RunningPart> {
  const home = opts.home ?? labHome();
  const log = opts.log ?? (() => {});
  const def = PARTS[part];
  const brokers: BrokerStatus[] = [];
  for (const id of def.brokers) {
    // Restarting one service (`only`) must not start a broker the student stopped on purpose.
    const before = await BROKERS[id].status({ home, mode: opts.mode });
    if (opts.only || before.running)
      brokers.push(opts.only ? before : await BROKERS[id].up({ home, mode: opts.mode, log }));
    else {
      startedSoFar.brokers.push(id);
      brokers.push(await BROKERS[id].up({ home, mode: opts.mode, log }));
    }
  }
  const brokerEnv = Object.assign({}, ...brokers.map((b) => b.env ?? {})) as Record<string, string>;
  const services: Record<string, RunningService> = {};
  for (const svc of def.services(portsFor(part, opts.ports))) {
    if (opts.only && !opts.only.includes(svc.name)) continue;
    services[svc.name] = await startService(part, svc, { ...opts, env: { ...brokerEnv, ...opts.env }, home, log }, () =>
      startedSoFar.services.push(svc.name),
    );
  }
  return {
    part,
    services,
    brokers,
    started: { services: [...startedSoFar.services], brokers: [...startedSoFar.brokers] },
  };
}

async function startService(
  part: PartId,
  svc: ServiceDef,
  opts: LabOptions & { home: string; log: (l: string) => void },
  starting: () => void,
): Promise<RunningService> {
  const name = processName(part, svc.name);
  const healthUrl = `http://127.0.0.1:${svc.port}${svc.healthPath}`;
  const existing = readRecord(name, opts.home);
  if (existing && isAlive(existing.pid) && (await answers(healthUrl))) {
    opts.log(`${name} already running (pid ${existing.pid}, port ${svc.port})`);
    return running(svc, existing);
  }
  starting();
  if (existing) await stopProcess(name, opts.home); // a stale or unhealthy leftover
  if (await portInUse(svc.port)) {
    throw new Error(
      `${name}: port ${svc.port} is already taken by another program; stop it, or set ${part.toUpperCase()}_${svc.name.toUpperCase()}_PORT`,
    );
  }
  const record = startProcess(
    {
      name,
      command: process.execPath,
      args: [...(svc.nodeArgs ?? []), ...(opts.nodeArgs ?? []), scriptPath(svc), ...(svc.args ?? [])],
      // DATA_DIR: where a service keeps its durable state, inside LAB_HOME (a test's home is its own).
      env: { PORT: String(svc.port), DATA_DIR: path.join(opts.home, "data", part), ...svc.env, ...opts.env },
      meta: { part, service: svc.name, port: svc.port, health: healthUrl },
    },
    opts.home,
  );
  try {
    await waitUntil(
      async () => {
        if (!isAlive(record.pid)) throw new Error("exited");
        return answers(healthUrl);
      },
      `${name} to answer ${healthUrl}`,
      opts.healthTimeoutMs ?? 30_000,
    );
  } catch (err) {
    await stopProcess(name, opts.home);
    throw new Error(
      `${name} did not become healthy (${(err as Error).message}). Last lines of ${record.log}:\n${tailLog(record.log)}`,
    );
  }
  opts.log(`${name} up on port ${svc.port} (pid ${record.pid})`);
  return running(svc, record);
}

const running = (svc: ServiceDef, r: ProcessRecord): RunningService => ({
  name: svc.name,
  port: svc.port,
  url: `http://127.0.0.1:${svc.port}`,
  pid: r.pid,
  log: r.log,
});

/** Stop a part's services (all, or `only`), then its brokers unless `keepBrokers`. */
export async function down(part: PartId, opts: LabOptions & { keepBrokers?: boolean } = {}): Promise<string[]> {
  const home = opts.home ?? labHome();
  const stopped: string[] = [];
  const mine = listRecords(home).filter(
    (r) => r.meta?.part === part && (!opts.only || opts.only.includes(String(r.meta?.service))),
  );
  for (const r of mine.reverse()) {
    await stopProcess(r.name, home);
    stopped.push(r.name);
    opts.log?.(`${r.name} stopped`);
  }
  if (!opts.only && !opts.keepBrokers) {
    for (const id of PARTS[part].brokers) {
      const stillNeeded = listRecords(home).some(
        (r) => r.meta?.part && PARTS[r.meta.part as PartId]?.brokers.includes(id),
      );
      if (stillNeeded) {
        opts.log?.(`${id} kept: another part still uses it`);
        continue;
      }
      await BROKERS[id].down({ home, mode: opts.mode, log: opts.log });
      stopped.push(id);
    }
  }
  return stopped;
}

/** A part opened for a piece of work: what runs, and `close()` to stop what the opening started. */
export interface OpenPart {
  running: RunningPart;
  /** Stop exactly what `openPart` started (services, then brokers): nothing that was running before. */
  close: () => Promise<void>;
}

export interface OpenPartOptions extends LabOptions {
  /** Leave a broker this call starts running on close (its owner stops it later, e.g. the fault campaign). */
  keepBrokers?: boolean;
}

/**
 * The lab's one rule for an experiment, a benchmark, a comparison or a fault scenario: start
 * what of the part is missing, brokers included, and on close stop exactly what was started —
 * a stack the student had up stays up, and one started here leaves nothing behind. If starting
 * fails half-way, what had been started is stopped before the error is thrown.
 */
export async function openPart(part: PartId, opts: OpenPartOptions = {}): Promise<OpenPart> {
  const home = opts.home ?? labHome();
  const started: Started = { services: [], brokers: [] };
  const close = async () => {
    if (started.services.length) await down(part, { home, only: started.services, log: opts.log });
    if (opts.keepBrokers) return;
    for (const id of started.brokers) {
      const stillNeeded = listRecords(home).some(
        (r) => r.meta?.part && PARTS[r.meta.part as PartId]?.brokers.includes(id),
      );
      if (stillNeeded) {
        opts.log?.(`${id} kept: a part still uses it`);
        continue;
      }
      await BROKERS[id].down({ home, mode: opts.mode, log: opts.log });
    }
  };
  try {
    const running = await up(part, { ...opts, home }, started);
    return { running, close };
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
}

/** `body` against the part, opened by `openPart` and closed afterwards, whatever happens. */
export async function usePart<T>(
  part: PartId,
  opts: OpenPartOptions,
  body: (running: RunningPart) => Promise<T>,
): Promise<T> {
  const open = await openPart(part, opts);
  try {
    return await body(open.running);
  } finally {
    await open.close();
  }
}

/**
 * Restart one service of a running part with this env on top of the part's (stopped first if it
 * runs, so the new env applies), on the same port; `running.services` is updated in place.
 */
export async function restartService(
  running: RunningPart,
  name: string,
  opts: LabOptions,
  env: Record<string, string> = {},
): Promise<RunningService> {
  const home = opts.home ?? labHome();
  await down(running.part, { home, only: [name], log: opts.log });
  const again = await up(running.part, { ...opts, home, only: [name], env: { ...opts.env, ...env } });
  running.services[name] = again.services[name];
  return again.services[name];
}

/** The env a running service was started with (what the lab passed, not what it inherited). */
export function serviceEnv(part: PartId, name: string, home = labHome()): Record<string, string> {
  const {
    PORT: _p,
    DATA_DIR: _d,
    KAFKA_BROKERS: _k,
    AMQP_URL: _a,
    ...env
  } = readRecord(processName(part, name), home)?.env ?? {};
  return env;
}
