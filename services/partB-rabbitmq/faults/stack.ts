// A Part B scenario's stack of its own (harness/stack.ts), with one Part B rule on top: a run
// with the `durability` safeguard off declares the queues transient, and RabbitMQ refuses to
// declare a queue that exists the other way (PRECONDITION_FAILED). So such a run deletes the
// part's queues before its services start, and again when it is released, so the next run — with
// the safeguard on — declares them durable as always.
import amqp from "amqplib";
import { BROKERS } from "../../harness/brokers/index.js";
import { openStack, type Stack } from "../../harness/stack.js";
import type { ScenarioOptions } from "../../harness/verdict.js";
import { allQueueNames } from "../topology.js";

const durabilityOff = (opts: ScenarioOptions): boolean =>
  (opts.without ?? "")
    .split(",")
    .map((s) => s.trim())
    .includes("durability");

/** Part B's stack for a scenario: `openStack`, and the queues deleted around a run without `durability`. */
export async function openPartBStack(
  opts: ScenarioOptions,
  scenario: string,
  env: Record<string, string> = {},
): Promise<Stack> {
  if (!durabilityOff(opts)) return openStack("partB", opts, scenario, env);
  await deletePartBQueues(opts);
  const stack = await openStack("partB", opts, scenario, env);
  return {
    ...stack,
    release: async () => {
      try {
        await stack.release();
      } finally {
        await deletePartBQueues(opts);
      }
    },
  };
}

/** Every Part B queue (work and dead-letter) deleted on the scenario's broker, started if it is not. */
async function deletePartBQueues(opts: ScenarioOptions): Promise<void> {
  const status = await BROKERS.rabbitmq.up({ home: opts.home, mode: "native" });
  const url = status.env?.AMQP_URL;
  if (!url) throw new Error("rabbitmq: no AMQP_URL for the scenario's broker");
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    for (const q of allQueueNames()) await ch.deleteQueue(q);
    opts.log(`durability off: Part B's queues deleted, declared transient by this run only, durable again by the next`);
  } finally {
    await conn.close();
  }
}
