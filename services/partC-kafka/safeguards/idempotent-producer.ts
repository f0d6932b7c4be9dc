// idempotent-producer: the order producer numbers its batches (producer id, sequence), so the
// broker drops a retried batch it has already written. The scenario makes acknowledgements go
// missing: orders are placed at a steady rate while the broker process is frozen (SIGSTOP) for
// longer than the producer's request timeout (shortened to 1.5 s here, KAFKA_REQUEST_TIMEOUT_MS),
// so the send times out on the client and is retried, while the request it already sent still
// waits in the broker's socket; on SIGCONT the broker reads both. The checker reads the `orders`
// log itself: an event (eventId) appended more than once is an order written twice; an order
// acknowledged but not in the log is lost. It also compares each acknowledgement's offset with
// the record there: an order acknowledged at another order's offset was taken by the broker for
// a retry of a batch it already had (the same producer id and sequence).
//
// What it shows (quick run, 2 freezes at 20 orders/s): WITH the safeguard every order is in the
// log once (281 acknowledged, 281 in the log, 0 lost); WITHOUT it the retried batches are
// appended again (283 acknowledged, 287 in the log: 4 written twice, 0 lost).
//
// The safeguard is more than kafkajs' `idempotent: true`. With kafkajs 2.2.4 and concurrent sends
// (each POST /produce calling producer.send() as it arrived) this experiment found, WITH
// idempotence, 4 of 281 acknowledged orders lost and 4 written twice: kafkajs gives a
// partition's sequence number back when a request times out, and the next send to that partition
// (another order) goes out with it. The broker already has the timed-out batch under that number,
// so it acknowledges the other order with that batch's offset without writing it; the timed-out
// order is retried under a new number and written a second time (DumpLogSegments: one producer
// id, the same eventId at two sequences; https://github.com/tulios/kafkajs/issues/1005). So the
// producer keeps one send in flight and sends what arrives meanwhile together in the next one
// (one-send-at-a-time.ts). The checker keeps the offset comparison that caught it: an order
// acknowledged at another order's offset is counted.
import { BROKERS } from "../../harness/brokers/index.js";
import { openStack, steadyLoad } from "../../harness/stack.js";
import { safeguardRun, type SafeguardExperiment, type SafeguardRun } from "../../harness/safeguards.js";
import type { ScenarioOptions } from "../../harness/verdict.js";
import { sleep, waitUntil } from "../../common/wait.js";
import { signalGroup } from "../faults/scenarios.js";
import { endOffsets, kafkaClient, TopicTap, total } from "../lab/kafka-tap.js";
import { labPartC } from "../lab/implementation.js";
import { PARTC_SAFEGUARDS } from "../switches.js";
import { TOPICS } from "../topics.js";

const REQUEST_TIMEOUT_MS = 1500;
const FREEZE_MS = 4000;
// Each /produce waits this long for kafkajs' own outcome (the default 5 s is shorter than a
// freeze plus the retries after it): then an acknowledgement is the client library's, and an
// order the lab answered 503 cannot hide a loss.
const PRODUCE_TIMEOUT_MS = 30_000;

export async function retryAfterLostAck(opts: ScenarioOptions, on: boolean): Promise<SafeguardRun> {
  const freezes = opts.quick ? 2 : 5;
  const rate = 20;
  const stack = await openStack("partC", { ...opts, without: on ? undefined : "idempotent-producer" }, "idem", {
    KAFKA_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    PRODUCE_TIMEOUT_MS: String(PRODUCE_TIMEOUT_MS),
  });
  const impl = labPartC(stack.running, stack.lab);
  const own = impl.whiteBox();
  const kafka = kafkaClient(own.endpoints.kafka);
  const from = await endOffsets(kafka, TOPICS.orders); // where this run's records begin
  let orders: TopicTap | undefined;
  const broker = (await BROKERS.kafka.status({ home: opts.home, mode: "native" })).pid;
  if (!broker) throw new Error("the lab's Kafka has no pid: this scenario needs the native broker");
  try {
    await own.waitForQuiet();
    const load = steadyLoad(rate, async (seq) => {
      const r = await impl.placeOrder({ orderId: `idem-${opts.seed}-${String(seq).padStart(6, "0")}` });
      return { status: r.status || "no answer", body: r.body };
    });
    for (let k = 0; k < freezes; k++) {
      await sleep(1500);
      signalGroup(broker, "SIGSTOP"); // the broker stops reading and answering; its sockets stay open
      await sleep(FREEZE_MS);
      signalGroup(broker, "SIGCONT");
    }
    await sleep(3000); // the retries of the last freeze land
    const sent = await load.stop(); // every answer in
    await own.waitForQuiet(120_000);
    const acked = sent.filter((s) => s.status === 200);
    // The log as it is now, read afresh after the freezes (only this stack's producer writes
    // `orders`): one entry per record, so a reader's own re-read cannot pass for a duplicate.
    const appended = total(await endOffsets(kafka, TOPICS.orders)) - total(from);
    const tap = (orders = await TopicTap.open(kafka, TOPICS.orders, from));
    const atOffset = new Map<string, string>(); // "partition/offset" → the eventId of the record there
    await waitUntil(
      () => {
        for (const m of tap.messages) atOffset.set(`${m.partition}/${m.offset}`, eventIdOf(m.value));
        return atOffset.size >= appended;
      },
      "every record of the run to be read",
      60_000,
      100,
    );
    const eventIds = [...atOffset.values()];
    const inLog = new Set(eventIds);
    const ackedId = (s: (typeof acked)[number]) => String(s.body.event?.eventId);
    const lost = acked.filter((s) => !inLog.has(ackedId(s))).length;
    // The broker answers a batch it takes for a retry with the offset of the batch it already has.
    const elsewhere = acked.filter((s) => atOffset.get(`${s.body.partition}/${s.body.offset}`) !== ackedId(s)).length;
    return safeguardRun(
      {
        "orders placed": sent.length,
        acknowledged: acked.length,
        "events in the log": eventIds.length,
        "written twice": eventIds.length - inLog.size,
        lost,
        "acknowledged at another order's offset": elsewhere,
      },
      ["written twice", "lost"],
      `${sent.length} orders placed around ${freezes} broker freezes of ${FREEZE_MS / 1000} s (request timeout ${
        REQUEST_TIMEOUT_MS / 1000
      } s): ${acked.length} acknowledged, ${eventIds.length} events in the log for ${inLog.size} eventIds, ${lost} acknowledged but not in the log` +
        (elsewhere
          ? `; ${elsewhere} acknowledged at the offset of another order: the broker took them for a retry of a batch it had under the same producer id and sequence, which kafkajs had given to another send after a timeout`
          : ""),
    );
  } finally {
    signalGroup(broker, "SIGCONT");
    await orders?.close();
    await stack.release();
  }
}

const eventIdOf = (value: Buffer | null): string =>
  (JSON.parse(value?.toString() ?? "{}") as { eventId?: string }).eventId ?? "?";

export const idempotentProducer: SafeguardExperiment = {
  safeguard: "idempotent-producer",
  part: "C",
  scenario: `orders at a steady rate while the broker is frozen (SIGSTOP) for ${FREEZE_MS / 1000} s, longer than the producer's request timeout, so its sends are retried`,
  prevents: PARTC_SAFEGUARDS["idempotent-producer"].prevents,
  run: retryAfterLostAck,
};
