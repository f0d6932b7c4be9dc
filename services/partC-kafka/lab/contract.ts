// What a target file's Part C section gives the driver, read against the wire contract: the
// metrics through the file's field names, N orders through its load test (or its place_order, a
// few at a time), and the capabilities beyond the contract, each with the field that would give
// it when it is missing.
import { capabilities } from "../../harness/judge/capabilities.js";
import { request, type Answer } from "../../harness/measure/implementation.js";
import { type Target } from "../../harness/judge/target.js";
import { callTarget, NotObservable } from "../../harness/judge/target-control.js";

export type PartCFile = NonNullable<Target["partC"]>;

export type PartCCapability =
  | "metrics"
  | "replay"
  | "kafka"
  | "inventory lag"
  | "analytics lag"
  | "stop inventory"
  | "start inventory"
  | "white-box stats"
  | "load test"
  | "without a safeguard"
  | "processes"
  | "broker process";

/** The metrics the contract names; the file's `metrics.fields` maps them to the implementation's own names. */
export const CONTRACT_METRICS = [
  "total_orders",
  "total_reservations",
  "failed_reservations",
  "failure_rate",
  "orders_per_minute",
] as const;
export type ContractMetric = (typeof CONTRACT_METRICS)[number];
/** The metrics as observed: a field the answer lacks is absent (not observable), never guessed. */
export type ObservedMetrics = Partial<Record<ContractMetric, number | Record<string, number>>>;

/** The implementation's name for a metric (the file's mapping, else the contract's). */
export const metricField = (c: PartCFile, name: ContractMetric): string => c.metrics?.fields?.[name] ?? name;

/** What a missing metric field makes not observable, and which field of the file would give it. */
export const noMetricField = (c: PartCFile, name: ContractMetric): string =>
  `the metrics have no field ${metricField(c, name)} (partC.metrics.fields.${name})`;

/** The metrics, read through the file's field names. */
export async function readMetrics(c: PartCFile): Promise<ObservedMetrics> {
  if (!c.metrics) throw new NotObservable("the target gives no metrics URL (partC.metrics.url)");
  const r = await request<Record<string, unknown>>("get", c.metrics.url);
  if (r.status !== 200) throw new Error(`GET ${c.metrics.url} answered ${r.status}: ${JSON.stringify(r.body)}`);
  const out: ObservedMetrics = {};
  for (const name of CONTRACT_METRICS) {
    const v = r.body?.[metricField(c, name)];
    if (typeof v === "number" || (name === "orders_per_minute" && v && typeof v === "object"))
      out[name] = v as number | Record<string, number>;
  }
  return out;
}

/** How N orders were produced, as the producer answered. */
export interface Produced {
  via: "load_test" | "place_order";
  /** Orders the producer accepted (2xx answers; the load test's own count when it gives one). */
  accepted: number;
  /** place_order answers that were not 2xx. */
  refused: number;
  elapsed_ms: number;
}

/** `count` orders through load_test, else through place_order. */
export async function produce(c: PartCFile, placeOrder: () => Promise<Answer>, count: number): Promise<Produced> {
  const t0 = performance.now();
  const elapsed_ms = () => Math.round(performance.now() - t0);
  if (c.load_test) {
    const said = ((await callTarget(c.load_test, { count })).body as { produced?: unknown } | undefined)?.produced;
    return {
      via: "load_test",
      accepted: typeof said === "number" ? said : count,
      refused: 0,
      elapsed_ms: elapsed_ms(),
    };
  }
  // A few orders in flight at once: one at a time, 10,000 orders over HTTP take minutes.
  let [next, accepted, refused] = [0, 0, 0];
  const worker = async () => {
    for (; next < count; next++) {
      const r = await placeOrder();
      if (r.status >= 200 && r.status < 300) accepted++;
      else refused++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, count) }, worker));
  return { via: "place_order", accepted, refused, elapsed_ms: elapsed_ms() };
}

/** What the target lets the lab do beyond the contract; the lab's own (managed_by: lab) is controlled by the lab. */
export function partCCapabilities(target: Target) {
  const c = target.partC!;
  const ctl = c.control?.inventory;
  const noKafka = c.broker ? undefined : "the target gives no Kafka (partC.broker: bootstrap, topics)";
  const group = (g: "inventory" | "analytics") =>
    noKafka ??
    (c.broker?.groups?.[g] ? undefined : `the target does not name ${g}'s consumer group (partC.broker.groups.${g})`);
  return capabilities<PartCCapability>({
    metrics: c.metrics ? undefined : "the target gives no metrics URL (partC.metrics.url)",
    replay: c.replay ? undefined : "the target gives no way to trigger a replay (partC.replay)",
    kafka: noKafka,
    "inventory lag": group("inventory"),
    "analytics lag": group("analytics"),
    "stop inventory":
      target.lab || ctl?.stop || ctl?.pid_file
        ? undefined
        : "the target does not say how to stop inventory (partC.control.inventory.stop or pid_file)",
    "start inventory":
      target.lab || ctl?.start
        ? undefined
        : "the target does not say how to start inventory again (partC.control.inventory.start)",
    "white-box stats": target.lab
      ? undefined
      : "the /health counters and analytics' replay progress are the lab's own services' (managed_by: lab)",
    "load test": c.load_test ? undefined : "the target gives no load_test call (partC.load_test): orders go one by one",
    "without a safeguard": target.lab
      ? undefined
      : "--without switches a safeguard of the lab's own services: it cannot be used with a foreign --target",
    processes: target.lab
      ? undefined
      : "freezing and killing a service at a chosen moment, and telling it from a restarted one, needs the lab's own processes (managed_by: lab)",
    "broker process": target.lab
      ? undefined
      : "stopping, freezing and restarting Kafka on its log is done to the lab's own broker (managed_by: lab)",
  });
}
