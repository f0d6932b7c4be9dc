// Part C's implementation under test, as one typed handle: its endpoints; placing an order (an
// OrderPlaced produced) and learning its fate; stopping and starting its consumer (inventory);
// its faults (a pause per message); and what its services declare about themselves (/health).
// The lab's own services are the one implementation today, built from a RunningPart.
import { request, type Answer } from "../../harness/implementation.js";
import { down, restartService, serviceEnv, type LabOptions, type RunningPart, type RunningService } from "../../harness/lifecycle.js";
import { labHome } from "../../common/paths.js";
import { endpoints as endpointsOf, produceOrder, type PartCEndpoints, type ProduceBody } from "./client.js";

export type PartCService = "producer" | "inventory" | "analytics";

export interface PartCImplementation {
  readonly part: "partC";
  readonly endpoints: PartCEndpoints;
  /** POST /produce, timed; never throws on an HTTP status (0: no answer). */
  placeOrder(body?: Parameters<typeof produceOrder>[1]): Promise<Answer<ProduceBody>>;
  /** What a service declares about itself: its /health body. */
  health(service: PartCService): Promise<Answer<Record<string, any>>>;
  /** The consumer (inventory) stopped. */
  stopConsumer(): Promise<void>;
  /** The consumer (re)started with the env it was first found with, plus `env`. */
  restartConsumer(env?: Record<string, string>): Promise<RunningService>;
  faults: {
    /** Inventory pauses this long per message (CONSUMER_THROTTLE_MS, read at start: a restart); 0: none. */
    consumerDelay(seconds: number): Promise<void>;
  };
}

/** The lab's own Part C services as the implementation under test. */
export function labImplementation(running: RunningPart, opts: LabOptions = {}): PartCImplementation {
  const endpoints = endpointsOf(running);
  // The env inventory runs with now: a restart keeps it, and adds only what it is asked to.
  const inventoryEnv = serviceEnv("partC", "inventory", opts.home ?? labHome());
  const restartConsumer = (env: Record<string, string> = {}) => restartService(running, "inventory", opts, { ...inventoryEnv, ...opts.env, ...env });
  return {
    part: "partC",
    endpoints,
    placeOrder: (body = {}) => produceOrder(endpoints.producer, body),
    health: (service) => request("get", `${endpoints[service]}/health`),
    stopConsumer: () => down("partC", { ...opts, only: ["inventory"] }).then(() => {}),
    restartConsumer,
    faults: {
      consumerDelay: async (seconds) => void (await restartConsumer({ CONSUMER_THROTTLE_MS: String(Math.round(seconds * 1000)) })),
    },
  };
}
