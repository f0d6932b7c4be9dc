// What the three Part B experiments share: bring the part up unless it runs (and stop only what
// the run started), and drive it through its implementation. Checks and result files are the
// harness's (check.ts, results.ts). A run without a safeguard (a script's --without) makes sure
// the services it drives really have it off.
import { usePart, type LabOptions } from "../../harness/lifecycle.js";
import { PARTB_SAFEGUARDS, type PartBSafeguard } from "../switches.js";
import { labImplementation, safeguardsOff, type PartBImplementation } from "./implementation.js";

/** Run `body` against Part B: what runs is used, what is missing is started for this run and stopped afterwards. */
export const withPartB = <T>(opts: LabOptions, body: (impl: PartBImplementation) => Promise<T>): Promise<T> =>
  usePart("partB", opts, async (running) => {
    const impl = labImplementation(running, opts);
    await expectSafeguardsOff(impl, safeguardsOff(opts));
    return body(impl);
  });

/** A Part B that was already up keeps its env: a safeguard asked off must say "off" in its service's /health. */
async function expectSafeguardsOff(impl: PartBImplementation, names: string[]): Promise<void> {
  for (const name of names) {
    const service = PARTB_SAFEGUARDS[name as PartBSafeguard]?.service;
    if (!service) continue; // the services themselves refuse an unknown name at start
    const state = ((await impl.stats(service)).safeguards ?? {})[name];
    if (state !== "off")
      throw new Error(
        `Part B already runs with the ${name} safeguard on: stop it first (npx zx lab-scripts/down.mjs partB), so that this run starts it with the safeguard off`,
      );
  }
}

/**
 * The env of a run without one of Part B's safeguards (a script's `--without NAME`), or nothing;
 * a clear error for a name Part B does not have, or one this experiment cannot show.
 */
export function withoutSafeguard(
  name: string | undefined,
  applicable: PartBSafeguard[],
): Record<string, string> | undefined {
  if (name === undefined) return undefined;
  if (!Object.hasOwn(PARTB_SAFEGUARDS, name))
    throw new Error(`--without: unknown safeguard "${name}"; Part B's are ${Object.keys(PARTB_SAFEGUARDS).join(", ")}`);
  if (!applicable.includes(name as PartBSafeguard))
    throw new Error(`--without ${name} does not apply to this experiment; it takes ${applicable.join(", ")}`);
  return { SAFEGUARDS_OFF: name };
}

export const round1 = (x: number): number => Math.round(x * 10) / 10;
