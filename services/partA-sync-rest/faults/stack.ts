// Part A on a stack of its own, for a fault scenario or a safeguard's experiment: its three
// services on free ports, inventory's failures drawn from the run's seed, and SAFEGUARDS_OFF when
// the run switches a safeguard off (`opts.without`). `stack.release()` stops them.
import type { Answer } from "../../harness/implementation.js";
import { openStack, type Stack } from "../../harness/stack.js";
import type { ScenarioOptions } from "../../harness/verdict.js";
import { labImplementation, type OrderAnswerBody, type PartAImplementation } from "../lab/implementation.js";

export async function openPartA(
  opts: ScenarioOptions,
  scenario: string,
  env: Record<string, string> = {},
): Promise<{ stack: Stack; impl: PartAImplementation }> {
  const stack = await openStack("partA", opts, scenario, { FAIL_SEED: String(opts.seed), ...env });
  return { stack, impl: labImplementation(stack.running, stack.lab) };
}

/** `count` orders placed at once; each answer with its status (0: none) and the client's wait. */
export const burst = (impl: PartAImplementation, count: number, label: string): Promise<Answer<OrderAnswerBody>[]> =>
  Promise.all(Array.from({ length: count }, (_, i) => impl.placeOrder({ order: `${label} #${i}` })));
