// Part C's safeguards: each a named switch (SAFEGUARDS_OFF), on unless the lab turns it off to
// show what it prevents (services/common/safeguards.ts). The experiments that show each one are
// in safeguards/.
import type { SafeguardCatalog } from "../common/safeguards.js";

export const PARTC_SAFEGUARDS = {
  "commit-after-ack": {
    service: "inventory",
    prevents:
      "an order lost when the inventory consumer dies after committing its offset but before its answer is in the log",
  },
  dedupe: {
    service: "analytics",
    prevents:
      "an event counted twice when it is delivered twice (a redelivery, or a replay of a log with duplicates); inventory's answers get eventIds derived from the order's so that a second answer is recognisable",
  },
  "event-time": {
    service: "analytics",
    prevents: "orders per minute that change when the same log is read again (minutes taken from the reading time)",
  },
  "idempotent-producer": {
    service: "producer",
    prevents: "an order written twice to the log when the producer retries a send whose acknowledgement was lost",
  },
} as const satisfies SafeguardCatalog;

export type PartCSafeguard = keyof typeof PARTC_SAFEGUARDS;
