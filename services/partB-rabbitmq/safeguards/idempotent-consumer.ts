// The idempotent consumer: inventory checks the message id against its processed ids in the same
// transaction as the stock. Without it, a redelivered OrderPlaced reserves again. Shown by the
// idempotency experiment (experiments/idempotency.ts) with one copy: stock 10 → 9 with it, 10 → 8 without.
import { safeguardOptions, safeguardRun, type SafeguardExperiment } from "../../harness/safeguards.js";
import { openPartBStack } from "../faults/stack.js";
import { labImplementation } from "../lab/implementation.js";
import { runExperiment } from "../../harness/experiment.js";
import { idempotency } from "../experiments/idempotency.js";
import { PARTB_SAFEGUARDS } from "../switches.js";

export const idempotentConsumer: SafeguardExperiment = {
  safeguard: "idempotent-consumer",
  part: "B",
  scenario: "one order placed (stock 10), then its very OrderPlaced delivered once more with the same message id",
  prevents: PARTB_SAFEGUARDS["idempotent-consumer"].prevents,
  async run(opts, on) {
    const stack = await openPartBStack(safeguardOptions(opts, "idempotent-consumer", on), "S-idempotent-consumer");
    try {
      const impl = labImplementation(stack.running, stack.lab);
      const { data: r } = await runExperiment(idempotency, impl, { copies: 1, onProgress: opts.log });
      const [before, , after] = r.steps;
      const taken = before.stock - after.stock;
      return safeguardRun(
        {
          copies: r.copies,
          stock_before: before.stock,
          stock_after: after.stock,
          // One order of one item: anything above 1 was taken again for a copy.
          reserved_twice: Math.max(0, taken - 1),
          duplicates_recognised: after.duplicates_ignored - before.duplicates_ignored,
          notifications: after.notifications_sent - before.notifications_sent,
        },
        ["reserved_twice"],
        `${r.sku} stock ${before.stock} → ${after.stock} for one order of one item and ${r.copies} redelivery; ` +
          `${after.duplicates_ignored - before.duplicates_ignored} copy recognised`,
      );
    } finally {
      await stack.release();
    }
  },
};
