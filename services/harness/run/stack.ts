// What the Part B and Part C scenarios share: a stack of their own (services on free ports, a
// fresh data folder per scenario, the native broker of the campaign's LAB_HOME), steady load at
// a fixed rate, and counting what came back.
import path from "node:path";
import { BROKERS } from "./brokers/index.js";
import { openPart, type LabOptions, type RunningPart } from "./lifecycle.js";
import type { BrokerId, PartId } from "./parts.js";
import { freePortsFor } from "./ports.js";
import { isAlive, readRecord } from "./processes.js";
import { startFixedRateLoad } from "../measure/fixed-rate.js";
import type { ScenarioOptions } from "../judge/verdict.js";
import { sleep } from "../../common/wait.js";

export interface Stack {
  running: RunningPart;
  /** Options to start or restart one of its services the same way (`{...stack.lab, only: [name]}`). */
  lab: LabOptions;
  /** Services stopped; the broker stays up for the next scenario (the campaign stops it at the end). */
  release(): Promise<void>;
}

/**
 * Brokers run natively: the scenarios kill processes by pid and restart a broker on the same
 * data, which is what the claims are about. DATA_DIR is the scenario's own, so stock and processed
 * ids start fresh; RESULTS_DIR keeps anything a service writes (POST /report) out of results/.
 */
export async function openStack(
  part: PartId,
  opts: ScenarioOptions,
  scenario: string,
  env: Record<string, string> = {},
): Promise<Stack> {
  const lab = await stackOptions(part, opts, scenario, env);
  // The one lifecycle rule: what the stack starts it stops; the broker stays up for the next
  // scenario (the campaign owns it and stops it at the end).
  const { running, close } = await openPart(part, lab);
  return { running, lab, release: close };
}

/** How a scenario's stack is started (openStack; a part's driver opening the lab's own for a scenario). */
export async function stackOptions(
  part: PartId,
  opts: ScenarioOptions,
  scenario: string,
  env: Record<string, string> = {},
): Promise<LabOptions & { keepBrokers: true }> {
  return {
    home: opts.home,
    ports: await freePortsFor(part),
    mode: "native",
    healthTimeoutMs: 60_000,
    env: {
      DATA_DIR: path.join(opts.home, "data", `${scenario}-${Date.now()}`),
      RESULTS_DIR: path.join(opts.home, "results"),
      ...(opts.without ? { SAFEGUARDS_OFF: opts.without } : {}),
      ...env,
    },
    log: opts.log,
    keepBrokers: true,
  };
}

/** The pid the lab recorded for a service (to tell "reconnected by itself" from "restarted"). */
export const pidOf = (stack: Stack, name: string): number | undefined =>
  readRecord(`${stack.running.part}-${name}`, stack.lab.home)?.pid;

export const allAlive = (stack: Stack): boolean =>
  Object.keys(stack.running.services).every((n) => {
    const pid = pidOf(stack, n);
    return pid !== undefined && isAlive(pid);
  });

/** The first of the stack's services whose process is gone, said with where to look; null while all run. */
export function deadService(stack: Stack): string | null {
  for (const name of Object.keys(stack.running.services)) {
    const record = readRecord(`${stack.running.part}-${name}`, stack.lab.home);
    if (record === undefined) return `${name} has no process record`;
    if (!isAlive(record.pid)) return `${name} exited: see its log ${record.log}`;
  }
  return null;
}

/** A service of the stack died while a scenario waited: its message says which and where its log is. */
export class ServiceExited extends Error {}

/**
 * `work`, unless a service of the stack dies first: then a ServiceExited at once, rather than a
 * wait that runs into its timeout for answers a dead process will never give.
 */
export async function whileAlive<T>(stack: Stack, work: Promise<T>, everyMs = 500): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const died = new Promise<never>((_, reject) => {
    const look = () => {
      const dead = deadService(stack);
      if (dead) reject(new ServiceExited(dead));
      else timer = setTimeout(look, everyMs);
    };
    look();
  });
  try {
    return await Promise.race([work, died]);
  } finally {
    clearTimeout(timer);
  }
}

/** One request of a steady load: when it was sent, how long its answer took, what it was. */
export interface Sent<T = unknown> {
  seq: number;
  sent_ms: number;
  ms: number;
  status: number | string;
  body: T;
}

/**
 * Send at a fixed rate until stopped, without waiting for answers: a request that hangs shows up
 * as its own long response time instead of slowing the schedule down. The harness's fixed-rate
 * load with no limit on what is in flight; `ms` counts from each request's slot on the schedule.
 */
export function steadyLoad<T>(rate: number, send: (seq: number) => Promise<{ status: number | string; body: T }>) {
  const sent: Sent<T>[] = [];
  const load = startFixedRateLoad({
    rate,
    count: Infinity,
    send: async (seq, intendedMs) => {
      const r = await send(seq).catch((err) => ({
        status: (err as { code?: string }).code ?? "error",
        body: String(err) as T,
      }));
      sent.push({
        seq,
        sent_ms: Math.round(intendedMs),
        ms: Math.round(load.now() - intendedMs),
        status: r.status,
        body: r.body,
      });
      return true;
    },
  });
  return {
    /** Milliseconds since the load started (for a timeline). */
    now: load.now,
    sent,
    async stop(): Promise<Sent<T>[]> {
      load.stop();
      await load.done;
      return sent.sort((a, b) => a.seq - b.seq);
    },
  };
}

export function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return out;
}

/** Is an error answer clear: a 4xx/5xx whose JSON body says what (`error`) and why (`message`)? */
export const clearError = (status: number | string, body: unknown): boolean =>
  typeof status === "number" &&
  status >= 400 &&
  typeof (body as { error?: unknown })?.error === "string" &&
  typeof (body as { message?: unknown })?.message === "string";

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

const BROKER_TITLES: Record<BrokerId, string> = { rabbitmq: "RabbitMQ", kafka: "Kafka" };

/**
 * The campaign's broker stopped for `outageSeconds` and started again on the same data, while a
 * load runs: `timeline` gets the moments `stop`, `stopped`, `start` and `serving` on the load's
 * clock (`now`); `why` completes the log line of the stop.
 */
export async function brokerOutage(
  broker: BrokerId,
  opts: Pick<ScenarioOptions, "home" | "log">,
  outageSeconds: number,
  timeline: Record<string, number>,
  now: () => number,
  why = "",
): Promise<void> {
  const title = BROKER_TITLES[broker];
  timeline.stop = now();
  opts.log(`t=${seconds(timeline.stop)}: stopping ${title}${why}`);
  await BROKERS[broker].down({ home: opts.home, mode: "native" });
  timeline.stopped = now();
  await sleep(outageSeconds * 1000);
  timeline.start = now();
  await BROKERS[broker].up({ home: opts.home, mode: "native" });
  timeline.serving = now();
  opts.log(
    `t=${seconds(timeline.serving)}: ${title} serving again (down ${seconds(timeline.serving - timeline.stop)})`,
  );
}
