import type { BrokerId } from "../parts.js";
import type { Broker } from "./types.js";
import { nativeRabbitmq } from "./rabbitmq.js";

const notYet = (id: BrokerId): Broker => ({
  id,
  up: async () => {
    throw new Error(`${id}: broker support is not built yet`);
  },
  down: async () => {},
  status: async () => ({ id, running: false, detail: "broker support is not built yet" }),
});

export const BROKERS: Record<BrokerId, Broker> = { rabbitmq: nativeRabbitmq, kafka: notYet("kafka") };
export type { Broker, BrokerMode, BrokerOptions, BrokerStatus } from "./types.js";
