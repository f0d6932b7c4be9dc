// Part C's lost-acknowledgement experiment, for idempotent-producer (the producer numbers its
// batches: producer id, sequence, so the broker drops a retried batch it already wrote). Orders
// are placed at a steady rate while the broker is frozen (SIGSTOP) for longer than the producer's
// request timeout (1.5 s here): the send times out and is retried while the first request still
// waits in the broker's socket; on SIGCONT the broker reads both. The checker reads the `orders`
// log itself: an eventId appended twice is an order written twice; one acknowledged but not in
// the log is lost; one acknowledged at another order's offset was taken for a retry of a batch
// the broker already had. (Quick run: with it 281 acknowledged, 281 in the log; without it 4
// written twice.) kafkajs' `idempotent: true` alone lost orders that way with concurrent sends
// (it gives a sequence number back on a timeout: https://github.com/tulios/kafkajs/issues/1005),
// so the producer keeps one send in flight (one-send-at-a-time.ts).
import { sleep, waitUntil } from "../../common/wait.js";
import type { Experiment, Run } from "../../harness/judge/experiment.js";
import { signalGroup } from "../../harness/run/processes.js";
import { steadyLoad, type Sent } from "../../harness/run/stack.js";
import type { ProduceBody } from "../lab/client.js";
import { endOffsets, TopicTap, total, type PartCKafka } from "../lab/kafka-tap.js";
import type { PartC } from "../lab/implementation.js";
import type { SeededOptions } from "./seeded.js";

const REQUEST_TIMEOUT_MS = 1500;
const FREEZE_MS = 4000;
// Each /produce waits this long for kafkajs' own outcome (the default 5 s is shorter than a
// freeze plus the retries after it): then an acknowledgement is the client library's, and an
// order the lab answered 503 cannot hide a loss.
const PRODUCE_TIMEOUT_MS = 30_000;

/** The services' env for this experiment: a short request timeout, a long produce deadline. */
export const lostAckEnv = {
  KAFKA_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
  PRODUCE_TIMEOUT_MS: String(PRODUCE_TIMEOUT_MS),
};

interface LostAckRun extends Run<PartC, SeededOptions> {
  freezes: number;
  wire?: PartCKafka;
  from?: Map<number, bigint>;
  broker?: number;
  sent: Sent<ProduceBody>[];
  /** "partition/offset" → the eventId of the record there. */
  atOffset: Map<string, string>;
  orders?: TopicTap;
}

const eventIdOf = (value: Buffer | null): string =>
  (JSON.parse(value?.toString() ?? "{}") as { eventId?: string }).eventId ?? "?";

/** Orders at a steady rate around `freezes` freezes of the broker. */
async function freezeUnderLoad(r: LostAckRun): Promise<void> {
  const load = steadyLoad(20, async (seq) => {
    const placed = await r.impl.placeOrder({ orderId: `idem-${r.opts.seed}-${String(seq).padStart(6, "0")}` });
    return { status: placed.status || "no answer", body: placed.body };
  });
  for (let k = 0; k < r.freezes; k++) {
    await sleep(1500);
    signalGroup(r.broker!, "SIGSTOP"); // the broker stops reading and answering; its sockets stay open
    await sleep(FREEZE_MS);
    signalGroup(r.broker!, "SIGCONT");
  }
  await sleep(3000); // the retries of the last freeze land
  r.sent = await load.stop(); // every answer in
  await r.impl.whiteBox().waitForQuiet(120_000);
}

/**
 * The log as it is now, read afresh after the freezes (only this stack's producer writes
 * `orders`): one entry per record, so a reader's own re-read cannot pass for a duplicate.
 */
async function readTheLog(r: LostAckRun): Promise<void> {
  const w = r.wire!;
  const appended = total(await endOffsets(w.kafka, w.topics.orders)) - total(r.from!);
  const tap = (r.orders = await TopicTap.open(w.kafka, w.topics.orders, r.from));
  const all = () => {
    for (const m of tap.messages) r.atOffset.set(`${m.partition}/${m.offset}`, eventIdOf(m.value));
    return r.atOffset.size >= appended;
  };
  await waitUntil(all, "every record of the run to be read", 60_000, 100);
}

export const lostAckExperiment: Experiment<PartC, SeededOptions, LostAckRun, Record<string, unknown>> = {
  name: "lost-ack",
  part: "partC",
  title: "Part C — lost acknowledgements: the broker frozen longer than the producer's request timeout",
  lesson: "A send retried after a lost acknowledgement is written once when the producer numbers its batches.",
  needs: ["white-box stats", "broker process", "kafka"],
  safeguards: ["idempotent-producer"],
  begin: (run) => ({ ...run, freezes: run.opts.quick ? 2 : 5, sent: [], atOffset: new Map() }),
  steps: [
    {
      name: "settle, find the broker",
      run: async (r) => {
        r.wire = await r.impl.kafka();
        r.from = await endOffsets(r.wire.kafka, r.wire.topics.orders); // where this run's records begin
        r.broker = await r.impl.broker().pid();
        if (!r.broker) throw new Error("the lab's Kafka has no pid: this experiment needs the native broker");
        await r.impl.whiteBox().waitForQuiet();
      },
    },
    { name: "orders while the broker is frozen", run: freezeUnderLoad },
    { name: "read the log", run: readTheLog },
  ],
  cleanup: async (r) => {
    if (r.broker) signalGroup(r.broker, "SIGCONT");
    await r.orders?.close();
  },
  judge: (r) => {
    const acked = r.sent.filter((s) => s.status === 200);
    const eventIds = [...r.atOffset.values()];
    const inLog = new Set(eventIds);
    const ackedId = (s: (typeof acked)[number]) => String(s.body.event?.eventId);
    const lost = acked.filter((s) => !inLog.has(ackedId(s))).length;
    // The broker answers a batch it takes for a retry with the offset of the batch it already has.
    const elsewhere = acked.filter((s) => r.atOffset.get(`${s.body.partition}/${s.body.offset}`) !== ackedId(s)).length;
    const twice = eventIds.length - inLog.size;
    const observed =
      `${r.sent.length} orders placed around ${r.freezes} broker freezes of ${FREEZE_MS / 1000} s (request timeout ${
        REQUEST_TIMEOUT_MS / 1000
      } s): ${acked.length} acknowledged, ${eventIds.length} events in the log for ${inLog.size} eventIds` +
      (elsewhere
        ? `; ${elsewhere} acknowledged at the offset of another order: the broker took them for a retry of a batch it had under the same producer id and sequence, which kafkajs had given to another send after a timeout`
        : "");
    return {
      params: { freezes: r.freezes, freeze_ms: FREEZE_MS, request_timeout_ms: REQUEST_TIMEOUT_MS },
      checks: [
        { check: "every order placed was acknowledged", passed: acked.length === r.sent.length, observed },
        {
          check: "every acknowledged order is in the log once",
          passed: lost === 0 && twice === 0,
          observed: `${lost} lost, ${twice} written twice`,
        },
        {
          check: "every order acknowledged at its own offset",
          passed: elsewhere === 0,
          observed: `${elsewhere} acknowledged at another order's offset`,
        },
      ],
      figures: { "orders placed": r.sent.length, acknowledged: acked.length, "events in the log": eventIds.length },
      tally: {
        sent: r.sent.length,
        acknowledged: acked.length,
        anomalies: { lost, "written twice": twice, "acknowledged at another order's offset": elsewhere },
      },
      data: { events_in_log: eventIds.length, distinct: inLog.size },
    };
  },
};
