// idempotent-producer: the order producer numbers its batches (producer id, sequence), so the
// broker drops a retried batch it has already written. The scenario makes acknowledgements go
// missing: orders are placed at a steady rate while the broker process is frozen (SIGSTOP) for
// longer than the producer's request timeout (shortened to 1.5 s here, KAFKA_REQUEST_TIMEOUT_MS),
// so the send times out on the client and is retried, while the request it already sent still
// waits in the broker's socket; on SIGCONT the broker reads both. The checker reads the `orders`
// log itself: an event (eventId) appended more than once is an order written twice.
import { BROKERS } from "../../harness/brokers/index.js";
import { openStack, steadyLoad } from "../../harness/stack.js";
import { safeguardRun, type SafeguardExperiment, type SafeguardRun } from "../../harness/safeguards.js";
import type { ScenarioOptions } from "../../harness/verdict.js";
import { sleep, waitUntil } from "../../common/wait.js";
import { signalGroup } from "../faults/scenarios.js";
import { endOffsets, kafkaClient, TopicTap, total } from "../faults/kafka-tap.js";
import { labImplementation } from "../lab/implementation.js";
import { PARTC_SAFEGUARDS } from "../switches.js";
import { TOPICS } from "../topics.js";

const REQUEST_TIMEOUT_MS = 1500;
const FREEZE_MS = 4000;

export async function retryAfterLostAck(opts: ScenarioOptions, on: boolean): Promise<SafeguardRun> {
  const freezes = opts.quick ? 2 : 5;
  const rate = 20;
  const stack = await openStack("partC", { ...opts, without: on ? undefined : "idempotent-producer" }, "idem", {
    KAFKA_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
  });
  const impl = labImplementation(stack.running, stack.lab);
  const kafka = kafkaClient(impl.endpoints.kafka);
  const from = await endOffsets(kafka, TOPICS.orders); // where this run's records begin
  let orders: TopicTap | undefined;
  const broker = (await BROKERS.kafka.status({ home: opts.home, mode: "native" })).pid;
  if (!broker) throw new Error("the lab's Kafka has no pid: this scenario needs the native broker");
  try {
    await impl.waitForQuiet();
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
    const sent = await load.stop();
    await impl.waitForQuiet(120_000);
    const acked = sent.filter((s) => s.status === 200);
    // The log as it is now, read afresh after the freezes (only this stack's producer writes
    // `orders`): one entry per record, so a reader's own re-read cannot pass for a duplicate.
    const appended = total(await endOffsets(kafka, TOPICS.orders)) - total(from);
    const tap = (orders = await TopicTap.open(kafka, TOPICS.orders, from));
    const records = new Map<string, (typeof tap.messages)[number]>();
    await waitUntil(
      () => {
        for (const m of tap.messages) records.set(`${m.partition}/${m.offset}`, m);
        return records.size >= appended;
      },
      "every record of the run to be read",
      60_000,
      100,
    );
    const eventIds = [...records.values()].map(
      (m) => (JSON.parse(m.value?.toString() ?? "{}") as { eventId?: string }).eventId ?? "?",
    );
    const distinct = new Set(eventIds).size;
    const inLog = new Set([...records.values()].map((m) => m.key));
    const lost = acked.filter((s) => !inLog.has(s.body.orderId ?? "")).length;
    return safeguardRun(
      {
        "orders placed": sent.length,
        acknowledged: acked.length,
        "events in the log": eventIds.length,
        "written twice": eventIds.length - distinct,
        lost,
      },
      ["written twice", "lost"],
      `${sent.length} orders placed around ${freezes} broker freezes of ${FREEZE_MS / 1000} s (request timeout ${
        REQUEST_TIMEOUT_MS / 1000
      } s): ${acked.length} acknowledged, ${eventIds.length} events in the log for ${distinct} eventIds`,
    );
  } finally {
    signalGroup(broker, "SIGCONT");
    await orders?.close();
    await stack.release();
  }
}

export const idempotentProducer: SafeguardExperiment = {
  safeguard: "idempotent-producer",
  part: "C",
  scenario: `orders at a steady rate while the broker is frozen (SIGSTOP) for ${FREEZE_MS / 1000} s, longer than the producer's request timeout, so its sends are retried`,
  prevents: PARTC_SAFEGUARDS["idempotent-producer"].prevents,
  run: retryAfterLostAck,
};
