// A broker the lab can bring up and down, natively or with Docker, behind one interface.
import type { BrokerId } from "../parts.js";

export type BrokerMode = "docker" | "native";

/**
 * Ports and other settings are read from the environment when called (RABBITMQ_PORT,
 * KAFKA_PORT, ...), so a test can run its own broker beside the one a student has up by
 * setting them together with LAB_HOME.
 */
export interface BrokerOptions {
  home: string;
  /** Forced mode; chosen automatically when absent. */
  mode?: BrokerMode;
  log?: (line: string) => void;
}

export interface BrokerStatus {
  id: BrokerId;
  running: boolean;
  mode?: BrokerMode;
  pid?: number;
  /** Where clients connect, e.g. amqp://guest:guest@127.0.0.1:5672 or 127.0.0.1:9092. */
  endpoint?: string;
  ports?: Record<string, number>;
  log?: string;
  detail?: string;
  /** Env vars a service needs to reach this broker (AMQP_URL, KAFKA_BROKERS, ...). */
  env?: Record<string, string>;
}

export interface Broker {
  id: BrokerId;
  /** Start if not running, wait until it really serves, declare what the lab needs. Idempotent. */
  up(opts: BrokerOptions): Promise<BrokerStatus>;
  /** Stop it if the lab started it; never touch a broker the lab did not start. */
  down(opts: BrokerOptions): Promise<void>;
  status(opts: BrokerOptions): Promise<BrokerStatus>;
}
