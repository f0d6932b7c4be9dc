// Broker ports and folders, read from the environment each time they are needed (never cached),
// so a test can point LAB_HOME and the ports elsewhere and run its own brokers beside a student's.
import os from "node:os";
import path from "node:path";
import { labHome, projectRoot } from "../../../common/paths.js";
import { KAFKA_VERSION } from "../../setup/kafka-install.js";

function envPort(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`${name}=${raw} is not a TCP port (1-65535)`);
  return port;
}

/** Tools and runtimes built once per machine, outside the clone (CI's fresh clones share them). */
export const labCacheDir = (): string =>
  path.resolve(
    process.env.CAMPUS_FOOD_LAB_CACHE ||
      path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "campus-food-lab"),
  );

/**
 * Which RabbitMQ native mode runs (LAB_RABBITMQ): `system`, the machine's rabbitmq-server (apt's,
 * Homebrew's, or RABBITMQ_SERVER_BIN), the default because it needs no root to run and is 4.x on
 * Homebrew and Debian 13; or `4`, Debian 13's 4.0 in a root folder cached once per machine, for a
 * Linux whose apt has an older one (Debian 12: 3.10, out of community support since 2023).
 */
export const RABBITMQ_CHOICES = ["system", "4"] as const;
export type RabbitmqChoice = (typeof RABBITMQ_CHOICES)[number];

export function rabbitmqChoice(): RabbitmqChoice {
  const raw = process.env.LAB_RABBITMQ;
  if (raw === undefined || raw === "") return "system";
  if (!(RABBITMQ_CHOICES as readonly string[]).includes(raw))
    throw new Error(
      `LAB_RABBITMQ=${raw} is not one of ${RABBITMQ_CHOICES.join(", ")} (system: the machine's rabbitmq-server; 4: Debian 13's RabbitMQ 4.0 in a cached root)`,
    );
  return raw as RabbitmqChoice;
}

export interface RabbitSettings {
  home: string;
  /** Which server runs (LAB_RABBITMQ). */
  choice: RabbitmqChoice;
  nodeName: string;
  ports: { amqp: number; management: number; distribution: number; epmd: number };
  /** Data (mnesia), config, plugins file and Erlang cookie live here. */
  dir: string;
}

export function rabbitSettings(home = labHome()): RabbitSettings {
  const amqp = envPort("RABBITMQ_PORT", 5672);
  return {
    home,
    choice: rabbitmqChoice(),
    nodeName: process.env.RABBITMQ_NODENAME || "campusfood@localhost",
    ports: {
      amqp,
      management: envPort("RABBITMQ_MANAGEMENT_PORT", 15672),
      // RabbitMQ's own convention: the inter-node port is the AMQP port + 20000.
      distribution: envPort("RABBITMQ_DIST_PORT", amqp + 20000 <= 65535 ? amqp + 20000 : 25672),
      epmd: envPort("ERL_EPMD_PORT", 4369),
    },
    dir: path.join(home, "rabbitmq"),
  };
}

/** The env vars a service needs to reach RabbitMQ. */
export function rabbitClientEnv(ports: { amqp: number; management: number }): Record<string, string> {
  return {
    AMQP_URL: `amqp://guest:guest@127.0.0.1:${ports.amqp}`,
    RABBITMQ_MANAGEMENT_URL: `http://127.0.0.1:${ports.management}`,
  };
}

export interface KafkaSettings {
  home: string;
  ports: { broker: number; controller: number };
  /** Storage, server.properties and the cluster id live here. */
  dir: string;
  /** Where the Kafka jars fetched from Maven Central are kept, one folder per version, shared by every LAB_HOME. */
  libsDir: string;
  heap: string;
}

export function kafkaSettings(home = labHome()): KafkaSettings {
  return {
    home,
    ports: { broker: envPort("KAFKA_PORT", 9092), controller: envPort("KAFKA_CONTROLLER_PORT", 9093) },
    dir: path.join(home, "kafka"),
    libsDir: path.resolve(process.env.KAFKA_LIBS || path.join(projectRoot, ".lab", `kafka-libs-${KAFKA_VERSION}`)),
    heap: process.env.KAFKA_HEAP || "512m",
  };
}

export function kafkaClientEnv(brokerPort: number): Record<string, string> {
  return { KAFKA_BROKERS: `127.0.0.1:${brokerPort}` };
}
