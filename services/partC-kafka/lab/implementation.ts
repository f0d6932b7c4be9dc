// Part C's implementation under test, the one way to drive it, built from a target file: the
// lab's own services (lab.yml, managed_by: lab) and a team's take the same road. The contract
// gives placing orders, a load test, the metrics (through the file's field names), the replay
// call and the Kafka (topics, groups: lag and the tap). Beyond it, capabilities: stopping and
// starting inventory (a team's: the file's commands; the lab's own: its process manager, with
// the running part's ports), white-box /health counters and analytics' replay progress, and
// starting without a safeguard (the lab's own only). Only this file knows whose it is.
import { withOpened, type Implementation } from "../../harness/judge/experiment.js";
import type { Capabilities } from "../../harness/judge/capabilities.js";
import { request, type Answer } from "../../harness/measure/implementation.js";
import { down, openPart, restartService, serviceEnv } from "../../harness/run/lifecycle.js";
import type { LabOptions, OpenPartOptions, RunningPart } from "../../harness/run/lifecycle.js";
import { crashProcess } from "../../harness/run/processes.js";
import { BROKERS } from "../../harness/run/brokers/index.js";
import { brokerOutage, openStack, type Stack } from "../../harness/run/stack.js";
import type { ScenarioOptions } from "../../harness/judge/verdict.js";
import { LAB_TARGET_FILE, loadTarget } from "../../harness/judge/target.js";
import { callTarget, controlService, NotObservable } from "../../harness/judge/target-control.js";
import { targetSummary, type Target, type TargetSummary } from "../../harness/judge/target.js";
import { labHome } from "../../common/paths.js";
import { sleep, waitUntil } from "../../common/wait.js";
import type { GroupLag } from "../lag.js";
import { PARTC_SAFEGUARDS, type PartCSafeguard } from "../switches.js";
import { endpoints as labEndpoints, labClient, type LabClient, type PartCService, type ProduceBody } from "./client.js";
import { noMetricField, partCCapabilities, produce, readMetrics } from "./contract.js";
import type { ContractMetric, ObservedMetrics, PartCCapability, PartCFile, Produced } from "./contract.js";
import { memberOf, openPartCKafka, PartCTap, wireLag, type PartCKafka } from "./kafka-tap.js";

type Group = "inventory" | "analytics";

/** How the driver acts beyond the contract: by the file's commands, or by the lab's process manager. */
interface Hands {
  control(service: PartCService, action: "stop" | "kill" | "start", env: Record<string, string>): Promise<void>;
  own?: LabClient;
  /** The lab's own processes: pids, alive or not, the home of its native Kafka. */
  stack?: Stack;
  without?: string;
  release?: () => Promise<void>;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export class PartC implements Implementation<PartCCapability> {
  readonly part = "partC" as const;
  readonly summary: TargetSummary;
  readonly capabilities: Capabilities<PartCCapability>;
  readonly without?: string;
  private readonly c: PartCFile;
  private wire?: Promise<PartCKafka>;

  constructor(
    readonly target: Target,
    private readonly hands: Hands,
  ) {
    this.c = target.partC!;
    const { services, metrics, broker } = this.c;
    this.summary = targetSummary(target, {
      producer: services.producer,
      ...(services.analytics ? { analytics: services.analytics } : {}),
      ...(metrics ? { metrics: metrics.url } : {}),
      ...(broker ? { kafka: broker.bootstrap } : {}),
    });
    this.capabilities = partCCapabilities(target);
    if (hands.without !== undefined) this.without = hands.without;
  }

  /** POST one order (the file's place_order, else /produce with one burrito); never throws on a status. */
  placeOrder(
    body: unknown = this.c.place_order?.body ?? { items: [{ sku: "burrito", qty: 1 }] },
  ): Promise<Answer<ProduceBody>> {
    const url = `${this.c.services.producer}${this.c.place_order?.path ?? "/produce"}`;
    return request<ProduceBody>("post", url, body, { timeoutMs: 120_000 });
  }

  /** `count` orders through load_test, else through place_order (a few at a time). */
  produce(count: number): Promise<Produced> {
    return produce(this.c, () => this.placeOrder(), count);
  }

  metrics(): Promise<ObservedMetrics> {
    return readMetrics(this.c);
  }

  /** A count the contract names; NotObservable, naming the file's field, when the metrics lack it. */
  count(m: ObservedMetrics | undefined, name: Exclude<ContractMetric, "orders_per_minute">): number {
    const v = m?.[name];
    if (typeof v !== "number") throw new NotObservable(noMetricField(this.c, name));
    return v;
  }

  async replay(): Promise<void> {
    this.capabilities.need("replay");
    await callTarget(this.c.replay!, {});
  }

  /** Its Kafka, with an admin of the lab's (opened once, closed by close()). */
  kafka(): Promise<PartCKafka> {
    this.capabilities.need("kafka");
    const broker = this.c.broker!;
    this.wire ??= openPartCKafka(broker);
    return this.wire;
  }

  async lag(which: Group): Promise<GroupLag> {
    this.capabilities.need(`${which} lag`);
    return wireLag(await this.kafka(), this.c.broker!.groups![which]!, which);
  }

  /** A tap on both topics from now on; the caller closes it. */
  async tap(): Promise<PartCTap> {
    return PartCTap.open(await this.kafka());
  }

  /** The named groups (those the file names) have read everything, then `settleMs` more; false on timeout. */
  async caughtUp(which: Group[], timeoutMs = 300_000, settleMs = 1000): Promise<boolean> {
    const named = which.filter((w) => this.capabilities.has(`${w} lag`));
    const zero = async () => (await Promise.all(named.map((w) => this.lag(w)))).every((g) => g.total_lag === 0);
    const ok = waitUntil(zero, "the groups to catch up", timeoutMs, 250).then(() => true);
    return ok.catch(() => false).finally(() => sleep(settleMs));
  }

  /** The metrics once they describe the whole log: groups caught up, nothing moving for `settleMs` (or `until`). */
  async settled(o: { until?: (m: ObservedMetrics) => boolean; timeoutMs?: number; settleMs?: number } = {}) {
    const timeoutMs = o.timeoutMs ?? 300_000;
    await this.caughtUp(["inventory", "analytics"], timeoutMs, 0);
    // The lab's own analytics says when a replay is done; any other's metrics must stop moving.
    await this.hands.own?.waitForMetrics((m) => !m.replay.running, "analytics to finish replaying", timeoutMs);
    let [last, since] = [await this.metrics(), Date.now()];
    const still = async () => {
      const now = await this.metrics();
      if (o.until?.(now)) return true;
      if (!same(now, last)) [last, since] = [now, Date.now()];
      return Date.now() - since >= (o.settleMs ?? 2000);
    };
    await waitUntil(still, "the metrics to settle", timeoutMs, 250);
    return this.metrics();
  }

  /** Stop (or kill) a service. */
  async stop(service: PartCService, how: "stop" | "kill" = "stop"): Promise<void> {
    if (service === "inventory") this.capabilities.need("stop inventory");
    await this.hands.control(service, how, {});
  }

  /** Start a stopped service (the lab's own: restart a running one) with `env` on top, e.g. CONSUMER_THROTTLE_MS. */
  async start(service: PartCService, env: Record<string, string> = {}): Promise<void> {
    if (service === "inventory") this.capabilities.need("start inventory");
    await this.hands.control(service, "start", env);
  }

  /** The lab's own services' API: /health counters, analytics' replay progress, its report. */
  whiteBox(): LabClient {
    this.capabilities.need("white-box stats");
    return this.hands.own!;
  }

  /** The lab's own processes (pids, kill -9 at a chosen moment, still the same process?). */
  processes(): Stack {
    this.capabilities.need("processes");
    return this.hands.stack!;
  }

  /** The lab's own Kafka (native): its pid to freeze, an outage on its log, and up again. */
  broker() {
    this.capabilities.need("broker process");
    const home = this.hands.stack!.lab.home ?? labHome();
    return {
      pid: async () => (await BROKERS.kafka.status({ home, mode: "native" })).pid,
      up: () => BROKERS.kafka.up({ home, mode: "native" }),
      outage: (seconds: number, timeline: Record<string, number>, now: () => number, log: (l: string) => void) =>
        brokerOutage("kafka", { home, log }, seconds, timeline, now),
    };
  }

  /** Leave it as found: what opening started is stopped; nothing of a team's is touched. */
  async close(): Promise<void> {
    if (this.wire) await (await this.wire).admin.disconnect().catch(() => {});
    await this.hands.release?.();
  }
}

/** A team's hands: the file's commands (or pid files); inventory is back once its group has a member again. */
function teamHands(target: Target): Hands {
  const c = target.partC!;
  return {
    control: async (service, action, env) => {
      const ctl = c.control?.[service];
      // The contract's knobs (CONSUMER_THROTTLE_MS) reach a service through its start command's environment.
      const exports = Object.entries(env).map(([k, v]) => `export ${k}=${JSON.stringify(v)}; `);
      const withEnv = ctl?.start ? { ...ctl, start: exports.join("") + ctl.start } : ctl;
      const url = service === "inventory" ? undefined : c.services[service];
      await controlService(target, service, withEnv, action, url && `${url}${c.health_path ?? "/health"}`);
      const group = c.broker?.groups?.inventory;
      if (service === "inventory" && action === "start" && group) await memberOf(c.broker!.bootstrap, group);
    },
  };
}

/**
 * The lab's own Part C, running (started with `opts`), as the implementation under test: lab.yml
 * with the running part's ports. A fault scenario, a bench or a comparison builds it from its own stack.
 */
export function labPartC(
  running: RunningPart,
  opts: LabOptions,
  extra: { without?: string; release?: () => Promise<void> } = {},
): PartC {
  const file = loadTarget(LAB_TARGET_FILE);
  const now = labEndpoints(running);
  const c = file.partC!;
  const rebased = JSON.stringify(c)
    .replaceAll(c.services.producer, now.producer)
    .replaceAll(c.services.analytics!, now.analytics)
    .replaceAll(`"${c.broker!.bootstrap}"`, `"${now.kafka}"`);
  const home = opts.home ?? labHome();
  // The env each service runs with now: a start keeps it, and adds only what it is asked to.
  const found = Object.fromEntries(Object.keys(running.services).map((s) => [s, serviceEnv("partC", s, home)]));
  const control: Hands["control"] = async (service, action, env) => {
    if (action === "start") await restartService(running, service, opts, { ...found[service], ...opts.env, ...env });
    else if (action === "kill") crashProcess(`partC-${service}`, home);
    else await down("partC", { ...opts, home, only: [service] });
  };
  const stack: Stack = { running, lab: { ...opts, home }, release: extra.release ?? (async () => {}) };
  return new PartC(
    { ...file, partC: JSON.parse(rebased) as PartCFile },
    { control, own: labClient(now), stack, ...extra },
  );
}

/** A Part C safeguard's name, or an error that lists them. */
function partCSafeguard(name: string): PartCSafeguard {
  if (!(name in PARTC_SAFEGUARDS))
    throw new Error(`unknown Part C safeguard "${name}": use one of ${Object.keys(PARTC_SAFEGUARDS).join(", ")}`);
  return name as PartCSafeguard;
}

export interface OpenPartCOptions extends OpenPartOptions {
  /** Start the lab's own services with this safeguard switched off (a team's has no such switch). */
  without?: string;
}

/** Part C on `target`: the lab's own is brought up where it is missing (close stops only what this started); a team's is only talked to. */
export async function openPartC(target: Target, opts: OpenPartCOptions = {}): Promise<PartC> {
  if (!target.partC) throw new NotObservable(`the target ${target.name} has no partC`);
  if (opts.without !== undefined) partCCapabilities(target).need("without a safeguard");
  if (!target.lab) return new PartC(target, teamHands(target));
  const without = opts.without === undefined ? undefined : partCSafeguard(opts.without);
  const lab = without ? { ...opts, env: { ...opts.env, SAFEGUARDS_OFF: without } } : opts;
  const { running, close } = await openPart("partC", lab);
  const impl = labPartC(running, lab, { without, release: close });
  if (!without) return impl;
  // A Part C that was already up (with its safeguards on) is used as it is, not restarted: say so.
  const stats = await impl.whiteBox().stats(PARTC_SAFEGUARDS[without].service);
  const state = (stats.safeguards as Record<string, string> | undefined)?.[without];
  if (state === "off") return impl;
  await impl.close();
  throw new Error(
    `Part C runs with the safeguard ${without} ${state ?? "unknown"}: it was already up. Stop Part C first (npx zx lab-scripts/down.mjs partC), then run this again.`,
  );
}

/**
 * Part C for a fault scenario: opts.target (lab.yml when absent). The lab's own runs on a stack of
 * its own (fresh data, free ports, the campaign's native Kafka) with `env` and opts.without.
 */
export async function openPartCFor(opts: ScenarioOptions, scenario: string, env: Record<string, string> = {}) {
  const target = opts.target ?? loadTarget(LAB_TARGET_FILE);
  if (!target.lab) return openPartC(target, { without: opts.without });
  const stack = await openStack("partC", opts, scenario, env);
  const without = opts.without === undefined ? undefined : partCSafeguard(opts.without);
  return labPartC(stack.running, stack.lab, { without, release: () => stack.release() });
}

/** `body` on Part C, opened by openPartC and closed afterwards, whatever happens. */
export const withPartC = <T>(target: Target, opts: OpenPartCOptions, body: (impl: PartC) => Promise<T>): Promise<T> =>
  withOpened(openPartC(target, opts), body);
