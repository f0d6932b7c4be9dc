// Part C's implementation under test built from a target file: a team's producer, inventory
// consumer and analytics, in any language, reached only through what the file names — the
// producer's URL, its load-test call, its metrics (read through the file's field names), its
// replay call, its stop and start commands, and its Kafka (topics, group names). Hands off:
// nothing else is started, stopped or changed. What the file does not give is NotObservable.
import type { Admin, Kafka } from "kafkajs";
import { request, type Answer } from "../../harness/implementation.js";
import { callTarget, controlService, NotObservable, type Target } from "../../harness/target.js";
import { waitUntil } from "../../common/wait.js";
import { groupLag, type GroupLag } from "../lag.js";
import { kafkaClient } from "../faults/kafka-tap.js";

export type PartCTargetFile = NonNullable<Target["partC"]>;

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

/** The order body when the target gives none: the contract's own example. */
const DEFAULT_ORDER = { items: [{ sku: "burrito", qty: 1 }] };

/** A target's Part C, or an error that says the file has none. */
export function partCOf(target: Target): PartCTargetFile {
  if (!target.partC) throw new NotObservable(`the target ${target.name} has no partC`);
  return target.partC;
}

/** What a report names as measured: the URLs and the Kafka the file gives. */
export function partCTargetEndpoints(target: Target): Record<string, string> {
  const c = partCOf(target);
  return {
    producer: c.services.producer,
    ...(c.services.analytics ? { analytics: c.services.analytics } : {}),
    ...(c.metrics ? { metrics: c.metrics.url } : {}),
    ...(c.broker ? { kafka: c.broker.bootstrap } : {}),
  };
}

/** The implementation's metric field for a contract name (the file's mapping, else the contract's). */
export const metricField = (c: PartCTargetFile, name: ContractMetric): string => c.metrics?.fields?.[name] ?? name;

/** How N orders were produced, as the producer answered. */
export interface Produced {
  via: "load_test" | "place_order";
  /** Orders the producer accepted (2xx answers; the load test's own count when it gives one). */
  accepted: number;
  /** place_order answers that were not 2xx. */
  refused: number;
  elapsed_ms: number;
}

export interface PartCTarget {
  readonly target: Target;
  readonly file: PartCTargetFile;
  placeOrder(body?: unknown): Promise<Answer>;
  /** `count` orders through load_test, else through place_order (a few at a time). */
  produce(count: number): Promise<Produced>;
  /** The metrics, read through the file's field names. */
  metrics(): Promise<ObservedMetrics>;
  replay(): Promise<void>;
  /** Stop, kill or start a service by the file's command (or pid file); a start waits until it is back. */
  control(service: "producer" | "inventory" | "analytics", action: "stop" | "kill" | "start"): Promise<void>;
}

export function targetPartC(target: Target): PartCTarget {
  const c = partCOf(target);
  const healthPath = c.health_path ?? "/health";
  const placeOrder = (body: unknown = c.place_order?.body ?? DEFAULT_ORDER) =>
    request("post", `${c.services.producer}${c.place_order?.path ?? "/produce"}`, body, { timeoutMs: 60_000 });
  return {
    target,
    file: c,
    placeOrder,
    produce: async (count) => {
      const t0 = performance.now();
      if (c.load_test) {
        const answer = await callTarget(c.load_test, { count });
        const said = (answer.body as { produced?: unknown } | undefined)?.produced;
        return {
          via: "load_test",
          accepted: typeof said === "number" ? said : count,
          refused: 0,
          elapsed_ms: Math.round(performance.now() - t0),
        };
      }
      // A few orders in flight at once: one at a time, 10,000 orders over HTTP take minutes.
      let next = 0;
      let accepted = 0;
      let refused = 0;
      const worker = async () => {
        while (next < count) {
          next++;
          const r = await placeOrder();
          if (r.status >= 200 && r.status < 300) accepted++;
          else refused++;
        }
      };
      await Promise.all(Array.from({ length: Math.min(8, count) }, worker));
      return { via: "place_order", accepted, refused, elapsed_ms: Math.round(performance.now() - t0) };
    },
    metrics: async () => {
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
    },
    replay: async () => {
      if (!c.replay) throw new NotObservable("the target gives no way to trigger a replay (partC.replay)");
      await callTarget(c.replay, {});
    },
    control: async (service, action) => {
      const url = service === "inventory" ? undefined : c.services[service];
      await controlService(target, service, c.control?.[service], action, url && `${url}${healthPath}`);
      // Inventory has no HTTP in the contract: it is back once its group has a member again.
      const group = c.broker?.groups?.inventory;
      if (service === "inventory" && action === "start" && group) {
        const wire = await openTargetKafka(target);
        try {
          await waitUntil(
            async () => (await wire.admin.describeGroups([group])).groups[0]?.members.length > 0,
            `${group} to have a member again`,
            60_000,
            250,
          );
        } finally {
          await wire.close();
        }
      }
    },
  };
}

/** The target's Kafka, for the lab's own reads: an admin (lag, end offsets), never a commit or a reset of theirs. */
export interface TargetKafka {
  kafka: Kafka;
  admin: Admin;
  topics: { orders: string; inventory_events: string };
  groups: { inventory?: string; analytics?: string };
  /** A group's lag: inventory on the orders topic, analytics on both. NotObservable when the file names no such group. */
  lag(which: "inventory" | "analytics"): Promise<GroupLag>;
  close(): Promise<void>;
}

export async function openTargetKafka(target: Target): Promise<TargetKafka> {
  const broker = partCOf(target).broker;
  if (!broker) throw new NotObservable("the target gives no Kafka (partC.broker: bootstrap, topics)");
  const kafka = kafkaClient(broker.bootstrap, "campusfood-lab");
  const admin = kafka.admin();
  await admin.connect();
  const groups = broker.groups ?? {};
  return {
    kafka,
    admin,
    topics: broker.topics,
    groups,
    lag: (which) => {
      const group = groups[which];
      if (!group)
        return Promise.reject(
          new NotObservable(`the target does not name ${which}'s consumer group (partC.broker.groups.${which})`),
        );
      const topics =
        which === "inventory" ? [broker.topics.orders] : [broker.topics.orders, broker.topics.inventory_events];
      // fetchOffsets and fetchTopicOffsets only read: the group's own offsets are never touched.
      return groupLag(admin, group, topics);
    },
    close: () => admin.disconnect().catch(() => {}),
  };
}
