// Part A's safeguards, each with the scenario that shows what it prevents (see harness/safeguards.ts).
import type { SafeguardExperiment } from "../../harness/safeguards.js";
import { callTimeout } from "./call-timeout.js";
import { idempotencyKey } from "./idempotency-key.js";
import { inFlightLimit } from "./in-flight-limit.js";
import { noRetryOnTimeout } from "./no-retry-on-timeout.js";

export const SAFEGUARDS: SafeguardExperiment[] = [idempotencyKey, callTimeout, noRetryOnTimeout, inFlightLimit];
