// What each part of the lab is made of: its brokers and its services, in start order.
import path from "node:path";
import { distDir } from "../../common/paths.js";

export type PartId = "partA" | "partB" | "partC";
export const PART_IDS: PartId[] = ["partA", "partB", "partC"];
export type BrokerId = "rabbitmq" | "kafka";

export interface ServiceDef {
  /** Short name within the part, e.g. `order`. */
  name: string;
  /** Compiled entry point under dist/. */
  script: string;
  args?: string[];
  /** Flags for node itself (a memory budget); LabOptions.nodeArgs adds to them. */
  nodeArgs?: string[];
  port: number;
  env: Record<string, string>;
  healthPath: string;
}

export interface PartDef {
  id: PartId;
  title: string;
  brokers: BrokerId[];
  /** Default port of each service; PART<X>_<NAME>_PORT in the env overrides one. */
  defaultPorts: Record<string, number>;
  services(ports: Record<string, number>): ServiceDef[];
}

const url = (port: number) => `http://127.0.0.1:${port}`;

/**
 * The Kafka services' memory budget. Fed events as fast as Kafka delivers them, V8 lets the heap
 * grow to several times what is alive (an analytics replay of 1,000,000 events: ≈ 25 MB alive,
 * 200 MB resident). A cap on the old generation and a smaller young one keep each service well
 * under 200 MB at the benchmark's loads, for ≈ 10 % of the producer's speed (measured: producer
 * 185 → 102 MB, analytics 195–206 → 143 MB; 96 MB and 4 MB cost the producer 20 %).
 */
export const KAFKA_SERVICE_MEMORY = ["--max-old-space-size=128", "--max-semi-space-size=8"];

export const PARTS: Record<PartId, PartDef> = {
  partA: {
    id: "partA",
    title: "Part A — synchronous REST chain",
    brokers: [],
    defaultPorts: { inventory: 8081, notification: 8082, order: 8080 },
    services: (p): ServiceDef[] => [
      { name: "inventory", script: "partA-sync-rest/inventory.js", port: p.inventory, env: {}, healthPath: "/ready" },
      {
        name: "notification",
        script: "partA-sync-rest/notification.js",
        port: p.notification,
        env: {},
        healthPath: "/ready",
      },
      {
        name: "order",
        script: "partA-sync-rest/order.js",
        port: p.order,
        env: { INVENTORY_URL: url(p.inventory), NOTIFICATION_URL: url(p.notification) },
        healthPath: "/ready",
      },
    ],
  },
  partB: {
    id: "partB",
    title: "Part B — asynchronous messaging over RabbitMQ",
    brokers: ["rabbitmq"],
    // order: the contract's port; inventory and notification: their health/stats ports.
    defaultPorts: { inventory: 8011, notification: 8012, order: 8001 },
    // AMQP_URL comes from the broker, DATA_DIR from the lab (the durable stores live there).
    services: (p): ServiceDef[] => [
      { name: "inventory", script: "partB-rabbitmq/inventory.js", port: p.inventory, env: {}, healthPath: "/ready" },
      {
        name: "notification",
        script: "partB-rabbitmq/notification.js",
        port: p.notification,
        env: {},
        healthPath: "/ready",
      },
      { name: "order", script: "partB-rabbitmq/order.js", port: p.order, env: {}, healthPath: "/ready" },
    ],
  },
  partC: {
    id: "partC",
    title: "Part C — event streaming over Kafka",
    brokers: ["kafka"],
    // inventory: its health/stats port (the contract leaves it to us, outside 8000/8002).
    defaultPorts: { producer: 8000, inventory: 8020, analytics: 8002 },
    // KAFKA_BROKERS comes from the broker; INVENTORY_FAIL_RATE, FAIL_SEED and
    // CONSUMER_THROTTLE_MS pass through LabOptions.env (or the shell's env).
    services: (p): ServiceDef[] => [
      {
        name: "producer",
        script: "partC-kafka/producer.js",
        nodeArgs: KAFKA_SERVICE_MEMORY,
        port: p.producer,
        env: {},
        healthPath: "/ready",
      },
      {
        name: "inventory",
        script: "partC-kafka/inventory-consumer.js",
        nodeArgs: KAFKA_SERVICE_MEMORY,
        port: p.inventory,
        env: {},
        healthPath: "/ready",
      },
      {
        name: "analytics",
        script: "partC-kafka/analytics.js",
        nodeArgs: KAFKA_SERVICE_MEMORY,
        port: p.analytics,
        env: {},
        healthPath: "/ready",
      },
    ],
  },
};

/** The ports a part will use: defaults, then env overrides, then explicit ones (tests). */
export function portsFor(part: PartId, explicit: Record<string, number> = {}): Record<string, number> {
  const def = PARTS[part];
  const ports: Record<string, number> = {};
  for (const [name, port] of Object.entries(def.defaultPorts)) {
    const fromEnv = process.env[`${part.toUpperCase()}_${name.toUpperCase()}_PORT`];
    ports[name] = explicit[name] ?? (fromEnv ? Number(fromEnv) : port);
  }
  return ports;
}

export const scriptPath = (svc: ServiceDef): string => path.join(distDir, svc.script);

export function parsePartArg(arg: string | undefined): PartId[] {
  if (arg === "all") return [...PART_IDS];
  if (arg && (PART_IDS as string[]).includes(arg)) return [arg as PartId];
  throw new Error(`unknown part ${JSON.stringify(arg)}: use one of ${PART_IDS.join(", ")}, all`);
}
