// The lab's brokers. Each runs natively or in Docker (see mode.ts); whichever way it was started
// is the way it is reported and stopped.
import type { BrokerId } from "../parts.js";
import { isAlive, readRecord } from "../processes.js";
import { composeBroker, dockerStarted } from "./docker.js";
import { declareTopics, kafkaServes, nativeKafka } from "./kafka.js";
import { chooseMode } from "./mode.js";
import { nativeRabbitmq, rabbitServes } from "./rabbitmq.js";
import { kafkaClientEnv, kafkaSettings, rabbitClientEnv, rabbitSettings } from "./settings.js";
import type { Broker, BrokerOptions } from "./types.js";

const dockerRabbitmq = composeBroker({
  id: "rabbitmq",
  file: "async-rabbitmq.yml",
  service: "rabbitmq",
  ports: () => {
    const s = rabbitSettings();
    return [
      { key: "amqp", port: s.ports.amqp, what: "AMQP", envVar: "RABBITMQ_PORT" },
      { key: "management", port: s.ports.management, what: "management UI", envVar: "RABBITMQ_MANAGEMENT_PORT" },
    ];
  },
  endpoint: (p) => `amqp://127.0.0.1:${p.amqp} (management http://127.0.0.1:${p.management}, guest/guest)`,
  clientEnv: (p) => rabbitClientEnv({ amqp: p.amqp, management: p.management }),
  serves: (p) => rabbitServes({ amqp: p.amqp, management: p.management }),
});

const dockerKafka = composeBroker({
  id: "kafka",
  file: "streaming-kafka.yml",
  service: "kafka",
  ports: () => [{ key: "broker", port: kafkaSettings().ports.broker, what: "Kafka clients", envVar: "KAFKA_PORT" }],
  endpoint: (p) => `127.0.0.1:${p.broker}`,
  clientEnv: (p) => kafkaClientEnv(p.broker),
  serves: (p) => kafkaServes(p.broker),
  declare: (p) => declareTopics(p.broker),
});

/** One broker, two ways to run it; the native process record is named after the broker. */
function eitherMode(id: BrokerId, native: Broker, docker: Broker): Broker {
  const runningAs = (home: string) => {
    const record = readRecord(id, home);
    if (record && isAlive(record.pid)) return "native";
    return dockerStarted(home, id) ? "docker" : undefined;
  };
  return {
    id,
    async up(opts: BrokerOptions) {
      const current = runningAs(opts.home);
      if (current && opts.mode && opts.mode !== current) {
        throw new Error(
          `${id} already runs ${current === "native" ? "natively" : "in Docker"}; stop it with down.mjs first to switch to --broker-mode ${opts.mode}`,
        );
      }
      if (current) return (current === "native" ? native : docker).up(opts);
      await native.down(opts); // what is left of a crashed native broker, if any
      const mode = await chooseMode(opts.mode);
      opts.log?.(
        `${id}: ${mode} mode${opts.mode || process.env.LAB_BROKER_MODE ? " (forced)" : mode === "docker" ? " (a Docker engine answers)" : " (no Docker engine)"}`,
      );
      return (mode === "docker" ? docker : native).up(opts);
    },
    async down(opts: BrokerOptions) {
      await native.down(opts);
      await docker.down(opts);
    },
    status: (opts: BrokerOptions) => (dockerStarted(opts.home, id) ? docker : native).status(opts),
  };
}

export const BROKERS: Record<BrokerId, Broker> = {
  rabbitmq: eitherMode("rabbitmq", nativeRabbitmq, dockerRabbitmq),
  kafka: eitherMode("kafka", nativeKafka, dockerKafka),
};
export { chooseMode, dockerEngineReachable } from "./mode.js";
export type { Broker, BrokerMode, BrokerOptions, BrokerStatus } from "./types.js";
export { isolatedBrokerEnv, useEnv } from "./isolated.js";
export { declareTopics, kafkaServes } from "./kafka.js";
export { rabbitServes, rabbitVersion } from "./rabbitmq.js";
export { KAFKA_VERSION } from "../../setup/kafka-install.js";
export { kafkaSettings, labCacheDir, rabbitmqChoice, rabbitSettings } from "./settings.js";
