import type { BrokerId } from "../parts.js";
import type { Broker } from "./types.js";
import { nativeRabbitmq } from "./rabbitmq.js";
import { nativeKafka } from "./kafka.js";

export const BROKERS: Record<BrokerId, Broker> = { rabbitmq: nativeRabbitmq, kafka: nativeKafka };
export type { Broker, BrokerMode, BrokerOptions, BrokerStatus } from "./types.js";
