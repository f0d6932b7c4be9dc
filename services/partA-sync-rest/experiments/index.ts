// Part A's fault scenarios and safeguards, each an experiment with its options: the slow and
// failing inventory is the slow-dependency experiment over the campaign's grid; each safeguard is
// the same experiment on the one burst that shows it, with and `without` it; hostile input is the
// bad-input experiment. Each runs on Part A opened from the run's target (the lab's own: lab.yml,
// on free ports, a fresh data folder, inventory's failures drawn from the seed).
import path from "node:path";
import {
  runExperiment,
  type Experiment,
  type ExperimentOptions,
  type ExperimentResult,
  type Run,
} from "../../harness/judge/experiment.js";
import { freePortsFor } from "../../harness/run/ports.js";
import { experimentSafeguard, type SafeguardExperiment } from "../../harness/judge/safeguards.js";
import { LAB_TARGET_FILE, loadTarget } from "../../harness/judge/target.js";
import { experimentScenario, type FaultScenario, type ScenarioOptions } from "../../harness/judge/verdict.js";
import { withPartA, type PartAImplementation } from "../lab/implementation.js";
import { PARTA_SAFEGUARDS, type PartASafeguard } from "../switches.js";
import { badInput } from "./bad-input.js";
import { slowDependency, type Burst, type SlowDependencyData } from "./slow-dependency.js";

/** `exp` on Part A of the run's target, the order service started with `env` (the lab's own only), closed afterwards. */
async function onPartA<O extends ExperimentOptions, R extends Run<PartAImplementation, O>, D>(
  opts: ScenarioOptions,
  label: string,
  env: Record<string, string>,
  exp: Experiment<PartAImplementation, O, R, D>,
  expOpts: Omit<O, keyof ExperimentOptions>,
): Promise<ExperimentResult<D>> {
  const lab = {
    home: opts.home,
    ports: await freePortsFor("partA"),
    mode: "native" as const,
    healthTimeoutMs: 60_000,
    log: opts.log,
    without: opts.without,
    env: {
      DATA_DIR: path.join(opts.home, "data", `${label}-${Date.now()}`),
      RESULTS_DIR: path.join(opts.home, "results"),
      FAIL_SEED: String(opts.seed),
      ...env,
    },
  };
  return withPartA(opts.target ?? loadTarget(LAB_TARGET_FILE), lab, (impl) =>
    runExperiment(exp, impl, { quick: opts.quick, onProgress: opts.log, ...expOpts } as O),
  );
}

/** What the campaign starts the order service with; the checks read the policy it then declares. */
const CAMPAIGN_POLICY = { MAX_IN_FLIGHT: "32", ORDER_DEADLINE_MS: "6000" };

/** Each safeguard: the order service's policy, the burst that shows it, and what it is. */
const SHOWN_BY: Record<
  PartASafeguard,
  { env: Record<string, string>; burst: (quick: boolean) => Burst; scenario: string }
> = {
  "idempotency-key": {
    env: {},
    burst: (quick) => ({ delay_s: 0, fail_after_reserve_rate: 0.5, orders: quick ? 20 : 200 }),
    scenario:
      "a burst of orders while inventory reserves and then answers 50 % of new reservations with a 500; the order service retries",
  },
  "call-timeout": {
    // A short policy keeps the run short: 1 s per attempt, 2 s per order; inventory takes twice that.
    env: { INVENTORY_TIMEOUT_MS: "1000", ORDER_DEADLINE_MS: "2000" },
    burst: (quick) => ({ delay_s: 4, orders: quick ? 4 : 16 }),
    scenario:
      "orders at once while inventory answers after twice the order deadline (order service: 1000 ms per attempt, 2000 ms per order)",
  },
  "no-retry-on-timeout": {
    // 0.5 s per attempt and short backoffs keep all 1 + 2 attempts inside the 6 s deadline.
    env: { INVENTORY_TIMEOUT_MS: "500", BACKOFF_BASE_MS: "100" },
    burst: (quick) => ({ delay_s: 2, orders: quick ? 4 : 16 }),
    scenario: "orders at once while inventory takes 2 s, longer than the 500 ms per-call timeout",
  },
  "in-flight-limit": {
    env: { MAX_IN_FLIGHT: "32" },
    // The full run's burst is kept under the listen backlog (Node's 511): a burst of 1000 at once
    // had connections wait for SYN retransmits (1 s, 3 s, 7 s) before the service saw them, and
    // with the limit on, 559 of the refusals reached the client after the deadline — the
    // kernel's queue, not the service's.
    burst: (quick) => ({ delay_s: 2, orders: quick ? 200 : 400 }),
    scenario: "a burst of many times MAX_IN_FLIGHT=32 orders at once while inventory takes 2 s",
  },
};

/** A safeguard's experiment, with it on or (opts.without) off: its result, for the catalogue and the tests. */
export function runPartASafeguard(
  name: PartASafeguard,
  opts: ScenarioOptions,
): Promise<ExperimentResult<SlowDependencyData>> {
  const s = SHOWN_BY[name];
  return onPartA(opts, `safeguard-${name}`, s.env, slowDependency, { bursts: [s.burst(opts.quick)] });
}

export const PARTA_SCENARIOS: Record<string, FaultScenario> = {
  "A-slow-failing-dependency": experimentScenario(
    "A-slow-failing-dependency",
    "A",
    Object.keys(PARTA_SAFEGUARDS),
    (opts) => onPartA(opts, "A-slow-failing-dependency", CAMPAIGN_POLICY, slowDependency, {}),
  ),
  "A-bad-input": experimentScenario("A-bad-input", "A", [], (opts) =>
    onPartA(opts, "A-bad-input", CAMPAIGN_POLICY, badInput, { seed: opts.seed }),
  ),
};

export const PARTA_SAFEGUARD_EXPERIMENTS: SafeguardExperiment[] = (Object.keys(SHOWN_BY) as PartASafeguard[]).map(
  (name) =>
    experimentSafeguard({
      safeguard: name,
      part: "A",
      scenario: SHOWN_BY[name].scenario,
      prevents: PARTA_SAFEGUARDS[name].prevents,
      run: (opts) => runPartASafeguard(name, opts),
    }),
);
