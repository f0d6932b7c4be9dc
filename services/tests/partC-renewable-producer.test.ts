// Part C's idempotent producer after a lost acknowledgement, against a real Kafka of this test's
// own: what a broker stopping mid-request does to kafkajs 2.2.4 (the connection closes after the
// broker wrote the batch), made to happen on demand. The client sockets are wrapped so that one
// chosen Produce response is swallowed and its connection closed; kafkajs then takes the batch's
// sequence numbers back and retries. With two sends at once on one producer, the other send
// takes those numbers first: the broker answers it OUT_OF_ORDER_SEQUENCE_NUMBER, or, if it has
// as many events as the written batch, "duplicate" — a success for events it never wrote.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { Kafka, logLevel, type ISocketFactory, type Producer } from "kafkajs";
import { waitUntil } from "../common/wait.js";
import { BROKERS, isolatedBrokerEnv, useEnv } from "../harness/run/brokers/index.js";
import { createIdempotentProducer } from "../partC-kafka/kafka.js";
import { RenewableProducer, producerStateError } from "../partC-kafka/renewable-producer.js";

let home: string;
let broker: string;
let restoreEnv: () => void;

before(async () => {
  const env = await isolatedBrokerEnv("partC-renew");
  home = env.LAB_HOME;
  broker = `127.0.0.1:${env.KAFKA_PORT}`;
  restoreEnv = useEnv({ ...env, LAB_BROKER_MODE: "native" });
  await BROKERS.kafka.up({ home });
});
after(async () => {
  await BROKERS.kafka.down({ home });
  restoreEnv();
});

const PRODUCE = 0; // Kafka API key of a Produce request

/** Sockets that swallow the response to the next Produce request once armed, and close the connection. */
function lossyAcks() {
  const state = { armed: false, swallowed: 0 };
  const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket = net.connect({ host, port }, onConnect);
    const doomed = new Set<number>(); // correlation ids whose response is lost
    const write = socket.write.bind(socket) as (chunk: unknown, ...rest: unknown[]) => boolean;
    socket.write = (chunk: unknown, ...rest: unknown[]) => {
      // A request: int32 size, int16 api key, int16 version, int32 correlation id, ...
      if (state.armed && Buffer.isBuffer(chunk) && chunk.length >= 12 && chunk.readInt16BE(4) === PRODUCE) {
        state.armed = false;
        doomed.add(chunk.readInt32BE(8));
      }
      return write(chunk, ...rest);
    };
    const emit = socket.emit.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean;
    socket.emit = ((event: string | symbol, ...args: unknown[]) => {
      // A response: int32 size, int32 correlation id, ...
      const data = args[0];
      if (event === "data" && Buffer.isBuffer(data) && data.length >= 8 && doomed.has(data.readInt32BE(4))) {
        doomed.clear();
        state.swallowed++;
        // The broker wrote the batch and closed the connection, as one that stops does.
        socket.destroy();
        emit("end");
        return true;
      }
      return emit(event, ...args);
    }) as typeof socket.emit;
    return socket;
  };
  return {
    state,
    kafka: new Kafka({ clientId: "renew-test", brokers: [broker], logLevel: logLevel.NOTHING, socketFactory }),
  };
}

async function freshTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: false });
  // Its leader, as the producer will ask for it (waitForLeaders can fail on a broker just started).
  await waitUntil(
    () =>
      admin.fetchTopicMetadata({ topics: [topic] }).then(
        (m) => m.topics[0].partitions[0]?.leader >= 0,
        () => false,
      ),
    `a leader for ${topic}`,
    30_000,
  );
  await admin.disconnect();
}

async function eventsIn(kafka: Kafka, topic: string): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  const [{ high }] = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const values: string[] = [];
  const consumer = kafka.consumer({ groupId: `read-${topic}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await new Promise<void>((resolve) => {
    if (Number(high) === 0) return resolve();
    void consumer.run({
      eachMessage: async ({ message }) => {
        values.push(message.value!.toString());
        if (BigInt(message.offset) + 1n >= BigInt(high)) resolve();
      },
    });
  });
  await consumer.disconnect();
  return values;
}

/** Rounds of two sends at once (1 event, then `second` events), the first one's acknowledgement lost. */
async function concurrentSendsWithLostAck(
  send: Producer["send"],
  armed: { armed: boolean },
  topic: string,
  second: number,
) {
  const errors: string[] = [];
  const sent: string[] = [];
  for (let round = 0; round < 8; round++) {
    armed.armed = true;
    const a = [`r${round}-a`];
    const b = Array.from({ length: second }, (_, i) => `r${round}-b${i}`);
    const results = await Promise.allSettled([
      send({ topic, acks: -1, messages: a.map((value) => ({ value })) }),
      send({ topic, acks: -1, messages: b.map((value) => ({ value })) }),
    ]);
    results.forEach((r, i) => {
      if (r.status === "rejected") errors.push(`${producerStateError(r.reason) ?? String(r.reason)}`);
      else sent.push(...(i === 0 ? a : b));
    });
  }
  return { errors, sent };
}

for (const second of [2, 1]) {
  const anomaly = second === 1 ? "a success for events never written" : "OUT_OF_ORDER_SEQUENCE_NUMBER";
  test(`a lost acknowledgement with two sends at once (1 and ${second} events): plain kafkajs gives ${anomaly}; RenewableProducer writes every event once`, async (t) => {
    const plain = lossyAcks();
    const plainTopic = `renew-plain-${second}-${Date.now()}`;
    await freshTopic(plain.kafka, plainTopic);
    const raw = createIdempotentProducer(plain.kafka);
    await raw.connect();
    const before = await concurrentSendsWithLostAck((r) => raw.send(r), plain.state, plainTopic, second);
    await raw.disconnect();
    const plainLog = await eventsIn(plain.kafka, plainTopic);
    const plainMissing = before.sent.filter((v) => !plainLog.includes(v));
    t.diagnostic(
      `plain kafkajs: ${before.errors.length} sends failed (${[...new Set(before.errors)].join(", ")}), ${plainMissing.length} events acknowledged but not in the log`,
    );
    assert.ok(plain.state.swallowed > 0, "acknowledgements were lost");
    // The anomaly the fix is for, shown on the unwrapped client (if kafkajs ever fixes it, this says so).
    assert.ok(
      before.errors.length > 0 || plainMissing.length > 0,
      `plain kafkajs: expected ${anomaly} in 8 rounds; errors ${JSON.stringify(before.errors)}`,
    );

    const lossy = lossyAcks();
    const topic = `renew-fixed-${second}-${Date.now()}`;
    await freshTopic(lossy.kafka, topic);
    const producer = new RenewableProducer(() => createIdempotentProducer(lossy.kafka), { warn: () => {} });
    await producer.connect();
    const after = await concurrentSendsWithLostAck(producer.send, lossy.state, topic, second);
    await producer.disconnect();
    const log = await eventsIn(lossy.kafka, topic);
    assert.ok(lossy.state.swallowed >= 8, `every round lost an acknowledgement (${lossy.state.swallowed})`);
    assert.deepEqual(after.errors, [], "every send acknowledged");
    assert.equal(log.length, after.sent.length, "each acknowledged event written, once");
    assert.deepEqual([...log].sort(), [...after.sent].sort());
  });
}

test("Kafka rejecting the producer's state: a fresh producer sends again and is counted; other errors are not retried", async () => {
  const made: { id: number; sends: number }[] = [];
  /** A stand-in producer: the first `rejected` made ones answer every send with `error`. */
  const fakes = (rejected: number, error: object) => () => {
    const me = { id: made.length, sends: 0 };
    made.push(me);
    return {
      events: { CONNECT: "connect", DISCONNECT: "disconnect" },
      on: () => () => {},
      connect: async () => {},
      disconnect: async () => {},
      send: async () => {
        me.sends++;
        if (me.id < rejected) throw Object.assign(new Error("rejected"), error);
        return [{ topicName: "t", partition: 0, errorCode: 0, baseOffset: String(me.id) }];
      },
    } as unknown as Producer;
  };
  const warnings: object[] = [];
  const log = { warn: (o: object) => warnings.push(o) };
  const outOfOrder = { type: "OUT_OF_ORDER_SEQUENCE_NUMBER", retriable: false };

  const renewed = new RenewableProducer(fakes(1, { cause: outOfOrder }), log); // wrapped, as kafkajs may
  const [ack] = await renewed.send({ topic: "t", messages: [{ value: "x" }] });
  assert.equal(ack.baseOffset, "1", "sent by the second producer");
  assert.equal(renewed.restarts, 1);
  assert.deepEqual(warnings, [{ kafka_error: "OUT_OF_ORDER_SEQUENCE_NUMBER", producer_restarts: 1 }]);

  made.length = 0;
  const stuck = new RenewableProducer(fakes(99, outOfOrder), log);
  await assert.rejects(stuck.send({ topic: "t", messages: [] }), /rejected/);
  assert.equal(stuck.restarts, RenewableProducer.MAX_RENEWALS_PER_SEND, "bounded: then the error is final");

  made.length = 0;
  const other = new RenewableProducer(fakes(1, { type: "TOPIC_AUTHORIZATION_FAILED" }), log);
  await assert.rejects(other.send({ topic: "t", messages: [] }), /rejected/);
  assert.equal(other.restarts, 0, "not a producer-state error: no fresh producer");
  assert.equal(made[0].sends, 1);
});
