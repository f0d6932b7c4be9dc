// Part B's safeguards, each with the scenario that shows what it prevents (see harness/safeguards.ts
// and switches.ts).
import type { SafeguardExperiment } from "../../harness/safeguards.js";
import { confirms } from "./confirms.js";
import { deadLetter } from "./dead-letter.js";
import { durability } from "./durability.js";
import { idempotentConsumer } from "./idempotent-consumer.js";
import { manualAck } from "./manual-ack.js";

export const SAFEGUARDS: SafeguardExperiment[] = [confirms, durability, manualAck, idempotentConsumer, deadLetter];
