// Talking to a running Part C from a script, a notebook or a test: the producer, the inventory
// consumer's stats, and analytics (metrics, lag, replay, report). Plus bringing Part C up for an
// experiment and stopping afterwards only what the experiment started.
import axios from "axios";
import type { GroupLag } from "../lag.js";
import type { AnalyticsMetrics, Metrics, ReplayState } from "../metrics.js";
import type { LoadResult } from "../produce-orders.js";
import { BROKERS } from "../../harness/brokers/index.js";
import { down, processName, up, type LabOptions, type RunningPart } from "../../harness/lifecycle.js";
import { labHome } from "../../common/paths.js";
import { PARTS, portsFor } from "../../harness/parts.js";
import { readRecord } from "../../harness/processes.js";
import { answers, waitUntil } from "../../common/wait.js";

export type { AnalyticsMetrics, GroupLag, LoadResult, Metrics, ReplayState };
export { REPLAYABLE_FIELDS, differences } from "../metrics.js";
export { GROUPS, TOPICS } from "../topics.js";

export interface PartCEndpoints {
  producer: string;
  inventory: string;
  analytics: string;
  /** Kafka bootstrap address, for a test or notebook that reads the topics itself. */
  kafka: string;
}

export function partCEndpoints(running: RunningPart): PartCEndpoints {
  const kafka = running.brokers.find((b) => b.id === "kafka")?.env?.KAFKA_BROKERS;
  if (!kafka) throw new Error("Kafka is not running (no KAFKA_BROKERS): bring Part C up first");
  const url = (name: string) => {
    const s = running.services[name];
    if (!s) throw new Error(`partC-${name} is not running`);
    return s.url;
  };
  return { producer: url("producer"), inventory: url("inventory"), analytics: url("analytics"), kafka };
}

const http = axios.create({ validateStatus: () => true, timeout: 120_000 });

async function call<T>(method: "get" | "post", url: string, body?: unknown): Promise<T> {
  const res = method === "get" ? await http.get(url) : await http.post(url, body ?? {});
  if (res.status !== 200) throw new Error(`${method.toUpperCase()} ${url} answered ${res.status}: ${JSON.stringify(res.data)}`);
  return res.data as T;
}

export const produceOrder = (producerUrl: string, body: { orderId?: string; items?: { sku: string; qty: number }[] } = {}) =>
  call<{ orderId: string; status: string; event: Record<string, unknown>; partition: number; offset: string }>("post", `${producerUrl}/produce`, body);
export const loadTest = (producerUrl: string, count: number) => call<LoadResult & { remaining_in_queue: number }>("post", `${producerUrl}/load-test`, { count });
export const getMetrics = (analyticsUrl: string) => call<AnalyticsMetrics>("get", `${analyticsUrl}/metrics`);
export const getLag = async (analyticsUrl: string) => (await call<{ sampled_at: string; groups: GroupLag[] }>("get", `${analyticsUrl}/lag`)).groups;
export const triggerReplay = (analyticsUrl: string) => call<{ status: string; started_at: string; target_offsets: Record<string, number> }>("post", `${analyticsUrl}/replay`);
export const writeReport = (analyticsUrl: string, label: string) => call<{ status: string; files: { json: string; markdown: string } }>("post", `${analyticsUrl}/report`, { label });
/** A service's /health body: its counters (inventory: reserved, failed, dead_lettered, ...). */
export const healthOf = (url: string) => call<Record<string, any>>("get", `${url}/health`);

export const lagOf = (groups: GroupLag[], group: string): GroupLag => {
  const g = groups.find((x) => x.group === group);
  if (!g) throw new Error(`no lag reported for ${group}`);
  return g;
};

/** Log end offsets summed over both topics: grows exactly when events are appended. */
export const logSize = (groups: GroupLag[]): number =>
  lagOf(groups, "analytics-group").partitions.reduce((sum, p) => sum + p.end, 0);

/** Poll analytics until `done(metrics)`; `onPoll` sees every sample (for progress and plots). */
export async function waitForMetrics(
  analyticsUrl: string,
  done: (m: AnalyticsMetrics) => boolean,
  what: string,
  timeoutMs = 120_000,
  onPoll: (m: AnalyticsMetrics) => void = () => {},
  everyMs = 100,
): Promise<AnalyticsMetrics> {
  let last: AnalyticsMetrics | undefined;
  await waitUntil(async () => {
    last = await getMetrics(analyticsUrl);
    onPoll(last);
    return done(last);
  }, `${what} (last seen: ${last ? `total_orders=${last.total_orders}, total_reservations=${last.total_reservations}, replaying=${last.replay.running}` : "nothing"})`, timeoutMs, everyMs);
  return last!;
}

/**
 * Wait until nothing is in flight: both groups have read everything (lag 0) and analytics is not
 * replaying. Then the metrics describe the whole log.
 */
export async function waitForQuiet(analyticsUrl: string, timeoutMs = 120_000): Promise<AnalyticsMetrics> {
  let lag = -1;
  await waitUntil(async () => {
    const groups = await getLag(analyticsUrl);
    lag = groups.reduce((sum, g) => sum + g.total_lag, 0);
    return lag === 0;
  }, `both consumer groups to catch up (lag ${lag})`, timeoutMs, 200);
  return waitForMetrics(analyticsUrl, (m) => !m.replay.running, "analytics to finish replaying", timeoutMs);
}

export interface PartCSession {
  running: RunningPart;
  urls: PartCEndpoints;
  /** Stop what this session started; leave what was already running. */
  release(): Promise<void>;
}

/**
 * Bring Part C up for an experiment. Services and a broker that were already running are
 * reused and left running afterwards; what the session started, it stops.
 */
export async function openPartC(opts: LabOptions = {}): Promise<PartCSession> {
  const home = opts.home ?? labHome();
  const ports = portsFor("partC", opts.ports);
  const names = PARTS.partC.services(ports).map((s) => s.name);
  const wasUp = new Set<string>();
  for (const s of PARTS.partC.services(ports)) if (await answers(`http://127.0.0.1:${s.port}${s.healthPath}`)) wasUp.add(s.name);
  const brokerWasUp = (await BROKERS.kafka.status({ home, mode: opts.mode })).running;
  const started = names.filter((n) => !wasUp.has(n));
  const release = async () => {
    if (started.length === names.length && !brokerWasUp) await down("partC", { home, mode: opts.mode, log: opts.log });
    else if (started.length) await down("partC", { home, only: started, log: opts.log });
  };
  try {
    const running = await up("partC", { ...opts, home });
    return { running, urls: partCEndpoints(running), release };
  } catch (err) {
    await release(); // a service that did not come up must not leave the others behind
    throw err;
  }
}

/** The env a running Part C service was started with (what the lab passed, not what it inherited). */
export function serviceEnv(name: string, home = labHome()): Record<string, string> {
  const { PORT: _p, DATA_DIR: _d, KAFKA_BROKERS: _k, ...env } = readRecord(processName("partC", name), home)?.env ?? {};
  return env;
}

/** Restart one Part C service with this env (e.g. inventory with CONSUMER_THROTTLE_MS). */
export async function restartService(name: string, env: Record<string, string>, opts: LabOptions = {}): Promise<RunningPart> {
  const home = opts.home ?? labHome();
  await down("partC", { home, only: [name], log: opts.log });
  return up("partC", { ...opts, home, only: [name], env });
}
