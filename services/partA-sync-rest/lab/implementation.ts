// Part A's one driver: any implementation of the synchronous chain, built from its target file —
// the lab's own services (lab.yml, managed_by: lab) or a team's — reached the same way. What goes
// beyond the wire contract is a capability the target file grants (starting services with other
// settings: only the lab's own process manager can); a missing one is "not observable" with the
// reason. This is the one place that knows whose implementation it is.
import path from "node:path";
import type { CallPolicy } from "../../common/http.js";
import { labHome } from "../../common/paths.js";
import { capabilities, type Capabilities } from "../../harness/judge/capabilities.js";
import { withOpened, type Implementation } from "../../harness/judge/experiment.js";
import { request, type Answer } from "../../harness/measure/implementation.js";
import { down, openPart, processName, up, type LabOptions, type RunningPart } from "../../harness/run/lifecycle.js";
import { freePortsFor } from "../../harness/run/ports.js";
import { crashProcess } from "../../harness/run/processes.js";
import { targetSummary, type HttpCall } from "../../harness/judge/target.js";
import { callTarget, controlService, NotObservable } from "../../harness/judge/target-control.js";
import type { Target } from "../../harness/judge/target.js";
import { partASafeguardNamed } from "../switches.js";

export type PartAService = "order" | "inventory" | "notification";
export type PartAEndpoints = Record<PartAService, string>;

export type PartAFault = "inventory_delay" | "inventory_fail_rate" | "inventory_fail_after_reserve_rate";

export type PartACapability =
  | "inventory delay"
  | "inventory failure"
  | "inventory failure after reserving"
  | "stop inventory"
  | "start inventory"
  | "declared policy"
  | "white-box stats"
  | "order services of its own"
  | "without a safeguard";

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

export interface PartAImplementation extends Implementation<PartACapability> {
  readonly part: "partA";
  readonly endpoints: PartAEndpoints;
  /** A service's URL; "not observable" when the target gives none. */
  url(service: PartAService): string;
  /** The target's fault switches as the lab calls them (the lab's own: on the ports it runs on). */
  readonly faultCalls: Partial<Record<PartAFault, HttpCall>>;
  /** POST /order, timed; never throws on an HTTP status (0: no answer). The answer is the order's fate. */
  placeOrder(body?: unknown): Promise<Answer<OrderAnswerBody>>;
  /** A service's /health body (with "white-box stats": its counters). */
  health(service: PartAService): Promise<Answer<Record<string, any>>>;
  /** The order service's call policy, from its /health — never a copy of its defaults ("declared policy"). */
  policy(): Promise<OrderPolicy>;
  /** A service down (graceful, or kill -9) and up again: "stop inventory", "start inventory". */
  stopService(service: PartAService, how?: "graceful" | "kill"): Promise<void>;
  startService(service: PartAService): Promise<void>;
  faults: {
    /** Inventory answers each reserve this many seconds late (0: at once). */
    inventoryDelay(seconds: number): Promise<void>;
    /** Inventory fails this share of reserves with a 500 (0–1). */
    inventoryFailRate(rate: number): Promise<void>;
    /** Inventory reserves, then answers this share of new reservations with a 500: the work done, the answer lost. */
    inventoryFailAfterReserveRate(rate: number): Promise<void>;
  };
  /** "order services of its own": one more order service on `port`, with `env`, calling the same inventory and notification. */
  extraOrderService(
    name: string,
    port: number,
    env: Record<string, string>,
  ): Promise<{ url: string; stop(): Promise<void> }>;
  /** Stop what opening it started (the lab's own services it brought up); a team's: nothing. */
  close(): Promise<void>;
}

export interface PartAOptions extends LabOptions {
  /** The lab's own services only: started with this safeguard off, on ports and a folder of their own. */
  without?: string;
}

const DEFAULT_ORDER = { order: "lab" }; // when the target gives none (the seed's own: {"order": "test #1"})

/** Part A of `target`, opened: the lab's own services brought up (what was missing), a team's only reached. */
export async function openPartA(target: Target, opts: PartAOptions = {}): Promise<PartAImplementation> {
  if (!target.partA) throw new NotObservable(`the target ${target.name} has no partA`);
  if (!target.lab) {
    if (opts.without !== undefined) throw new NotObservable(ownOnly(target, "a safeguard switch"));
    return drive(target, { ...target.partA.services } as PartAEndpoints, undefined, opts);
  }
  const off = opts.without === undefined ? undefined : partASafeguardNamed(opts.without);
  // Without a safeguard: a Part A of the run's own, so a stack already up (safeguards on) is left as it is.
  const lab = off
    ? { ...opts, home: path.join(opts.home ?? labHome(), "without", off), ports: await freePortsFor("partA") }
    : opts;
  if (off) lab.env = { ...opts.env, SAFEGUARDS_OFF: off };
  const part = await openPart("partA", lab);
  try {
    const urls = Object.fromEntries(Object.values(part.running.services).map((s) => [s.name, s.url]));
    const impl = drive(target, urls as PartAEndpoints, { running: part.running, lab, close: part.close }, opts);
    if (opts.without !== undefined && (await impl.health("order")).body?.safeguards?.[opts.without] !== "off")
      throw new Error(`the order service did not switch ${opts.without} off (see its /health)`);
    return impl;
  } catch (err) {
    await part.close();
    throw err;
  }
}

/** `body` with Part A of `target` opened, and closed afterwards whatever happens. */
export const withPartA = <T>(
  target: Target,
  opts: PartAOptions,
  body: (impl: PartAImplementation) => Promise<T>,
): Promise<T> => withOpened(openPartA(target, opts), body);

const ownOnly = (t: Target, what: string) =>
  `${t.name}'s services are started by its owner: ${what} exists only for the lab's own services (managed_by: lab)`;

type LabSide = { running: RunningPart; lab: PartAOptions; close(): Promise<void> };

/** What the target lets the lab do beyond the contract, each missing one with the field that would give it. */
function capabilitiesOf(target: Target, own: boolean): Capabilities<PartACapability> {
  const a = target.partA!;
  const faultWhy = (f: keyof NonNullable<typeof a.faults>) =>
    a.faults?.[f] ? undefined : `the target has no such fault switch (partA.faults.${f})`;
  const control = (verb: "stop" | "start") =>
    own || a.control?.inventory?.[verb] || (verb === "stop" && a.control?.inventory?.pid_file)
      ? undefined
      : `the target does not say how to ${verb} inventory (partA.control.inventory.${verb}${verb === "stop" ? " or pid_file" : ""})`;
  return capabilities<PartACapability>({
    "inventory delay": faultWhy("inventory_delay"),
    "inventory failure": faultWhy("inventory_fail_rate"),
    "inventory failure after reserving": faultWhy("inventory_fail_after_reserve_rate"),
    "stop inventory": control("stop"),
    "start inventory": control("start"),
    "declared policy": a.declares?.policy
      ? undefined
      : `${target.name} declares no call policy (partA.declares.policy)`,
    "white-box stats": a.declares?.stats ? undefined : `${target.name} declares no counters (partA.declares.stats)`,
    "order services of its own": own ? undefined : ownOnly(target, "starting order services with other settings"),
    "without a safeguard": own ? undefined : ownOnly(target, "a safeguard switch"),
  });
}

type Lifecycle = Pick<PartAImplementation, "stopService" | "startService" | "extraOrderService" | "close">;

/** A team's services: stopped and started by the commands its file names; nothing else is started. */
function teamLifecycle(target: Target, urlOf: (s: PartAService) => string, healthPath: string): Lifecycle {
  const control = target.partA!.control;
  return {
    stopService: (service, how = "graceful") =>
      controlService(target, service, control?.[service], how === "kill" ? "kill" : "stop", ""),
    startService: (service) =>
      controlService(target, service, control?.[service], "start", `${urlOf(service)}${healthPath}`),
    extraOrderService: () => Promise.reject(new NotObservable(ownOnly(target, "starting order services"))),
    close: async () => {},
  };
}

/** The lab's own services: by the lab's process manager, in the home they were opened in. */
function labLifecycle(own: LabSide, home: string): Lifecycle {
  return {
    stopService: async (service, how = "graceful") => {
      if (how === "kill") crashProcess(processName("partA", service), home);
      else await down("partA", { ...own.lab, home, only: [service] });
    },
    startService: async (service) => {
      const again = await up("partA", { ...own.lab, home, only: [service] });
      own.running.services[service] = again.services[service];
    },
    extraOrderService: async (name, port, env) => {
      const ports = Object.fromEntries(Object.values(own.running.services).map((s) => [s.name, s.port]));
      const extra = { home: path.join(home, "extra-order", name), ports: { ...ports, order: port } };
      await up("partA", { ...own.lab, ...extra, env: { ...own.lab.env, ...env }, only: ["order"] });
      const stop = async () => void (await down("partA", { ...extra, only: ["order"] }));
      return { url: `http://127.0.0.1:${port}`, stop };
    },
    close: () => own.close(),
  };
}

function drive(
  target: Target,
  urls: PartAEndpoints,
  own: LabSide | undefined,
  opts: PartAOptions,
): PartAImplementation {
  const a = target.partA!;
  const healthPath = a.health_path ?? "/health";
  const caps = capabilitiesOf(target, own !== undefined);
  const urlOf = (service: PartAService) => {
    if (!urls[service]) throw new NotObservable(`the target gives no URL for ${service} (partA.services.${service})`);
    return urls[service];
  };
  // A switch's URL names inventory as the file declares it; the lab's own may run elsewhere (free ports).
  const rebased = (call: HttpCall): HttpCall => {
    const from = a.services.inventory;
    return from && urls.inventory && call.url.startsWith(from)
      ? { ...call, url: urls.inventory + call.url.slice(from.length) }
      : call;
  };
  const fault = (name: PartAFault, cap: PartACapability, key: string) => async (v: number) => {
    const call = a.faults?.[name];
    if (!call && v === 0) return; // turning off what cannot be turned on is nothing to do
    caps.need(cap);
    await callTarget(rebased(call!), { [key]: v });
  };
  return {
    part: "partA",
    target,
    summary: targetSummary(target, { ...urls }),
    capabilities: caps,
    ...(opts.without !== undefined ? { without: opts.without } : {}),
    endpoints: urls,
    url: urlOf,
    faultCalls: Object.fromEntries(Object.entries(a.faults ?? {}).map(([k, call]) => [k, rebased(call)])),
    placeOrder: (body = a.place_order?.body ?? DEFAULT_ORDER) =>
      request<OrderAnswerBody>("post", `${urls.order}${a.place_order?.path ?? "/order"}`, body, { timeoutMs: 60_000 }),
    health: (service) => request("get", `${urlOf(service)}${healthPath}`),
    policy: async () => {
      caps.need("declared policy");
      const r = await request<{ policy?: OrderPolicy }>("get", `${urls.order}${healthPath}`);
      const policy = r.body?.policy;
      if (r.status !== 200 || !policy?.reserve || !policy?.notify)
        throw new Error(`${urls.order}${healthPath} did not publish the order service's policy (HTTP ${r.status})`);
      return policy;
    },
    faults: {
      inventoryDelay: fault("inventory_delay", "inventory delay", "seconds"),
      inventoryFailRate: fault("inventory_fail_rate", "inventory failure", "rate"),
      inventoryFailAfterReserveRate: fault(
        "inventory_fail_after_reserve_rate",
        "inventory failure after reserving",
        "rate",
      ),
    },
    ...(own ? labLifecycle(own, own.lab.home ?? labHome()) : teamLifecycle(target, urlOf, healthPath)),
  };
}
