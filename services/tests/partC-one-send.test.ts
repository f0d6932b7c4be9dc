// The order producer's send path (partC-kafka/one-send-at-a-time.ts) against a stand-in for
// kafkajs' send that answers as Kafka does (per partition, its first offset): never two sends in
// flight, what waits goes out together, each caller gets its own events' places, and deadlines.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Message, RecordMetadata } from "kafkajs";
import { AckTimeout, NotSent, OneSendAtATime } from "../partC-kafka/one-send-at-a-time.js";

/** A log of 3 partitions; the partition is the key's last digit mod 3. Sends end when told to. */
function fakeKafka() {
  const ends = [0, 0, 0];
  const partitionOf = (m: Message) => Number(String(m.key).slice(-1)) % 3;
  const sends: { messages: Message[]; answer(err?: Error): void }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const send = (messages: Message[]) =>
    new Promise<RecordMetadata[]>((resolve, reject) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      sends.push({
        messages,
        answer: (err) => {
          inFlight--;
          if (err) return reject(err);
          const acks: RecordMetadata[] = [];
          for (const p of new Set(messages.map(partitionOf))) {
            acks.push({ topicName: "orders", partition: p, errorCode: 0, baseOffset: String(ends[p]) });
            ends[p] += messages.filter((m) => partitionOf(m) === p).length;
          }
          resolve(acks);
        },
      });
    });
  return { send, partitionOf, sends, maxInFlight: () => maxInFlight };
}

const msg = (key: string): Message => ({ key, value: key });
const tick = () => new Promise((r) => setImmediate(r));

test("one send in flight; requests that arrive meanwhile go out together, each answered with its own places", async () => {
  const kafka = fakeKafka();
  const orders = new OneSendAtATime(kafka.send, kafka.partitionOf, 1000);
  const first = orders.append([msg("o0")]);
  const waiting = [orders.append([msg("o1"), msg("o4")]), orders.append([msg("o3")]), orders.append([msg("o7")])];
  await tick();
  assert.equal(kafka.sends.length, 1, "the others wait for the first send");
  kafka.sends[0].answer();
  assert.deepEqual(await first, [{ partition: 0, offset: "0" }]);
  await tick();
  assert.equal(kafka.sends.length, 2);
  assert.deepEqual(
    kafka.sends[1].messages.map((m) => m.key),
    ["o1", "o4", "o3", "o7"],
  );
  kafka.sends[1].answer();
  assert.deepEqual(await Promise.all(waiting), [
    [
      { partition: 1, offset: "0" },
      { partition: 1, offset: "1" },
    ],
    [{ partition: 0, offset: "1" }],
    [{ partition: 1, offset: "2" }],
  ]);
  assert.equal(kafka.maxInFlight(), 1);
});

test("a send carries at most maxMessages of several callers; a larger batch goes alone", async () => {
  const kafka = fakeKafka();
  const orders = new OneSendAtATime(kafka.send, kafka.partitionOf, 3);
  const all = [
    orders.append([msg("a0")]),
    orders.append(["b0", "b1", "b2", "b3", "b4"].map(msg)),
    orders.append([msg("c0"), msg("c1")]),
    orders.append([msg("d0")]),
    orders.append([msg("e0")]),
  ];
  const sizes: number[] = [];
  while (sizes.reduce((a, b) => a + b, 0) < 10) {
    await tick();
    const s = kafka.sends[sizes.length];
    sizes.push(s.messages.length);
    s.answer();
  }
  await Promise.all(all);
  assert.deepEqual(sizes, [1, 5, 3, 1]);
});

test("a failed send fails every caller in it, and the next send goes on", async () => {
  const kafka = fakeKafka();
  const orders = new OneSendAtATime(kafka.send, kafka.partitionOf, 1000);
  const first = orders.append([msg("x0")]);
  const a = orders.append([msg("a1")]);
  const b = orders.append([msg("b2")]);
  await tick();
  kafka.sends[0].answer();
  await first;
  await tick();
  kafka.sends[1].answer(new Error("broker said no"));
  await assert.rejects(a, /broker said no/);
  await assert.rejects(b, /broker said no/);
  const c = orders.append([msg("c0")]);
  await tick();
  kafka.sends[2].answer();
  assert.deepEqual(await c, [{ partition: 0, offset: "1" }]);
});

test("deadline: still waiting → NotSent and never sent; in flight → AckTimeout while the send goes on", async () => {
  const kafka = fakeKafka();
  const orders = new OneSendAtATime(kafka.send, kafka.partitionOf, 1000);
  const inFlight = orders.append([msg("s0")], 50);
  const queued = orders.append([msg("q1")], 50);
  await assert.rejects(inFlight, AckTimeout);
  await assert.rejects(queued, NotSent);
  kafka.sends[0].answer(); // Kafka answers late: the next caller goes, without the dropped event
  const next = orders.append([msg("n2")]);
  await tick();
  assert.deepEqual(
    kafka.sends.map((s) => s.messages.map((m) => m.key)),
    [["s0"], ["n2"]],
  );
  kafka.sends[1].answer();
  assert.deepEqual(await next, [{ partition: 2, offset: "0" }]);
});

test("an answer without the partition of a sent event is an error, not a wrong offset", async () => {
  const orders = new OneSendAtATime(
    async () => [{ topicName: "orders", partition: 0, errorCode: 0, baseOffset: "5" }],
    () => 1,
    1000,
  );
  await assert.rejects(orders.append([msg("o1")]), /no offset for a message sent to partition 1/);
});
