// Part A · call-timeout. Inventory answers twice as late as the order's deadline. With the
// per-call timeout and the deadline, every order is answered (504) within the deadline; without
// them, the client waits as long as inventory takes.
import { safeguardRun, type SafeguardExperiment, type SafeguardRun } from "../../harness/safeguards.js";
import type { Answer } from "../../harness/implementation.js";
import { burst } from "../faults/stack.js";
import { PARTA_SAFEGUARDS } from "../switches.js";
import { onPartA, secs, waits } from "./on-part-a.js";

const NAME = "call-timeout";
/** A short policy keeps the run short: 1 s per attempt, 2 s per order (published in /health). */
const POLICY = { INVENTORY_TIMEOUT_MS: "1000", ORDER_DEADLINE_MS: "2000" };
/** The same slack the fault campaign allows past the deadline. */
export const DEADLINE_SLACK_MS = 500;

/** The checker: orders answered after the deadline (+ slack), or not at all. */
export function countPastDeadline(answers: Answer[], deadlineMs: number): SafeguardRun {
  const bound = deadlineMs + DEADLINE_SLACK_MS;
  const counts = {
    orders: answers.length,
    bound_ms: bound,
    answered_past_deadline: answers.filter((a) => a.status !== 0 && a.ms > bound).length,
    no_answer: answers.filter((a) => a.status === 0).length,
    confirmed: answers.filter((a) => a.status === 200).length,
    timed_out_504: answers.filter((a) => a.status === 504).length,
    ...waits(answers),
  };
  return safeguardRun(
    counts,
    ["answered_past_deadline", "no_answer"],
    `${counts.answered_past_deadline + counts.no_answer} of ${counts.orders} orders not answered within the ${secs(deadlineMs)} deadline (+${secs(DEADLINE_SLACK_MS)}); the client waited up to ${secs(counts.wait_max_ms)}`,
  );
}

export const callTimeout: SafeguardExperiment = {
  safeguard: NAME,
  part: "A",
  scenario: `orders at once while inventory answers after twice the order deadline (order service: ${POLICY.INVENTORY_TIMEOUT_MS} ms per attempt, ${POLICY.ORDER_DEADLINE_MS} ms per order)`,
  prevents: PARTA_SAFEGUARDS[NAME].prevents,
  run: (opts, on) =>
    onPartA(opts, NAME, on, POLICY, async (impl) => {
      const { deadline_ms } = await impl.policy();
      await impl.faults.inventoryDelay((2 * deadline_ms) / 1000);
      const answers = await burst(impl, opts.quick ? 4 : 16, "call-timeout");
      return countPastDeadline(answers, deadline_ms);
    }),
};
