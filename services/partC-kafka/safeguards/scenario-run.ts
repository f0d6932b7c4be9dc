// A Part C fault scenario as a safeguard's experiment: the scenario runs on a stack of its own
// with the safeguard on, or switched off (SAFEGUARDS_OFF), and its own checker counts what the
// safeguard exists to prevent: orders lost, and effects counted twice.
import { safeguardRun, type SafeguardRun } from "../../harness/safeguards.js";
import type { ScenarioOptions, ScenarioResult } from "../../harness/verdict.js";

export async function scenarioRun(
  scenario: (opts: ScenarioOptions) => Promise<ScenarioResult>,
  safeguard: string,
  opts: ScenarioOptions,
  on: boolean,
): Promise<SafeguardRun> {
  const r = await scenario({ ...opts, without: on ? undefined : safeguard });
  const failed = r.invariants.filter((i) => !i.holds);
  return safeguardRun(
    {
      orders: r.orders_acknowledged,
      lost: r.lost,
      "counted twice": r.duplicated_effects,
      "invariants failed": failed.length,
    },
    ["lost", "counted twice"],
    `${r.scenario}: ${r.orders_acknowledged} orders, ${r.lost} lost, ${r.duplicated_effects} effects counted twice; ${
      failed.length ? `failed: ${failed.map((i) => `${i.name} (${i.observed})`).join("; ")}` : "every invariant holds"
    }`,
  );
}
