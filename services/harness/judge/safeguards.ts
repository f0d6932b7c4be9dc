// One protocol for "what if we didn't…": a safeguard's scenario runs twice on the real brokers,
// WITH the safeguard and WITHOUT it (SAFEGUARDS_OFF=<name> for the part's services), and the
// same checker counts the anomalies of both runs — orders lost, effects done twice, metrics
// wrong. With it: 0. Without it: the anomaly, counted. A run without it that shows nothing is
// a finding, reported with its reason, never hidden.
import fs from "node:fs";
import path from "node:path";
import { readJsonResults, resultsDir, writeJsonResult } from "../../common/paths.js";
import { markdownTable } from "../../common/table.js";
import { renderSvg, specBase, type TopLevelSpec } from "../show/plots.js";
import type { ScenarioOptions } from "./verdict.js";
import { anomalyCount, type ExperimentResult } from "./experiment.js";

/** What the checker counted in one run. */
export interface SafeguardRun {
  /** Orders lost + effects done twice + metrics wrong: what the safeguard exists to keep at 0. */
  anomalies: number;
  /** The checker's counts (sent, acknowledged, lost, reserved twice…), by name. */
  counts: Record<string, number>;
  /** PASS: no anomaly. */
  verdict: "PASS" | "FAIL";
  /** One sentence: what the checker saw. */
  observed: string;
  /** The run did not finish (its counts are then empty): why. */
  error?: string;
}

/** A safeguard's experiment: the scenario that shows what it prevents, run with it on or off. */
export interface SafeguardExperiment {
  /** The switch's name, as SAFEGUARDS_OFF takes it. */
  safeguard: string;
  part: "A" | "B" | "C";
  /** What the scenario does, in one sentence. */
  scenario: string;
  /** The failure it prevents, in one sentence. */
  prevents: string;
  /** The fault scenario it runs, when it is one (its run without the safeguard is the campaign's proof too). */
  faultScenario?: string;
  /** One run on stacks of its own: `on` false starts the part's services with SAFEGUARDS_OFF=<safeguard>. */
  run(opts: ScenarioOptions, on: boolean): Promise<SafeguardRun>;
}

export interface SafeguardResult {
  safeguard: string;
  part: "A" | "B" | "C";
  scenario: string;
  prevents: string;
  with: SafeguardRun;
  without: SafeguardRun;
  /** Shown: with it 0 anomalies, without it at least one. */
  shown: boolean;
  /** Why not, when it is not shown. */
  finding?: string;
  /** The team's implementation it ran on (a --target), if not the lab's own. */
  target?: string;
  seed: number;
  quick: boolean;
  at: string;
}

/** Count a run: anomalies are the sum of the named counts; the verdict follows. */
export function safeguardRun(counts: Record<string, number>, anomalyCounts: string[], observed: string): SafeguardRun {
  const anomalies = anomalyCounts.reduce((sum, k) => sum + (counts[k] ?? 0), 0);
  return { anomalies, counts, verdict: anomalies === 0 ? "PASS" : "FAIL", observed };
}

/** The scenario's options with the safeguard on, or switched off (SAFEGUARDS_OFF for the part's services). */
export const safeguardOptions = (opts: ScenarioOptions, name: string, on: boolean): ScenarioOptions => ({
  ...opts,
  without: on ? undefined : name,
});

/**
 * An experiment's result as a safeguard's run: the anomalies its tally counted (without a tally,
 * its failed checks), what it saw in one sentence. A run that could observe nothing is an error.
 */
export function fromExperiment(r: ExperimentResult): SafeguardRun {
  if (r.verdict === "NOT OBSERVABLE") {
    const error = `not observable: ${r.skipped.map((s) => s.reason).join("; ")}`;
    return { anomalies: 0, counts: {}, verdict: "FAIL", observed: error, error };
  }
  const failed = r.checks.filter((c) => !c.passed);
  const counts: Record<string, number> = r.tally
    ? { sent: r.tally.sent, acknowledged: r.tally.acknowledged, ...r.tally.anomalies }
    : { checks_failed: failed.length };
  const run = safeguardRun(counts, r.tally ? Object.keys(r.tally.anomalies) : ["checks_failed"], "");
  return {
    ...run,
    observed: failed.length
      ? failed.map((c) => `${c.check}: ${c.observed}`).join("; ")
      : `every check held (${r.checks.length})${r.tally ? `; anomalies ${anomalyCount(r.tally)}` : ""}`,
  };
}

/** A safeguard shown by an experiment: `run` opens the implementation without it (opts.without) or with it, and runs the experiment. */
export const experimentSafeguard = (
  exp: Omit<SafeguardExperiment, "run"> & { run: (opts: ScenarioOptions) => Promise<ExperimentResult> },
): SafeguardExperiment => {
  const { run, ...described } = exp;
  return {
    ...described,
    run: async (opts, on) => fromExperiment(await run(safeguardOptions(opts, exp.safeguard, on))),
  };
};

/** Both runs of one safeguard, WITH first. */
export async function runSafeguard(exp: SafeguardExperiment, opts: ScenarioOptions): Promise<SafeguardResult> {
  const side = async (on: boolean): Promise<SafeguardRun> => {
    opts.log(`${on ? "with" : "without"} ${exp.safeguard}`);
    const run = await exp.run(opts, on).catch((err: unknown): SafeguardRun => {
      const error = String((err as Error)?.message ?? err).split("\n")[0];
      return { anomalies: 0, counts: {}, verdict: "FAIL", observed: `the run did not finish: ${error}`, error };
    });
    opts.log(`  ${run.verdict}: ${run.observed}`);
    return run;
  };
  // A team's implementation has no switch the lab could turn: its run WITH is the verdict on it.
  const foreign = opts.target && !opts.target.lab ? opts.target.name : undefined;
  const notObservable = (why: string): SafeguardRun => ({ anomalies: 0, counts: {}, verdict: "FAIL", observed: why });
  const withIt = await side(true);
  const withoutIt = foreign
    ? notObservable(`not observable: only the lab's own services can be started without a safeguard`)
    : await side(false);
  if (foreign)
    return {
      ...described(exp, opts),
      with: withIt,
      without: withoutIt,
      shown: false,
      target: foreign,
      finding: `on ${foreign}: with it ${withIt.verdict} (${withIt.observed}); ${withoutIt.observed}`,
    };
  const failed = withIt.error ?? withoutIt.error;
  const shown = !failed && withIt.anomalies === 0 && withoutIt.anomalies > 0;
  const finding = shown
    ? undefined
    : failed
      ? `a run did not finish: ${failed}`
      : withIt.anomalies > 0
        ? `with the safeguard on, the checker still counted ${withIt.anomalies} anomalies: ${withIt.observed}`
        : `without the safeguard this run showed no anomaly: ${withoutIt.observed}`;
  return { ...described(exp, opts), with: withIt, without: withoutIt, shown, ...(finding ? { finding } : {}) };
}

const described = (exp: SafeguardExperiment, opts: ScenarioOptions) => ({
  safeguard: exp.safeguard,
  part: exp.part,
  scenario: exp.scenario,
  prevents: exp.prevents,
  seed: opts.seed,
  quick: opts.quick,
  at: new Date().toISOString(),
});

export const writeSafeguard = (r: SafeguardResult, dir = resultsDir("safeguards")): string =>
  writeJsonResult(dir, r.safeguard, r);

const PART_ORDER = { A: 0, B: 1, C: 2 };
export const readSafeguards = (dir = resultsDir("safeguards")): SafeguardResult[] =>
  readJsonResults<SafeguardResult>(dir).sort(
    (a, b) => PART_ORDER[a.part] - PART_ORDER[b.part] || a.safeguard.localeCompare(b.safeguard),
  );

export function safeguardsTable(results: SafeguardResult[]) {
  return results.map((r) => ({
    part: r.part,
    safeguard: r.safeguard,
    prevents: r.prevents,
    with: `${r.with.anomalies} (${r.with.verdict})`,
    without: `${r.without.anomalies} (${r.without.verdict})`,
    shown: r.shown ? "✔" : `✖ ${r.finding ?? ""}`,
  }));
}

/** Anomalies with and without each safeguard, side by side (log scale: 0 stays visible at the axis). */
export function safeguardsSpec(results: SafeguardResult[]): TopLevelSpec {
  const values = results.flatMap((r) => [
    { safeguard: `${r.part} ${r.safeguard}`, run: "with", anomalies: r.with.anomalies },
    { safeguard: `${r.part} ${r.safeguard}`, run: "without", anomalies: r.without.anomalies },
  ]);
  return {
    ...specBase,
    title: "Anomalies counted with and without each safeguard",
    data: { values },
    width: 420,
    // Two bars per safeguard, and tall enough to read with one safeguard (a notebook's section).
    height: Math.max(140, 36 * results.length),
    mark: "bar",
    encoding: {
      y: { field: "safeguard", type: "nominal", title: null, sort: null },
      yOffset: { field: "run", sort: ["with", "without"] },
      x: { field: "anomalies", type: "quantitative", title: "anomalies (orders lost, effects twice, metrics wrong)" },
      color: {
        field: "run",
        type: "nominal",
        title: null,
        scale: { domain: ["with", "without"], range: ["#2ca02c", "#d62728"] },
      },
    },
  };
}

/** results/safeguards/README.md and safeguards.svg, from every result on disk. */
export async function writeSafeguardsReadme(
  results: SafeguardResult[],
  dir = resultsDir("safeguards"),
): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "safeguards.svg"), await renderSvg(safeguardsSpec(results)));
  const details = results.map((r) =>
    [
      `### ${r.part} · ${r.safeguard}`,
      "",
      `- scenario: ${r.scenario}`,
      `- prevents: ${r.prevents}`,
      `- with: ${r.with.observed} — ${Object.entries(r.with.counts)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}`,
      `- without: ${r.without.observed} — ${Object.entries(r.without.counts)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}`,
      ...(r.finding ? [`- **finding:** ${r.finding}`] : []),
      "",
    ].join("\n"),
  );
  const notShown = results.filter((r) => !r.shown).length;
  const text = [
    "# Safeguards: with and without",
    "",
    "Each safeguard's scenario ran twice on real brokers, with the safeguard and with it switched off (`SAFEGUARDS_OFF`), counted by the same checker.",
    "",
    markdownTable(safeguardsTable(results)),
    "",
    "![anomalies with and without each safeguard](safeguards.svg)",
    "",
    notShown
      ? `**${notShown} safeguard(s) not shown by their scenario** (see the findings below).`
      : "Every safeguard was shown: 0 anomalies with it, the anomaly without it.",
    "",
    "## Runs",
    "",
    ...details,
  ].join("\n");
  const file = path.join(dir, "README.md");
  fs.writeFileSync(file, text);
  return file;
}

/**
 * The lines between `// #region safeguard:<name>` and `// #endregion` in a source file: the code
 * that implements a safeguard, shown in a notebook from the source itself so it cannot drift.
 */
export function safeguardSource(file: string, name: string): string {
  const lines = fs.readFileSync(file, "utf8").split("\n");
  const start = lines.findIndex((l) => l.trim() === `// #region safeguard:${name}`);
  if (start < 0) throw new Error(`${file}: no "// #region safeguard:${name}"`);
  const end = lines.findIndex((l, i) => i > start && l.trim() === "// #endregion");
  if (end < 0) throw new Error(`${file}: the region safeguard:${name} has no "// #endregion"`);
  const body = lines.slice(start + 1, end);
  const indent = Math.min(...body.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
  return body.map((l) => l.slice(indent)).join("\n");
}
