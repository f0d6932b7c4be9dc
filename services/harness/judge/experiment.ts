// One experiment type for every lesson of every part, and one result envelope. An experiment
// drives an Implementation — the lab's own services (lab.yml) or a team's, through the same
// road — in named steps (place load, stop inventory, start it, wait…), then judges what the
// steps saw. A script runs the steps in a row (runExperiment); a notebook may run them one cell
// at a time (beginExperiment → runStep → finishExperiment). What the implementation cannot let
// the lab do is skipped with its reason (Capabilities, one place); a fault is an option of the
// experiment; a safeguard lesson is the same experiment run `without` that safeguard.
import type { TopLevelSpec } from "../show/plots.js";
import { summaryMarkdown, type Check } from "./check.js";
import type { Capabilities } from "./capabilities.js";
import type { PartId } from "../run/parts.js";
import { ResultFiles } from "../show/results.js";
import { markdownTable, toCsv, type Row } from "../../common/table.js";
import { targetLine, type Target, type TargetSummary } from "./target.js";
import { unlessNotObservable } from "./target-control.js";

/** What every part's driver is, whatever else it offers. */
export interface Implementation<C extends string = string> {
  readonly part: PartId;
  readonly target: Target;
  /** What a report names: the target and its endpoints (passwords hidden). */
  readonly summary: TargetSummary;
  readonly capabilities: Capabilities<C>;
  /** The safeguard its services run without (the lab's own only, started so), if any. */
  readonly without?: string;
}

/** What every experiment takes; each adds its own (rate, outage, fault…). */
export interface ExperimentOptions {
  /** Smaller and shorter: for CI and a first look. */
  quick?: boolean;
  /** One line per step and what it sees. */
  onProgress?: (line: string) => void;
}

/** A check the implementation could not be put to, and why. */
export interface Skipped {
  check: string;
  reason: string;
}

/** A run in progress: what each step reads and adds to. An experiment's own state extends it. */
export interface Run<I extends Implementation = Implementation, O extends ExperimentOptions = ExperimentOptions> {
  readonly impl: I;
  readonly opts: O;
  readonly started_at: string;
  /** Seconds since the run began (two decimals). */
  now(): number;
  progress(line: string): void;
  readonly skipped: Skipped[];
  /** `body`, unless the implementation cannot let it: then `check` is skipped with the reason. */
  unless<T>(check: string, body: () => Promise<T>): Promise<T | undefined>;
}

export interface Step<R> {
  name: string;
  run(r: R): Promise<void>;
}

/**
 * What the checker counted, Maelstrom-style: orders sent and acknowledged, where they ended, and
 * the anomalies a safeguard exists to keep at 0 (lost, done twice, counted wrong…), by name.
 */
export interface Tally {
  sent: number;
  acknowledged: number;
  final_states?: Record<string, number>;
  anomalies: Record<string, number>;
}

/** The anomalies of a tally, summed (0: none). */
export const anomalyCount = (t: Tally | undefined): number =>
  Object.values(t?.anomalies ?? {}).reduce((a, b) => a + b, 0);

/** What the judge makes of a run. */
export interface Judged<D> {
  params: Record<string, unknown>;
  checks: Check[];
  /** Beside the verdict, never part of it (e.g. the lab's own stricter contract). */
  notes?: Check[];
  figures: Record<string, string | number>;
  /** Where the experiment counts orders and anomalies (the fault campaign and the safeguards read it). */
  tally?: Tally;
  data: D;
}

export interface Experiment<I extends Implementation, O extends ExperimentOptions, R extends Run<I, O>, D> {
  name: string;
  part: PartId;
  title: string;
  /** What it shows, in one sentence. */
  lesson: string;
  /** Capabilities without which nothing of it can run. */
  needs: (I["capabilities"] extends Capabilities<infer C> ? C : string)[];
  /** The safeguards whose absence it shows (an implementation started `without` one of them). */
  safeguards: readonly string[];
  begin(run: Run<I, O>): R;
  steps: Step<R>[];
  /** After the steps, even when one threw: leave the implementation as it was found. */
  cleanup?(r: R): Promise<void>;
  judge(r: R): Judged<D>;
  /** Its files beside summary.json and summary.md: data (CSV) and plots. */
  files?(result: ExperimentResult<D>): { data?: Record<string, Row[]>; plots?: Record<string, TopLevelSpec> };
}

/** One envelope for every experiment's result, on disk as summary.json. */
export interface ExperimentResult<D = unknown> {
  experiment: string;
  part: PartId;
  title: string;
  target: TargetSummary;
  started_at: string;
  without?: string;
  params: Record<string, unknown>;
  verdict: "PASS" | "FAIL" | "NOT OBSERVABLE";
  passed: boolean;
  checks: Check[];
  notes: Check[];
  skipped: Skipped[];
  figures: Record<string, string | number>;
  tally?: Tally;
  data: D;
}

/** `body` with an implementation as `open` gives it, closed afterwards whatever happens (each part's withPartX). */
export async function withOpened<I extends { close(): Promise<void> }, T>(
  open: Promise<I>,
  body: (impl: I) => Promise<T>,
): Promise<T> {
  const impl = await open;
  try {
    return await body(impl);
  } finally {
    await impl.close();
  }
}

/** A run of `exp` on `impl`, before its first step (a notebook runs the steps one by one). */
export function beginExperiment<I extends Implementation, O extends ExperimentOptions, R extends Run<I, O>, D>(
  exp: Experiment<I, O, R, D>,
  impl: I,
  opts: O,
): R {
  if (impl.without !== undefined && !exp.safeguards.includes(impl.without))
    throw new Error(
      `${exp.name} does not show ${impl.without}${exp.safeguards.length ? `: it takes ${exp.safeguards.join(", ")}` : ": it shows no safeguard"}`,
    );
  const t0 = performance.now();
  const skipped: Skipped[] = [];
  const run: Run<I, O> = {
    impl,
    opts,
    started_at: new Date().toISOString(),
    now: () => Math.round((performance.now() - t0) / 10) / 100,
    progress: opts.onProgress ?? (() => {}),
    skipped,
    unless: (check, body) => unlessNotObservable(body, (reason) => skipped.push({ check, reason })),
  };
  return exp.begin(run);
}

/** One step of a run, by name. */
export async function runStep<R extends Run>(exp: { steps: Step<R>[] }, r: R, name: string): Promise<void> {
  const step = exp.steps.find((s) => s.name === name);
  if (!step) throw new Error(`no step "${name}": the steps are ${exp.steps.map((s) => s.name).join(", ")}`);
  r.progress(`${step.name}`);
  await step.run(r);
}

/** The verdict of a run whose steps are done. */
export function finishExperiment<I extends Implementation, O extends ExperimentOptions, R extends Run<I, O>, D>(
  exp: Experiment<I, O, R, D>,
  r: R,
): ExperimentResult<D> {
  const judged = exp.judge(r);
  const observed = judged.checks.length > 0;
  const passed = observed && judged.checks.every((c) => c.passed);
  return {
    experiment: exp.name,
    part: exp.part,
    title: exp.title,
    target: r.impl.summary,
    started_at: r.started_at,
    ...(r.impl.without !== undefined ? { without: r.impl.without } : {}),
    params: judged.params,
    verdict: !observed ? "NOT OBSERVABLE" : passed ? "PASS" : "FAIL",
    passed,
    checks: judged.checks,
    notes: judged.notes ?? [],
    skipped: r.skipped,
    figures: judged.figures,
    ...(judged.tally ? { tally: judged.tally } : {}),
    data: judged.data,
  };
}

/** The whole experiment: its needs, its steps in a row (then its cleanup, whatever happened) and its verdict. */
export async function runExperiment<I extends Implementation, O extends ExperimentOptions, R extends Run<I, O>, D>(
  exp: Experiment<I, O, R, D>,
  impl: I,
  opts: O,
): Promise<ExperimentResult<D>> {
  const r = beginExperiment(exp, impl, opts);
  const missing = exp.needs.filter((c) => !impl.capabilities.has(c));
  if (missing.length) {
    for (const c of missing) r.skipped.push({ check: exp.title, reason: impl.capabilities.reason(c)! });
    return {
      ...finishExperiment({ ...exp, judge: () => ({ params: {}, checks: [], figures: {}, data: {} as D }) }, r),
    };
  }
  try {
    for (const step of exp.steps) await runStep(exp, r, step.name);
  } finally {
    await exp.cleanup?.(r);
  }
  return finishExperiment(exp, r);
}

/**
 * A script's last line: whether the run showed what it should. A run `without` a safeguard should
 * FAIL (that is its anomaly); a run that could observe nothing judged nothing, and says why.
 */
export function experimentVerdict(r: ExperimentResult): { ok: boolean; line: string } {
  if (r.verdict === "NOT OBSERVABLE")
    return { ok: true, line: `not observable on ${r.target.name}: ${r.skipped.map((s) => s.reason).join("; ")}` };
  if (r.without)
    return r.verdict === "FAIL"
      ? { ok: true, line: `without ${r.without}: the checks above caught what the safeguard prevents` }
      : { ok: false, line: `without ${r.without} this run showed nothing the safeguard prevents (see above)` };
  if (r.verdict === "PASS") return { ok: true, line: "every check passed ✔" };
  return { ok: false, line: "the checker found something that did not behave as expected (see above)" };
}

/** summary.md: the title, the target, the figures, the verdict, what was not observable, the notes. */
export function experimentMarkdown(result: ExperimentResult): string {
  const figures = Object.entries(result.figures).map(([figure, value]) => ({ figure, value: String(value) }));
  const out = [
    summaryMarkdown(
      result.title + (result.without ? ` — without ${result.without}` : ""),
      [`Target: ${targetLine(result.target)}`, ...(figures.length ? [{ heading: "Figures", rows: figures }] : [])],
      result.checks,
    ),
  ];
  if (result.skipped.length)
    out.push("## Not observable on this target", "", markdownTable(result.skipped as unknown as Row[]), "");
  if (result.notes.length)
    out.push(
      "## Notes (not part of the verdict)",
      "",
      markdownTable(result.notes.map((c) => ({ verdict: c.passed ? "✔" : "✖", check: c.check, observed: c.observed }))),
      "",
    );
  return out.join("\n");
}

/** The result's folder: summary.json (the envelope), summary.md, and the experiment's data and plots. */
export async function writeExperiment<D>(
  exp: { files?: Experiment<Implementation, ExperimentOptions, Run, D>["files"] },
  result: ExperimentResult<D>,
  dir: string,
): Promise<string[]> {
  const out = new ResultFiles(dir);
  // A run that could observe nothing has no data to write or plot: its summary says why.
  const files = (result.verdict !== "NOT OBSERVABLE" && exp.files?.(result)) || {};
  for (const [name, rows] of Object.entries(files.data ?? {})) out.write(name, toCsv(rows));
  for (const [name, spec] of Object.entries(files.plots ?? {})) await out.plot(name, spec);
  out.write("summary.json", JSON.stringify(result, null, 2));
  out.write("summary.md", experimentMarkdown(result));
  return out.files;
}
