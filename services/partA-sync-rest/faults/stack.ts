// Part A on a stack of its own, for a fault scenario or a safeguard's experiment: the lab's own
// services through the one driver, on free ports, with a fresh data folder, inventory's failures
// drawn from the run's seed, and the safeguard the run switches off (`opts.without`).
// `impl.close()` stops them.
import path from "node:path";
import type { Answer } from "../../harness/implementation.js";
import { freePortsFor } from "../../harness/ports.js";
import { LAB_TARGET_FILE, loadTarget } from "../../harness/target.js";
import type { ScenarioOptions } from "../../harness/verdict.js";
import { openPartA, type OrderAnswerBody, type PartAImplementation } from "../lab/implementation.js";

export async function openPartAStack(
  opts: ScenarioOptions,
  scenario: string,
  env: Record<string, string> = {},
): Promise<PartAImplementation> {
  return openPartA(loadTarget(LAB_TARGET_FILE), {
    home: opts.home,
    ports: await freePortsFor("partA"),
    mode: "native",
    healthTimeoutMs: 60_000,
    log: opts.log,
    without: opts.without,
    env: {
      DATA_DIR: path.join(opts.home, "data", `${scenario}-${Date.now()}`),
      RESULTS_DIR: path.join(opts.home, "results"),
      FAIL_SEED: String(opts.seed),
      ...env,
    },
  });
}

/** `count` orders placed at once; each answer with its status (0: none) and the client's wait. */
export const burst = (impl: PartAImplementation, count: number, label: string): Promise<Answer<OrderAnswerBody>[]> =>
  Promise.all(Array.from({ length: count }, (_, i) => impl.placeOrder({ order: `${label} #${i}` })));
