// What every Part A safeguard experiment does around its scenario: Part A on a stack of its own,
// with the safeguard on, or off (SAFEGUARDS_OFF=<name>), the order service's policy set by `env`;
// the scenario; the stack released whatever happens.
import type { SafeguardRun } from "../../harness/safeguards.js";
import { summarize } from "../../harness/stats.js";
import type { ScenarioOptions } from "../../harness/verdict.js";
import type { Answer } from "../../harness/implementation.js";
import { openPartAStack } from "../faults/stack.js";
import type { PartAImplementation } from "../lab/implementation.js";
import type { PartASafeguard } from "../switches.js";

export async function onPartA(
  opts: ScenarioOptions,
  name: PartASafeguard,
  on: boolean,
  env: Record<string, string>,
  scenario: (impl: PartAImplementation) => Promise<SafeguardRun>,
): Promise<SafeguardRun> {
  const impl = await openPartAStack({ ...opts, without: on ? undefined : name }, `safeguard-${name}`, env);
  try {
    const switches = (await impl.health("order")).body.safeguards ?? {};
    if (switches[name] !== (on ? "on" : "off"))
      throw new Error(`the order service reports ${name} ${switches[name]}, not ${on ? "on" : "off"}`);
    return await scenario(impl);
  } finally {
    await impl.close();
  }
}

/** The client's wait for a set of answers, in whole ms: median and slowest. */
export function waits(answers: Answer[]): { wait_median_ms: number; wait_max_ms: number } {
  const s = summarize(answers.map((a) => a.ms));
  return { wait_median_ms: Math.round(s.median), wait_max_ms: Math.round(s.max) };
}

export const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
