// Part B's safeguards, each a switch the lab can turn off to show the failure it prevents
// (SAFEGUARDS_OFF, see common/safeguards.ts). `service` is the service whose lesson it is: it
// warns at start and reports the switch in /health. The three services share connection.ts, so
// `durability` is read by all of them (a queue must be declared the same way by every service, or
// the second declaration closes the channel); the others are read where they live.
import type { SafeguardCatalog } from "../common/safeguards.js";

export const PARTB_SAFEGUARDS = {
  confirms: {
    service: "order",
    prevents:
      "an order answered 202 is lost if RabbitMQ does not take its OrderPlaced (the outbox keeps it until the broker confirms)",
  },
  durability: {
    service: "order",
    prevents: "a RabbitMQ restart empties the queues (durable queues, persistent messages)",
  },
  "manual-ack": {
    service: "inventory",
    prevents: "a consumer killed with messages in hand loses them (acked only after processing)",
  },
  "idempotent-consumer": {
    service: "inventory",
    prevents: "a redelivered OrderPlaced reserves its stock twice (processed ids in the stock's transaction)",
  },
  "dead-letter": {
    service: "inventory",
    prevents: "a poison message loops forever and the orders behind it wait (rejected to the dead-letter queue)",
  },
} as const satisfies SafeguardCatalog;

export type PartBSafeguard = keyof typeof PARTB_SAFEGUARDS;
