// Part A's implementation under test, as one typed handle: its endpoints; placing an order (the
// answer is its fate); stopping, killing and starting a service; its faults (inventory's delay and
// failure rate); and what it declares about itself (the order service's call policy, /health).
// The lab's own services are the one implementation today, built from a RunningPart; the
// experiment, the comparison, the benchmark and the fault scenarios take it through this interface.
import type { CallPolicy } from "../../common/http.js";
import { request, type Answer } from "../../harness/implementation.js";
import {
  down,
  processName,
  serviceUrl,
  up,
  type LabOptions,
  type RunningPart,
  type RunningService,
} from "../../harness/lifecycle.js";
import { crashProcess } from "../../harness/processes.js";

export type PartAService = "order" | "inventory" | "notification";

export interface PartAEndpoints {
  order: string;
  inventory: string;
  notification: string;
}

export function endpoints(running: RunningPart): PartAEndpoints {
  const url = (name: PartAService) => serviceUrl(running, name);
  return { order: url("order"), inventory: url("inventory"), notification: url("notification") };
}

/** What the order service declares about itself in GET /health: the checks compare against this. */
export interface OrderPolicy {
  reserve: CallPolicy;
  notify: CallPolicy;
  deadline_ms: number;
  max_in_flight: number;
  /** How it connects to inventory and notification (keep-alive, the lab's resolver). */
  connections?: { keep_alive: boolean; resolve: Record<string, string[]>; connect_attempt_timeout_ms: number };
}

/** POST /order's body: 200 {order_id, status: CONFIRMED, timings}, or 4xx/5xx {error, message, order_id, timings}. */
export interface OrderAnswerBody {
  order_id?: string;
  status?: string;
  error?: string;
  message?: string;
  timings?: { reserve_ms?: number; notify_ms?: number; total_ms?: number; reserve_attempts?: number };
}

export interface PartAImplementation {
  readonly part: "partA";
  readonly endpoints: PartAEndpoints;
  /** POST /order, timed; never throws on an HTTP status (0: no answer). The answer is the order's fate. */
  placeOrder(body?: unknown): Promise<Answer<OrderAnswerBody>>;
  /** What a service declares about itself: its /health body (counters; the order service's policy). */
  health(service: PartAService): Promise<Answer<Record<string, any>>>;
  /** The order service's call policy, from its /health — never a copy of its defaults. */
  policy(): Promise<OrderPolicy>;
  /** A service down: a graceful stop, or kill -9. */
  stopService(service: PartAService, how?: "graceful" | "kill"): Promise<void>;
  /** A service started again unless it runs (with this env on top of the part's); `running.services` is updated. */
  startService(service: PartAService, env?: Record<string, string>): Promise<RunningService>;
  faults: {
    /** Inventory answers each reserve this many seconds late (0: at once). */
    inventoryDelay(seconds: number): Promise<void>;
    /** Inventory fails this share of reserves with a 500 (0–1), drawn from its seeded generator. */
    inventoryFailRate(rate: number): Promise<void>;
    /** Inventory reserves, then answers this share of new reservations with a 500 (0–1): the work done, the answer lost. */
    inventoryFailAfterReserveRate(rate: number): Promise<void>;
  };
}

/** The lab's own Part A services as the implementation under test. */
export function labImplementation(running: RunningPart, opts: LabOptions = {}): PartAImplementation {
  const urls = endpoints(running);
  const setting = async (path: string, name: string, value: number) => {
    const r = await request("get", `${urls.inventory}${path}`, undefined, { params: { [name]: value } });
    if (r.status !== 200)
      throw new Error(`GET ${path}?${name}=${value} answered ${r.status}: ${JSON.stringify(r.body)}`);
  };
  return {
    part: "partA",
    endpoints: urls,
    placeOrder: (body = { order: "lab" }) =>
      request<OrderAnswerBody>("post", `${urls.order}/order`, body, { timeoutMs: 60_000 }),
    health: (service) => request("get", `${urls[service]}/health`),
    policy: async () => {
      const r = await request<{ policy?: OrderPolicy }>("get", `${urls.order}/health`);
      const policy = r.body?.policy;
      if (r.status !== 200 || !policy?.reserve || !policy?.notify)
        throw new Error(`${urls.order}/health did not publish the order service's policy (HTTP ${r.status})`);
      return policy;
    },
    stopService: async (service, how = "graceful") => {
      if (how === "kill") crashProcess(processName(running.part, service), opts.home);
      else await down(running.part, { ...opts, only: [service] });
    },
    startService: async (service, env = {}) => {
      const again = await up(running.part, { ...opts, only: [service], env: { ...opts.env, ...env } });
      running.services[service] = again.services[service];
      return again.services[service];
    },
    faults: {
      inventoryDelay: (seconds) => setting("/set-delay-time", "delay-time", seconds),
      inventoryFailRate: (rate) => setting("/set-fail-rate", "fail-rate", rate),
      inventoryFailAfterReserveRate: (rate) => setting("/set-fail-after-reserve-rate", "fail-after-reserve-rate", rate),
    },
  };
}
