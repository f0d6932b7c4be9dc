// Part C's safeguards, each with the scenario that shows what it prevents (see harness/safeguards.ts).
import type { SafeguardExperiment } from "../../harness/safeguards.js";
import { commitAfterAck } from "./commit-after-ack.js";
import { dedupe } from "./dedupe.js";
import { eventTime } from "./event-time.js";
import { idempotentProducer } from "./idempotent-producer.js";

export const SAFEGUARDS: SafeguardExperiment[] = [commitAfterAck, dedupe, eventTime, idempotentProducer];
