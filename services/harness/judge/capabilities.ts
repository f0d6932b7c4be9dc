// What an implementation offers beyond the wire contract, Maelstrom-style: stopping, killing and
// starting a service, switching a fault or a safeguard, white-box counters. Each part's driver
// builds its Capabilities from the target file (the lab's own services: lab.yml); an experiment
// asks for one with `need`, and a missing one becomes "not observable" with the reason — decided
// here, in one place, for every part and every experiment.
import { NotObservable } from "./target-control.js";

export class Capabilities<C extends string = string> {
  /** `missing`: for each capability the implementation lacks, why (which field of the target file would give it). */
  constructor(private readonly missing: Partial<Record<C, string>>) {}

  has(c: C): boolean {
    return this.missing[c] === undefined;
  }

  /** Why the implementation lacks `c`, or undefined when it has it. */
  reason(c: C): string | undefined {
    return this.missing[c];
  }

  /** Go on only with `c`: a NotObservable with the reason otherwise. */
  need(...cs: C[]): void {
    for (const c of cs) if (!this.has(c)) throw new NotObservable(this.missing[c]!);
  }

  /** Every capability it lacks, with the reason (for the report). */
  lacking(): { capability: C; reason: string }[] {
    return Object.entries(this.missing).map(([capability, reason]) => ({
      capability: capability as C,
      reason: reason as string,
    }));
  }
}

/**
 * Capabilities from a list of (name, reason-when-missing or undefined) pairs:
 * `capabilities({ "stop inventory": control?.stop ? undefined : "no partB.control.inventory.stop" })`.
 */
export const capabilities = <C extends string>(map: Record<C, string | undefined>): Capabilities<C> =>
  new Capabilities(
    Object.fromEntries(Object.entries(map).filter(([, reason]) => reason !== undefined)) as Partial<Record<C, string>>,
  );
