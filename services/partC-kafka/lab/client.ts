// Talking to the lab's own running Part C, white-box: the producer, the inventory consumer's
// /health stats, and analytics' own API (metrics with the replay's progress, lag, replay,
// report). The driver (implementation.ts) offers it as the capability "white-box stats".
import axios from "axios";
import type { GroupLag } from "../lag.js";
import type { AnalyticsMetrics, Metrics, ReplayState } from "../metrics.js";
import type { LoadResult } from "../produce-orders.js";
import { brokerEnv, serviceUrl, type RunningPart } from "../../harness/run/lifecycle.js";
import { waitUntil } from "../../common/wait.js";
import { request, type Answer } from "../../harness/measure/implementation.js";

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

export function endpoints(running: RunningPart): PartCEndpoints {
  const kafka = brokerEnv(running, "kafka", "KAFKA_BROKERS");
  const url = (name: string) => serviceUrl(running, name);
  return { producer: url("producer"), inventory: url("inventory"), analytics: url("analytics"), kafka };
}

const http = axios.create({ validateStatus: () => true, timeout: 120_000 });

async function call<T>(method: "get" | "post", url: string, body?: unknown): Promise<T> {
  const res = method === "get" ? await http.get(url) : await http.post(url, body ?? {});
  if (res.status !== 200)
    throw new Error(`${method.toUpperCase()} ${url} answered ${res.status}: ${JSON.stringify(res.data)}`);
  return res.data as T;
}

/** POST /produce's body: 200 {orderId, status, event, partition, offset}, or 400/503 {error, message, eventId}. */
export interface ProduceBody {
  orderId?: string;
  status?: string;
  event?: Record<string, unknown>;
  partition?: number;
  offset?: string;
  /** With a 503: the event id to retry with, so that a retry is not a second order. */
  eventId?: string;
  error?: string;
  message?: string;
}

/** POST /produce, timed; never throws on an HTTP status (0: no answer). */
export const produceOrder = (
  producerUrl: string,
  body: { orderId?: string; items?: { sku: string; qty: number }[]; eventId?: string } = {},
): Promise<Answer<ProduceBody>> => request<ProduceBody>("post", `${producerUrl}/produce`, body, { timeoutMs: 120_000 });
export const loadTest = (producerUrl: string, count: number) =>
  call<LoadResult & { remaining_in_queue: number }>("post", `${producerUrl}/load-test`, { count });
export const getMetrics = (analyticsUrl: string) => call<AnalyticsMetrics>("get", `${analyticsUrl}/metrics`);
export const getLag = async (analyticsUrl: string) =>
  (await call<{ sampled_at: string; groups: GroupLag[] }>("get", `${analyticsUrl}/lag`)).groups;
export const triggerReplay = (analyticsUrl: string) =>
  call<{ status: string; started_at: string; target_offsets: Record<string, number> }>(
    "post",
    `${analyticsUrl}/replay`,
  );
export const writeReport = (analyticsUrl: string, label: string) =>
  call<{ status: string; files: { json: string; markdown: string } }>("post", `${analyticsUrl}/report`, { label });
/** A service's /health body: its counters (inventory: reserved, failed, dead_lettered, ...). */
export const healthOf = (url: string) => call<Record<string, any>>("get", `${url}/health`);

export type PartCService = "producer" | "inventory" | "analytics";

/** The lab's own services' API, bound to their endpoints (for the fault scenarios, the bench and the safeguards). */
export const labClient = (endpoints: PartCEndpoints) => ({
  endpoints,
  metrics: () => getMetrics(endpoints.analytics),
  lag: () => getLag(endpoints.analytics),
  waitForMetrics: (
    done: (m: AnalyticsMetrics) => boolean,
    what: string,
    timeoutMs?: number,
    onPoll?: (m: AnalyticsMetrics) => void,
    everyMs?: number,
  ) => waitForMetrics(endpoints.analytics, done, what, timeoutMs, onPoll, everyMs),
  /** Both groups caught up and no replay running: the metrics describe the whole log. */
  waitForQuiet: (timeoutMs?: number) => waitForQuiet(endpoints.analytics, timeoutMs),
  replay: () => triggerReplay(endpoints.analytics),
  loadTest: (count: number) => loadTest(endpoints.producer, count),
  /** A service's /health body: its counters. */
  stats: (service: PartCService) => healthOf(endpoints[service]),
  /** What the producer declares about itself: each send answered within this time. */
  policy: async () => {
    const policy = (await healthOf(endpoints.producer)).policy as { produce_timeout_ms?: number } | undefined;
    if (typeof policy?.produce_timeout_ms !== "number")
      throw new Error(`${endpoints.producer}/health did not publish the producer's policy`);
    return { produce_timeout_ms: policy.produce_timeout_ms };
  },
});
export type LabClient = ReturnType<typeof labClient>;

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
  await waitUntil(
    async () => {
      last = await getMetrics(analyticsUrl);
      onPoll(last);
      return done(last);
    },
    `${what} (last seen: ${last ? `total_orders=${last.total_orders}, total_reservations=${last.total_reservations}, replaying=${last.replay.running}` : "nothing"})`,
    timeoutMs,
    everyMs,
  );
  return last!;
}

/**
 * Wait until nothing is in flight: both groups have read everything (lag 0) and analytics is not
 * replaying. Then the metrics describe the whole log.
 */
export async function waitForQuiet(analyticsUrl: string, timeoutMs = 120_000): Promise<AnalyticsMetrics> {
  let lag = -1;
  await waitUntil(
    async () => {
      const groups = await getLag(analyticsUrl);
      lag = groups.reduce((sum, g) => sum + g.total_lag, 0);
      return lag === 0;
    },
    `both consumer groups to catch up (lag ${lag})`,
    timeoutMs,
    200,
  );
  return waitForMetrics(analyticsUrl, (m) => !m.replay.running, "analytics to finish replaying", timeoutMs);
}
