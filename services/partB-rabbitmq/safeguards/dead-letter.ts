// Dead-lettering of poison. Without it inventory rejects a message it cannot read WITH requeue:
// RabbitMQ puts it back at the head of the queue and hands it over again, and again. The two
// poison messages of the DLQ experiment (experiments/dead-letter.ts) are published first, then good orders; the
// run ends at a stated bound, and a good order not final by then counts as delayed. Inventory
// takes one message at a time here (PREFETCH=1, BATCH_MAX=1, the RabbitMQ tutorial's fair
// dispatch), the same on both sides: with 100 in hand and batches of 64, the loop shares the
// consumer with the good orders instead of holding them all back.
import { safeguardOptions, safeguardRun, type SafeguardExperiment } from "../../harness/safeguards.js";
import { placeAll, plannedOrders, stockFor, waitAllFinal } from "../faults/effects.js";
import { openPartBStack } from "../faults/stack.js";
import { labImplementation } from "../lab/implementation.js";
import { poisonMessages } from "../experiments/dead-letter.js";
import { EXCHANGES, QUEUES, ROUTING_KEYS } from "../topology.js";
import { PARTB_SAFEGUARDS } from "../switches.js";

export const deadLetter: SafeguardExperiment = {
  safeguard: "dead-letter",
  part: "B",
  scenario:
    "two poison messages, then good orders, on an inventory taking one message at a time; stopped at a bound (15 s quick, 60 s full)",
  prevents: PARTB_SAFEGUARDS["dead-letter"].prevents,
  async run(opts, on) {
    const boundS = opts.quick ? 15 : 60;
    const n = opts.quick ? 20 : 200;
    const stack = await openPartBStack(safeguardOptions(opts, "dead-letter", on), "S-dead-letter", {
      PREFETCH: "1",
      BATCH_MAX: "1",
    });
    const impl = labImplementation(stack.running, stack.lab);
    const probe = await impl.probe();
    try {
      const plan = plannedOrders(opts.seed, n, "u-poison");
      await stockFor(impl, plan);
      const dlq = QUEUES.orderPlaced.deadLetter.queue;
      const dlqBefore = (await probe.queue(dlq)).messages; // the broker is shared by the runs: count this one's
      const poison = poisonMessages();
      for (const p of poison)
        await probe.publish(EXCHANGES.orders, ROUTING_KEYS.orderPlaced, p.body, { messageId: p.message_id });
      const t0 = Date.now();
      const acked = (await placeAll(impl, plan)).filter((p) => p.status === 202 && p.order_id);
      const records = await waitAllFinal(
        impl,
        acked.map((a) => a.order_id!),
        boundS * 1000,
        boundS * 1000,
      );
      const elapsedS = (Date.now() - t0) / 1000;
      const final = [...records.values()].filter((r) => r?.status === "CONFIRMED" || r?.status === "FAILED").length;
      const delayed = acked.length - final;
      const inDlq = (await probe.queue(dlq)).messages - dlqBefore;
      opts.log(
        `${final}/${acked.length} good orders final ${delayed ? `at the bound (${boundS} s)` : `after ${elapsedS.toFixed(1)} s`}; ${inDlq} poison in the DLQ`,
      );
      return safeguardRun(
        {
          good_orders: acked.length,
          final_within_bound: final,
          delayed,
          bound_s: boundS,
          poison_published: poison.length,
          poison_dead_lettered: inDlq,
        },
        ["delayed"],
        delayed
          ? `${delayed} of ${acked.length} good orders still not final after ${boundS} s behind the requeued poison; ${inDlq} poison dead-lettered`
          : `all ${acked.length} good orders final within ${elapsedS.toFixed(1)} s; ${inDlq} poison dead-lettered`,
      );
    } finally {
      await stack.release();
      // Poison requeued forever would greet the next run's inventory: out of the queue.
      await probe.purge(QUEUES.orderPlaced.name).catch(() => 0);
      await probe.close();
    }
  },
};
