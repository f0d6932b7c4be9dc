// Part B's lessons, one experiment each, and the one way a script or a notebook runs one: on the
// target's Part B (the lab's own started if need be, and only what was started stopped), its
// result written to results/partB/<experiment>/ (a team's: results/targets/<name>/partB/…).
// Then Part B's catalogue: each fault scenario is one of these experiments run with a fault, and
// each safeguard's lesson the experiment that needs it, run without it.
import path from "node:path";
import {
  runExperiment,
  writeExperiment,
  type Experiment,
  type ExperimentOptions,
  type ExperimentResult,
  type Run,
} from "../../harness/experiment.js";
import { experimentSafeguard, type SafeguardExperiment } from "../../harness/safeguards.js";
import { stackOptions } from "../../harness/stack.js";
import { LAB_TARGET_FILE, loadTarget, targetResultsDir, type Target } from "../../harness/target.js";
import { experimentScenario, type FaultScenario, type ScenarioOptions } from "../../harness/verdict.js";
import { PARTB_SAFEGUARDS, type PartBSafeguard } from "../switches.js";
import { withPartB, type PartB, type PartBOptions } from "../lab/implementation.js";
import { backlog } from "./backlog.js";
import { batching } from "./batching.js";
import { brokerRestart } from "./broker-restart.js";
import { deadLetter } from "./dead-letter.js";
import { idempotency } from "./idempotency.js";

export const PARTB_EXPERIMENTS = { backlog, idempotency, dlq: deadLetter, batching } as const;

/** `exp` on the target's Part B (started `without` a safeguard, for the lab's own, if asked), its result written. */
export async function runPartB<O extends ExperimentOptions, R extends Run<PartB, O>, D>(
  exp: Experiment<PartB, O, R, D>,
  target: Target,
  opts: O & PartBOptions,
): Promise<{ result: ExperimentResult<D>; files: string[] }> {
  const result = await withPartB(target, opts, (impl) => runExperiment(exp, impl, opts));
  const files = await writeExperiment(exp, result, path.join(targetResultsDir(target, "partB"), exp.name));
  return { result, files };
}

/** A script's last line: whether the run showed what it should (a run `without` a safeguard: its anomaly). */
export function partBVerdict(r: ExperimentResult): { ok: boolean; line: string } {
  if (r.without)
    return r.verdict === "FAIL"
      ? { ok: true, line: `without ${r.without}: the checks above caught what the safeguard prevents` }
      : { ok: false, line: `without ${r.without} this run showed nothing the safeguard prevents (see above)` };
  if (r.verdict === "PASS") return { ok: true, line: "every check passed ✔" };
  if (r.verdict === "NOT OBSERVABLE")
    return { ok: false, line: `not observable on ${r.target.name}: ${r.skipped.map((s) => s.reason).join("; ")}` };
  return { ok: false, line: "the checker found something that did not behave as expected (see above)" };
}

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
