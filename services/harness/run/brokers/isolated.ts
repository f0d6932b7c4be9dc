// Brokers of a test's own, beside the ones a student (or another test) has up: a temporary
// LAB_HOME and free ports for everything a broker listens on. The broker code reads these from
// the environment when called, so a test sets them, runs the lab, and puts the old ones back.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../ports.js";

export async function isolatedBrokerEnv(label = "test"): Promise<Record<string, string>> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), `campusfood-${label}-`));
  const [amqp, management, distribution, epmd, kafka, controller] = await distinctFreePorts(6);
  return {
    LAB_HOME: home,
    RABBITMQ_PORT: String(amqp),
    RABBITMQ_MANAGEMENT_PORT: String(management),
    RABBITMQ_DIST_PORT: String(distribution),
    ERL_EPMD_PORT: String(epmd),
    RABBITMQ_NODENAME: `campusfood-${label}-${amqp}@localhost`,
    KAFKA_PORT: String(kafka),
    KAFKA_CONTROLLER_PORT: String(controller),
  };
}

async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/** Set env vars for this process; returns a function that restores the previous values. */
export function useEnv(env: Record<string, string>): () => void {
  const before = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  return () => {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
