// Three of Part B's safeguards are shown by a fault scenario run without them: the scenario's own
// checker (faults/effects.ts, the same for both runs) counts what was lost and what was done twice.
import { safeguardRun, type SafeguardExperiment, type SafeguardRun } from "../../harness/safeguards.js";
import type { ScenarioOptions, ScenarioResult } from "../../harness/verdict.js";
import { PARTB_SAFEGUARDS, type PartBSafeguard } from "../switches.js";

/** The scenario run with the safeguard on, or with it off (SAFEGUARDS_OFF for the part's services). */
export const scenarioOptions = (opts: ScenarioOptions, name: PartBSafeguard, on: boolean): ScenarioOptions => ({
  ...opts,
  without: on ? undefined : name,
});

/** A fault scenario's verdict as a safeguard's run: anomalies = orders lost + effects done twice. */
export function fromScenario(r: ScenarioResult): SafeguardRun {
  const broken = r.invariants.filter((i) => !i.holds);
  return safeguardRun(
    {
      orders_sent: r.orders_sent,
      orders_acknowledged: r.orders_acknowledged,
      lost: r.lost,
      duplicated_effects: r.duplicated_effects,
      invariants_broken: broken.length,
    },
    ["lost", "duplicated_effects"],
    `${r.scenario}: ${r.orders_acknowledged} orders acknowledged, ${r.lost} lost, ${r.duplicated_effects} effects done twice` +
      (broken.length
        ? `; broken: ${broken.map((i) => `${i.name} (${i.observed})`).join("; ")}`
        : "; every invariant held"),
  );
}

export const prevents = (name: PartBSafeguard): string => PARTB_SAFEGUARDS[name].prevents;

/** A safeguard shown by a fault scenario: the scenario run with it, and without it. */
export const scenarioSafeguard = (
  name: PartBSafeguard,
  faultScenario: string,
  scenario: string,
  runScenario: (opts: ScenarioOptions) => Promise<ScenarioResult>,
): SafeguardExperiment => ({
  safeguard: name,
  part: "B",
  scenario,
  faultScenario,
  prevents: prevents(name),
  run: async (opts, on) => fromScenario(await runScenario(scenarioOptions(opts, name, on))),
});
