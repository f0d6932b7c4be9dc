// Part B's lessons, one experiment each, and the one way a script or a notebook runs one: on the
// target's Part B (the lab's own started if need be, and only what was started stopped), its
// result written to results/partB/<experiment>/ (a team's: results/targets/<name>/partB/…).
import path from "node:path";
import {
  runExperiment,
  writeExperiment,
  type Experiment,
  type ExperimentOptions,
  type ExperimentResult,
  type Run,
} from "../../harness/experiment.js";
import { targetResultsDir, type Target } from "../../harness/target.js";
import { withPartB, type PartB, type PartBOptions } from "../lab/implementation.js";
import { backlog } from "./backlog.js";
import { batching } from "./batching.js";
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
