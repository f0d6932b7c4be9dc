// Part A's safeguards, each a switch of the order service (SAFEGUARDS_OFF names the ones that are
// off; all are on by default). The lab turns one off to show what it prevents
// (the lessons in services/partA-sync-rest/experiments/index.ts).
import type { SafeguardCatalog } from "../common/safeguards.js";

export const PARTA_SAFEGUARDS = {
  "idempotency-key": {
    service: "order",
    prevents:
      "a retried reserve whose first attempt did reserve (inventory reserved, then failed) takes the stock twice",
  },
  "call-timeout": {
    service: "order",
    prevents: "the client waits as long as the slowest dependency: no per-call timeout, no order deadline",
  },
  "no-retry-on-timeout": {
    service: "order",
    prevents: "a slow inventory gets up to 1 + RETRIES times the requests, and the client waits longer",
  },
  "in-flight-limit": {
    service: "order",
    prevents: "a burst behind a slow dependency piles up in the order service: every order held, memory grows",
  },
} as const satisfies SafeguardCatalog;

export type PartASafeguard = keyof typeof PARTA_SAFEGUARDS;

/** A Part A safeguard by name, or an error that lists the names. */
export function partASafeguardNamed(name: string): PartASafeguard {
  if (!(name in PARTA_SAFEGUARDS))
    throw new Error(`unknown Part A safeguard "${name}": use one of ${Object.keys(PARTA_SAFEGUARDS).join(", ")}`);
  return name as PartASafeguard;
}
