// Part C's fault scenarios and safeguards, one catalogue: each is an experiment run with a fault
// (on opts.target, lab.yml when absent, opened `without` a safeguard where asked), and each
// safeguard names the experiment that shows what it prevents.
import { runExperiment, type Experiment, type ExperimentOptions } from "../../harness/judge/experiment.js";
import type { ExperimentResult, Run } from "../../harness/judge/experiment.js";
import { experimentSafeguard, type SafeguardExperiment } from "../../harness/judge/safeguards.js";
import { experimentScenario, type FaultScenario, type ScenarioOptions } from "../../harness/judge/verdict.js";
import { openPartCFor, type PartC } from "../lab/implementation.js";
import { PARTC_SAFEGUARDS } from "../switches.js";
import { badInputExperiment } from "./bad-input.js";
import { brokerRestartExperiment } from "./broker-restart.js";
import { lagExperiment } from "./lag.js";
import { HISTORY_MINUTES } from "./history.js";
import { lostAckEnv, lostAckExperiment } from "./lost-ack.js";
import { replayExperiment } from "./replay.js";
import { seededEnv, type SeededOptions } from "./seeded.js";

/** `exp` on Part C opened for the scenario `name` (the lab's own: services with `env`, on a stack of their own), closed afterwards. */
async function onPartC<O extends ExperimentOptions, R extends Run<PartC, O>, D>(
  name: string,
  exp: Experiment<PartC, O, R, D>,
  opts: ScenarioOptions,
  expOpts: Omit<O, "quick" | "onProgress">,
  env: Record<string, string> = {},
): Promise<ExperimentResult<D>> {
  const impl = await openPartCFor(opts, name, env);
  try {
    return await runExperiment(exp, impl, { ...expOpts, quick: opts.quick, onProgress: opts.log } as O);
  } finally {
    await impl.close();
  }
}

/** A fault experiment whose failures the seed decides. */
const seeded =
  <R extends Run<PartC, SeededOptions>, D>(name: string, exp: Experiment<PartC, SeededOptions, R, D>) =>
  (opts: ScenarioOptions, env: Record<string, string> = seededEnv(opts.seed)) =>
    onPartC(name, exp, opts, { seed: opts.seed }, env);

/** The lag experiment with inventory killed mid-drain, between an answer and its commit. */
const consumerCrash = (opts: ScenarioOptions) =>
  onPartC("C-consumer-crash", lagExperiment, opts, { count: opts.quick ? 4000 : 20_000, throttleMs: 2, kill: true });
/** The replay experiment with copies of many orders: counted once, live and in a replay. */
const duplicates = (opts: ScenarioOptions) =>
  onPartC("C-duplicates", replayExperiment, opts, { seedCount: 0, duplicates: opts.quick ? 50 : 500 });

export const PARTC_SCENARIOS: Record<string, FaultScenario> = {
  "C-consumer-crash": experimentScenario("C-consumer-crash", "C", ["commit-after-ack"], consumerCrash),
  "C-broker-restart": experimentScenario(
    "C-broker-restart",
    "C",
    [],
    seeded("C-broker-restart", brokerRestartExperiment),
  ),
  "C-bad-input": experimentScenario("C-bad-input", "C", [], seeded("C-bad-input", badInputExperiment)),
  "C-duplicates": experimentScenario("C-duplicates", "C", ["dedupe"], duplicates),
};

/** A day-old history read by analytics, then replayed (in another minute, unless quick). */
const eventTimeReplay = (opts: ScenarioOptions) =>
  onPartC("event-time", replayExperiment, opts, {
    history: opts.quick ? 300 : 3000,
    seedCount: 0,
    duplicates: 0,
    replayInAnotherMinute: !opts.quick,
  });

const prevents = (name: keyof typeof PARTC_SAFEGUARDS) => PARTC_SAFEGUARDS[name].prevents;

export const PARTC_SAFEGUARD_EXPERIMENTS: SafeguardExperiment[] = [
  experimentSafeguard({
    safeguard: "commit-after-ack",
    part: "C",
    scenario:
      "C-consumer-crash: a load test; inventory killed (kill -9) while its answers and its committed offsets disagree, then restarted",
    prevents: prevents("commit-after-ack"),
    faultScenario: "C-consumer-crash",
    run: consumerCrash,
  }),
  experimentSafeguard({
    safeguard: "dedupe",
    part: "C",
    scenario: "C-duplicates: every OrderPlaced appended twice and every answer once more, then the log replayed",
    prevents: prevents("dedupe"),
    faultScenario: "C-duplicates",
    run: duplicates,
  }),
  experimentSafeguard({
    safeguard: "event-time",
    part: "C",
    scenario: `a log holding orders placed a day ago over ${HISTORY_MINUTES} minutes, read by analytics, then replayed`,
    prevents: prevents("event-time"),
    run: eventTimeReplay,
  }),
  experimentSafeguard({
    safeguard: "idempotent-producer",
    part: "C",
    scenario:
      "orders at a steady rate while the broker is frozen (SIGSTOP) for 4 s, longer than the producer's request timeout, so its sends are retried",
    prevents: prevents("idempotent-producer"),
    run: (opts) => seeded("idem", lostAckExperiment)(opts, lostAckEnv),
  }),
];
