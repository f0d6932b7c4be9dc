// Part B's lessons, one experiment each, and Part B's catalogue: each fault scenario is one of
// these experiments run with a fault, and each safeguard's lesson the experiment that needs it,
// run without it.
import {
  runExperiment,
  type Experiment,
  type ExperimentOptions,
  type ExperimentResult,
  type Run,
} from "../../harness/judge/experiment.js";
import { experimentSafeguard, type SafeguardExperiment } from "../../harness/judge/safeguards.js";
import { stackOptions } from "../../harness/run/stack.js";
import { LAB_TARGET_FILE, loadTarget } from "../../harness/judge/target.js";
import { experimentScenario, type FaultScenario, type ScenarioOptions } from "../../harness/judge/verdict.js";
import { PARTB_SAFEGUARDS, type PartBSafeguard } from "../switches.js";
import { withPartB, type PartB } from "../lab/implementation.js";
import { backlog } from "./backlog.js";
import { batching } from "./batching.js";
import { brokerRestart } from "./broker-restart.js";
import { deadLetter } from "./dead-letter.js";
import { idempotency } from "./idempotency.js";

export const PARTB_EXPERIMENTS = { backlog, idempotency, dlq: deadLetter, batching } as const;

/**
 * `exp` for a fault scenario or a safeguard: on opts.target (the lab's own, lab.yml, when absent:
 * a stack of its own on the campaign's broker, started without opts.without if asked).
 */
async function onScenarioPartB<O extends ExperimentOptions, R extends Run<PartB, O>, D>(
  scenario: string,
  exp: Experiment<PartB, O, R, D>,
  opts: ScenarioOptions,
  expOpts: O,
): Promise<ExperimentResult<D>> {
  const target = opts.target ?? loadTarget(LAB_TARGET_FILE);
  const lab = { ...(await stackOptions("partB", opts, scenario)), without: opts.without };
  return withPartB(target, lab, (impl) => runExperiment(exp, impl, { ...expOpts, onProgress: opts.log }));
}

/** Inventory killed (kill -9) while slowed with a batch in hand, orders coming all along. */
const consumerCrash = (opts: ScenarioOptions) =>
  onScenarioPartB("B-consumer-crash", backlog, opts, {
    ...(opts.quick
      ? { rate: 25, warmupSeconds: 3, outageSeconds: 3 }
      : { rate: 50, warmupSeconds: 5, outageSeconds: 20 }),
    afterSeconds: opts.quick ? 2 : 10,
    stop: "kill",
    inventoryDelaySeconds: 2,
    drainTimeoutMs: opts.quick ? 30_000 : 120_000,
  });

/** The broker stopped and started again on the same data, orders coming all along. */
const restart = (opts: ScenarioOptions) =>
  onScenarioPartB(
    "B-broker-restart",
    brokerRestart,
    opts,
    opts.quick
      ? { rate: 25, warmupSeconds: 2, outageSeconds: 3, afterSeconds: 3 }
      : { rate: 50, warmupSeconds: 5, outageSeconds: 15, afterSeconds: 10 },
  );

/** Poison and generated bodies on OrderPlaced's route, generated requests on the order service. */
const badInput = (opts: ScenarioOptions) =>
  onScenarioPartB("B-bad-input", deadLetter, opts, {
    hostile: opts.quick ? 30 : 200,
    fuzzRuns: opts.quick ? 40 : 300,
    seed: opts.seed,
  });

/** Each OrderPlaced of an order delivered again, several copies at once. */
const duplicates = (opts: ScenarioOptions) =>
  onScenarioPartB("B-duplicates", idempotency, opts, { copies: opts.quick ? 2 : 10 });

type ScenarioRun = (opts: ScenarioOptions) => Promise<ExperimentResult>;

/** Each scenario, and the safeguards its checker depends on, each with what the run shows it by. */
const CATALOGUE: Record<string, { run: ScenarioRun; shows: Partial<Record<PartBSafeguard, string>> }> = {
  "B-consumer-crash": {
    run: consumerCrash,
    shows: { "manual-ack": "inventory killed (kill -9) with a batch in hand, orders coming all along" },
  },
  "B-broker-restart": {
    run: restart,
    shows: {
      confirms: "orders at a fixed rate while RabbitMQ is stopped and started again",
      durability: "RabbitMQ restarted while accepted orders wait in its queues",
    },
  },
  "B-bad-input": {
    run: badInput,
    shows: { "dead-letter": "poison and generated bodies on OrderPlaced's route, then a good order" },
  },
  "B-duplicates": {
    run: duplicates,
    shows: { "idempotent-consumer": "an order's very OrderPlaced delivered again, same message id" },
  },
};

const shown = (shows: Partial<Record<PartBSafeguard, string>>) => Object.keys(shows) as PartBSafeguard[];

export const PARTB_SCENARIOS: Record<string, FaultScenario> = Object.fromEntries(
  Object.entries(CATALOGUE).map(([name, s]) => [name, experimentScenario(name, "B", shown(s.shows), s.run)]),
);

/** Each safeguard's lesson: its scenario run with it, and without it (so that run is the campaign's proof too). */
export const PARTB_SAFEGUARD_EXPERIMENTS: SafeguardExperiment[] = Object.entries(CATALOGUE).flatMap(([name, s]) =>
  shown(s.shows).map((safeguard) =>
    experimentSafeguard({
      safeguard,
      part: "B",
      scenario: `${name}: ${s.shows[safeguard]}`,
      prevents: PARTB_SAFEGUARDS[safeguard].prevents,
      faultScenario: name,
      run: s.run,
    }),
  ),
);
