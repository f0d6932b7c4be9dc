// Part C's implementation under test, as one typed handle: its endpoints; placing an order (an
// OrderPlaced produced) and a load test; learning what analytics made of the log (metrics, lag,
// replay, report); stopping and starting its consumer (inventory); its faults (a pause per
// message); and what its services declare about themselves (/health). The lab's own services are
// the one implementation today, built from a RunningPart; experiments, the comparison, the
// benchmark and the fault scenarios take it through this interface.
import { request, type Answer } from "../../harness/implementation.js";
import {
  down,
  restartService,
  serviceEnv,
  up,
  usePart,
  type LabOptions,
  type RunningPart,
  type RunningService,
} from "../../harness/lifecycle.js";
import { labHome } from "../../common/paths.js";
import { PARTC_SAFEGUARDS, type PartCSafeguard } from "../switches.js";
import {
  endpoints as endpointsOf,
  getLag,
  getMetrics,
  healthOf,
  loadTest,
  produceOrder,
  triggerReplay,
  waitForMetrics,
  waitForQuiet,
  writeReport,
  type AnalyticsMetrics,
  type GroupLag,
  type LoadResult,
  type PartCEndpoints,
  type ProduceBody,
} from "./client.js";

export type PartCService = "producer" | "inventory" | "analytics";

export interface PartCImplementation {
  readonly part: "partC";
  readonly endpoints: PartCEndpoints;
  /** POST /produce, timed; never throws on an HTTP status (0: no answer). */
  placeOrder(body?: Parameters<typeof produceOrder>[1]): Promise<Answer<ProduceBody>>;
  /** POST /load-test: `count` orders produced in batches; an error unless the producer answers 200. */
  loadTest(count: number): Promise<LoadResult & { remaining_in_queue: number }>;
  /** What a service declares about itself: its /health answer. */
  health(service: PartCService): Promise<Answer<Record<string, any>>>;
  /** Its /health body; an error when it does not answer 200 (an experiment cannot go on without it). */
  stats(service: PartCService): Promise<Record<string, any>>;
  /** What the producer declares about itself: each send answered within this time (its /health policy). */
  policy(): Promise<{ produce_timeout_ms: number }>;
  /** What analytics has counted so far. */
  metrics(): Promise<AnalyticsMetrics>;
  /** Each consumer group's lag, per partition. */
  lag(): Promise<GroupLag[]>;
  /** Poll the metrics until `done`; `onPoll` sees every sample. */
  waitForMetrics(
    done: (m: AnalyticsMetrics) => boolean,
    what: string,
    timeoutMs?: number,
    onPoll?: (m: AnalyticsMetrics) => void,
    everyMs?: number,
  ): Promise<AnalyticsMetrics>;
  /** Both groups caught up and no replay running: the metrics describe the whole log. */
  waitForQuiet(timeoutMs?: number): Promise<AnalyticsMetrics>;
  /** Analytics reads both topics again from the start. */
  replay(): Promise<{ status: string; started_at: string; target_offsets: Record<string, number> }>;
  /** Analytics writes its report files under this label. */
  report(label: string): Promise<{ status: string; files: { json: string; markdown: string } }>;
  /** A service stopped (analytics too: what it has counted is rebuilt from the log when it starts). */
  stopService(service: PartCService): Promise<void>;
  /** A service started unless it runs (the part's env plus `env`); `running.services` is updated. */
  startService(service: PartCService, env?: Record<string, string>): Promise<RunningService>;
  /** The consumer (inventory) stopped. */
  stopConsumer(): Promise<void>;
  /** The consumer (re)started with the env it was first found with, plus `env`. */
  restartConsumer(env?: Record<string, string>): Promise<RunningService>;
  faults: {
    /** Inventory pauses this long per message (CONSUMER_THROTTLE_MS, read at start: a restart); 0: none. */
    consumerDelay(seconds: number): Promise<void>;
  };
}

/** The lab's own Part C services as the implementation under test. */
export function labImplementation(running: RunningPart, opts: LabOptions = {}): PartCImplementation {
  const endpoints = endpointsOf(running);
  // The env inventory runs with now: a restart keeps it, and adds only what it is asked to.
  const inventoryEnv = serviceEnv("partC", "inventory", opts.home ?? labHome());
  const stopService = (service: PartCService) => down("partC", { ...opts, only: [service] }).then(() => {});
  const restartConsumer = (env: Record<string, string> = {}) =>
    restartService(running, "inventory", opts, { ...inventoryEnv, ...opts.env, ...env });
  return {
    part: "partC",
    endpoints,
    placeOrder: (body = {}) => produceOrder(endpoints.producer, body),
    loadTest: (count) => loadTest(endpoints.producer, count),
    health: (service) => request("get", `${endpoints[service]}/health`),
    stats: (service) => healthOf(endpoints[service]),
    policy: async () => {
      const policy = (await healthOf(endpoints.producer)).policy as { produce_timeout_ms?: number } | undefined;
      if (typeof policy?.produce_timeout_ms !== "number")
        throw new Error(`${endpoints.producer}/health did not publish the producer's policy`);
      return { produce_timeout_ms: policy.produce_timeout_ms };
    },
    metrics: () => getMetrics(endpoints.analytics),
    lag: () => getLag(endpoints.analytics),
    waitForMetrics: (done, what, timeoutMs, onPoll, everyMs) =>
      waitForMetrics(endpoints.analytics, done, what, timeoutMs, onPoll, everyMs),
    waitForQuiet: (timeoutMs) => waitForQuiet(endpoints.analytics, timeoutMs),
    replay: () => triggerReplay(endpoints.analytics),
    report: (label) => writeReport(endpoints.analytics, label),
    stopService,
    startService: async (service, env = {}) => {
      const again = await up("partC", { ...opts, only: [service], env: { ...opts.env, ...env } });
      running.services[service] = again.services[service];
      return again.services[service];
    },
    stopConsumer: () => stopService("inventory"),
    restartConsumer,
    faults: {
      consumerDelay: async (seconds) =>
        void (await restartConsumer({ CONSUMER_THROTTLE_MS: String(Math.round(seconds * 1000)) })),
    },
  };
}

/** `body` against Part C (openPart's rule: what is missing is started for it and stopped afterwards), through its implementation. */
export const withPartC = <T>(opts: LabOptions, body: (impl: PartCImplementation) => Promise<T>): Promise<T> =>
  usePart("partC", opts, (running) => body(labImplementation(running, opts)));

/** A Part C safeguard's name, or an error that lists them. */
export function partCSafeguard(name: string): PartCSafeguard {
  if (!(name in PARTC_SAFEGUARDS))
    throw new Error(`unknown Part C safeguard "${name}": use one of ${Object.keys(PARTC_SAFEGUARDS).join(", ")}`);
  return name as PartCSafeguard;
}

/** The options that start Part C's services with this safeguard switched off (none: unchanged). */
export function withoutSafeguard<O extends LabOptions>(opts: O, name?: string): O {
  if (name === undefined) return opts;
  return { ...opts, env: { ...opts.env, SAFEGUARDS_OFF: partCSafeguard(name) } };
}

/**
 * An error unless the service that owns the safeguard reports it off in /health: a Part C that
 * was already up (with its safeguards on) is used as it is, not restarted.
 */
export async function requireSafeguardOff(impl: PartCImplementation, name: string): Promise<void> {
  const { service } = PARTC_SAFEGUARDS[partCSafeguard(name)];
  const state = ((await impl.stats(service)).safeguards as Record<string, string> | undefined)?.[name];
  if (state !== "off")
    throw new Error(
      `Part C's ${service} runs with the safeguard ${name} ${state ?? "unknown"}: it was already up. Stop Part C first (npx zx lab-scripts/down.mjs partC), then run this again.`,
    );
}
