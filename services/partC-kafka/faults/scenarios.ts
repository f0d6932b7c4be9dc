// Part C (Kafka) under faults: the inventory consumer killed mid-stream, the broker restarted
// under load, every event delivered twice. Kafka delivers at least once; the effects are exactly
// once because analytics counts each eventId once and inventory answers an order with the same
// eventId every time. So what must hold: analytics counts every acknowledged order once, every
// order answered once, and the failures are exactly those the seed decides. Hostile input is in
// partC-bad-input.ts.
import { randomUUID } from "node:crypto";
import { BROKERS } from "../../harness/brokers/index.js";
import { differences, type AnalyticsMetrics } from "../lab/client.js";
import { labPartC } from "../lab/implementation.js";
import { sleep, waitUntil } from "../../common/wait.js";
import { newLoadTestOrderId } from "../../common/ids.js";
import { minuteOf } from "../metrics.js";
import { drawFor } from "../reserve.js";
import { toMessage, type OrderPlaced } from "../events.js";
import { GROUPS, TOPICS } from "../topics.js";
import type { Admin } from "kafkajs";
import { endOffsets, kafkaClient, produceRaw, TopicTap, total } from "../lab/kafka-tap.js";
import type { ScenarioOptions } from "../../harness/verdict.js";
import {
  allAlive,
  brokerOutage,
  clearError,
  countBy,
  openStack,
  pidOf,
  seconds,
  ServiceExited,
  steadyLoad,
  whileAlive,
  type Stack,
} from "../../harness/stack.js";
import type { Check } from "../../harness/check.js";
import { verdictOf, type ScenarioResult } from "../../harness/verdict.js";

export { badInput } from "./bad-input.js";

const FAIL_RATE = 0.2;

/** Part C with a seeded failure rate: which orders fail is known in advance. */
const openScenarioStack = (opts: ScenarioOptions, scenario: string) =>
  openStack("partC", opts, scenario, { INVENTORY_FAIL_RATE: String(FAIL_RATE), FAIL_SEED: String(opts.seed) });
/** The stack's services, white-box, and inventory restarted with a pause per message (ms; 0: none). */
function implOf(stack: Stack) {
  const impl = labPartC(stack.running, stack.lab);
  const throttle = (ms: number) => impl.start("inventory", { CONSUMER_THROTTLE_MS: String(ms) });
  return { ...impl.whiteBox(), placeOrder: impl.placeOrder.bind(impl), throttle };
}
const expectedFailures = (orderIds: string[], seed: number) =>
  orderIds.filter((id) => drawFor(id, seed) < FAIL_RATE).length;

/** What analytics counted between two readings: the effects of the run. */
function counted(m0: AnalyticsMetrics, m1: AnalyticsMetrics) {
  return {
    orders: m1.total_orders - m0.total_orders,
    answers: m1.total_reservations - m0.total_reservations,
    failed: m1.failed_reservations - m0.failed_reservations,
    duplicates_skipped: m1.duplicates_skipped - m0.duplicates_skipped,
    unreadable_skipped: m1.unreadable_skipped - m0.unreadable_skipped,
  };
}

/** The exactly-once invariants on analytics' numbers for `n` orders whose ids are known. */
function metricInvariants(c: ReturnType<typeof counted>, n: number, expectedFailed: number): Check[] {
  return [
    {
      check: "analytics counted every acknowledged order once",
      passed: c.orders === n,
      observed: `+${c.orders} orders for ${n}`,
    },
    {
      check: "every order answered by inventory and counted once",
      passed: c.answers === n,
      observed: `+${c.answers} answers for ${n}`,
    },
    {
      check: `failed = the orders the seed fails (rate ${FAIL_RATE})`,
      passed: c.failed === expectedFailed,
      observed: `${c.failed} failed, ${expectedFailed} expected`,
    },
  ];
}

const outcome = (c: ReturnType<typeof counted>, n: number) => ({
  final_states: { RESERVED: c.answers - c.failed, FAILED: c.failed },
  lost: Math.max(0, n - c.answers),
  duplicated_effects: Math.max(0, c.answers - n) + Math.max(0, c.orders - n),
});

// ---- Consumer crash ----

/**
 * A load test of n orders; the inventory consumer, throttled so the stream takes a few seconds,
 * is killed (kill -9) in the middle — at a moment when it has sent answers it has not committed
 * yet — and restarted (twice in the full run). The group resumes from the last commit, so those
 * orders are answered again: the log holds their answers twice, and analytics must count them once.
 */
export async function consumerCrash(opts: ScenarioOptions): Promise<ScenarioResult> {
  const n = opts.quick ? 4000 : 20_000;
  const kills = opts.quick ? 1 : 2;
  const stack = await openScenarioStack(opts, "C-consumer-crash");
  const impl = implOf(stack);
  const kafka = kafkaClient(impl.endpoints.kafka);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const m0 = await impl.waitForQuiet();
    const answers0 = total(await endOffsets(kafka, TOPICS.inventoryEvents));
    const committed0 = await committedOrders(admin);
    await impl.throttle(2); // ~1,500 orders/s
    const load = impl.loadTest(n);
    const atKill: { answered: number; uncommitted: number; tries: number }[] = [];
    for (let k = 1; k <= kills; k++) {
      const target = Math.round((k * n) / (kills + 1));
      await impl.waitForMetrics(
        (m) => m.total_reservations - m0.total_reservations >= target,
        `inventory to answer ${target} orders`,
        120_000,
        undefined,
        20,
      );
      // Answers in the log beyond the orders committed, less those the earlier kills already caused.
      const resent = atKill.reduce((sum, a) => sum + Math.max(0, a.uncommitted), 0);
      // The lab's own inventory process, frozen and killed at a chosen moment: process control below the implementation.
      const kill = await killWithAnswersUncommitted(pidOf(stack, "inventory")!, async () => {
        const answered = total(await endOffsets(kafka, TOPICS.inventoryEvents)) - answers0 - resent;
        return { answered, uncommitted: answered - ((await committedOrders(admin)) - committed0) };
      });
      atKill.push(kill);
      opts.log(
        `kill -9 #${k} of inventory with ${kill.answered}/${n} orders answered, ${kill.uncommitted >= 0 ? `${kill.uncommitted} of them not committed` : `${-kill.uncommitted} more committed but not answered`} (found after ${kill.tries} freeze(s))`,
      );
      // It rejoins once the dead member's session (10 s) expires; throttled again unless it is the last start.
      await impl.throttle(k < kills ? 2 : 0);
    }
    const produced = (await load).produced;
    const m1 = await impl.waitForQuiet(180_000);
    const c = counted(m0, m1);
    const answersInLog = total(await endOffsets(kafka, TOPICS.inventoryEvents)) - answers0;
    const expectedFailed = expectedFailures(
      Array.from({ length: n }, (_, i) => newLoadTestOrderId(i)),
      opts.seed,
    );
    const o = outcome(c, n);
    opts.log(
      `${produced} produced; ${answersInLog} answers in the log for ${n} orders, analytics counted ${c.answers} (skipped ${c.duplicates_skipped} duplicates)`,
    );
    return verdictOf({
      scenario: "C-consumer-crash",
      part: "C",
      seed: opts.seed,
      orders_sent: n,
      orders_acknowledged: produced,
      ...o,
      invariants: [
        {
          check: `inventory killed (kill -9) mid-stream with answers sent but not committed, ${kills} time(s)`,
          passed: atKill.every((a) => a.answered > 0 && a.answered < n && a.uncommitted > 0),
          observed: atKill.map((a) => `${a.answered}/${n} answered, ${a.uncommitted} uncommitted`).join("; "),
        },
        ...metricInvariants(c, n, expectedFailed),
        {
          check: "answers sent again after the kill (at-least-once) were each counted once",
          passed:
            answersInLog - n === c.duplicates_skipped &&
            answersInLog - n >= atKill.reduce((sum, a) => sum + a.uncommitted, 0),
          observed: `${answersInLog - n} answers in the log twice, ${c.duplicates_skipped} skipped by analytics as duplicates`,
        },
        {
          check: "every service still runs",
          passed: allAlive(stack),
          observed: allAlive(stack) ? "all alive" : "a service died",
        },
      ],
      details: { counted: c, answers_in_log: answersInLog, at_kill: atKill, expected_failed: expectedFailed },
    });
  } finally {
    await admin.disconnect();
    await stack.release();
  }
}

/** Orders the inventory group has committed (next offsets summed over the partitions of `orders`). */
async function committedOrders(admin: Admin): Promise<number> {
  const [topic] = await admin.fetchOffsets({ groupId: GROUPS.inventory, topics: [TOPICS.orders] });
  return topic.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

/** A signal to a lab process and its children (its process group); nothing if it is gone. */
export function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // already gone
  }
}

/**
 * kill -9 at a moment when the consumer's answers and its committed offset disagree: freeze it
 * (SIGSTOP), look, and kill it if so, else let it run a few milliseconds more and look again.
 * That window (between the acknowledged send and the commit) is what at-least-once is about; a
 * kill at a random moment almost never lands in it. With `commit-after-ack` switched off the
 * commit comes first, and the window is the other way round: committed, not yet answered
 * (`uncommitted` < 0).
 */
async function killWithAnswersUncommitted(
  pid: number,
  look: () => Promise<{ answered: number; uncommitted: number }>,
  maxTries = 500,
) {
  const signal = (sig: NodeJS.Signals) => signalGroup(pid, sig);
  for (let tries = 1; ; tries++) {
    signal("SIGSTOP");
    const seen = await look();
    if (seen.uncommitted !== 0 || tries === maxTries) {
      signal("SIGKILL");
      signal("SIGCONT");
      return { ...seen, tries };
    }
    signal("SIGCONT");
    await sleep(1 + Math.floor(Math.random() * 15));
  }
}

// ---- Broker restart ----

interface ProduceAnswer {
  orderId: string;
  eventId?: string;
  error?: string;
  message?: string;
}

/**
 * POST /produce at a fixed rate the whole time; Kafka stopped and started again on the same log
 * in the middle. While it is down the producer must answer a clear 503 within its deadline, with
 * the eventId to retry with; after the load, the client retries each refused order with it. The
 * services are not restarted: the consumers must come back alone. Every wait is bounded, and a
 * service that exits (none may) ends the scenario at once as a failed invariant naming it.
 */
export async function brokerRestart(opts: ScenarioOptions): Promise<ScenarioResult> {
  const rate = opts.quick ? 20 : 40;
  const [warmup, outage, afterS] = opts.quick ? [2, 3, 3] : [5, 15, 10];
  const stack = await openScenarioStack(opts, "C-broker-restart");
  const impl = implOf(stack);
  const pids = Object.fromEntries(Object.keys(stack.running.services).map((s) => [s, pidOf(stack, s)]));
  const kafka = kafkaClient(impl.endpoints.kafka);
  const prefix = `brk-${opts.seed}-`; // the ids, and so the failures, are the same in every run with this seed
  const mine = (m: { key: string | null }) => m.key?.startsWith(prefix) ?? false;
  let answers: TopicTap | undefined;
  let orders: TopicTap | undefined;
  let load: ReturnType<typeof steadyLoad<ProduceAnswer>> | undefined;
  // A wait that ends at once if a service died: a dead inventory never answers, however long we wait.
  const alive = <T>(work: Promise<T>) => whileAlive(stack, work);
  try {
    const produceTimeoutMs = (await impl.policy()).produce_timeout_ms; // what the producer declares (PRODUCE_TIMEOUT_MS)
    const m0 = await impl.waitForQuiet();
    answers = await TopicTap.open(kafka, TOPICS.inventoryEvents, undefined, mine);
    orders = await TopicTap.open(kafka, TOPICS.orders, undefined, mine);
    const produce = async (orderId: string, eventId?: string) => {
      const r = await impl.placeOrder({
        orderId,
        items: [{ sku: "burrito", qty: 1 }],
        ...(eventId ? { eventId } : {}),
      });
      const answer: ProduceAnswer = {
        orderId,
        eventId: (r.body?.event?.eventId as string | undefined) ?? r.body?.eventId,
        error: r.body?.error,
        message: r.body?.message,
      };
      return { status: r.status || "no answer", body: answer };
    };
    const timeline: Record<string, number> = {};
    load = steadyLoad(rate, (seq) => produce(`${prefix}${String(seq).padStart(6, "0")}`));
    await alive(sleep(warmup * 1000));
    // Not cut short: a Kafka start left running could race the one in `finally`. A death during it shows next.
    await brokerOutage("kafka", opts, outage, timeline, load.now);
    // Back to normal: an order produced now is answered and counted, without restarting anything.
    // One order, retried under one eventId until acknowledged: an attempt that timed out may still get in.
    const probeId = `${prefix}probe`;
    const probeEventId = randomUUID();
    await alive(
      waitUntil(
        async () => (await produce(probeId, probeEventId)).status === 200,
        "the producer to get acknowledgements again",
        60_000,
        500,
      ),
    );
    await alive(
      waitUntil(() => answers!.messages.some((m) => m.key === probeId), "inventory to answer again", 60_000, 100),
    );
    timeline.recovered = load.now();
    await alive(sleep(afterS * 1000));
    const sent = await load.stop();
    timeline.load_stopped = load.now();

    // The client's part: retry each refused order with the eventId its 503 gave.
    const refused = sent.filter((s) => s.status !== 200);
    let retried = 0;
    for (const r of refused) {
      if (!r.body.eventId) continue;
      for (let attempt = 0; attempt < 5; attempt++) {
        if ((await produce(r.body.orderId, r.body.eventId)).status === 200) {
          retried++;
          break;
        }
        await sleep(1000);
      }
    }
    const acked = sent.filter((s) => s.status === 200);
    const everyOrder = [...sent.map((s) => s.body.orderId), probeId];
    await alive(
      waitUntil(
        () => new Set(answers!.messages.map((m) => m.key)).size >= acked.length + retried + 1,
        "an answer for every acknowledged order",
        60_000,
        200,
      ),
    ).catch((err: unknown) => {
      if (err instanceof ServiceExited) throw err; // else: counted as unanswered below
    });
    const m1 = await alive(impl.waitForQuiet(120_000));
    const c = counted(m0, m1);
    const answered = new Set(answers.messages.map((m) => m.key));
    const unanswered = acked.filter((s) => !answered.has(s.body.orderId));
    const inLog = new Set(orders.messages.map((m) => m.key));
    const n = everyOrder.filter((id) => inLog.has(id)).length; // distinct orders that reached the log
    const ghosts = refused.filter((r) => orders!.messages.filter((m) => m.key === r.body.orderId).length > 1).length;
    const inOutage = sent.filter((s) => s.sent_ms >= timeline.stop && s.sent_ms < timeline.recovered);
    const unclear = refused.filter((s) => !(clearError(s.status, s.body) && s.status === 503 && s.body.eventId));
    const slowest = Math.max(0, ...inOutage.map((s) => s.ms));
    const samePids =
      Object.entries(pids).every(([s, pid]) => pid !== undefined && pidOf(stack, s) === pid) && allAlive(stack);
    const expectedFailed = expectedFailures(
      everyOrder.filter((id) => inLog.has(id)),
      opts.seed,
    );
    const o = outcome(c, n);
    opts.log(
      `${sent.length} sent, ${acked.length} acknowledged, ${refused.length} refused (${retried} retried with their eventId); analytics +${c.orders} orders, +${c.answers} answers`,
    );
    return verdictOf({
      scenario: "C-broker-restart",
      part: "C",
      seed: opts.seed,
      orders_sent: sent.length,
      orders_acknowledged: acked.length,
      ...o,
      lost: unanswered.length + o.lost,
      invariants: [
        {
          check: "the services reconnected by themselves (same processes)",
          passed: samePids,
          observed: `an order answered ${seconds(timeline.recovered - timeline.serving)} after Kafka was back; pids ${samePids ? "unchanged" : "changed"}`,
        },
        {
          check: "every order acknowledged with 200 was answered by inventory",
          passed: unanswered.length === 0,
          observed: `${acked.length - unanswered.length}/${acked.length}`,
        },
        {
          check: "every refusal was a clear 503 with the eventId to retry with",
          passed: unclear.length === 0 && inOutage.length > 0,
          observed: `while Kafka was down ${JSON.stringify(
            countBy(
              inOutage.filter((s) => s.sent_ms < timeline.serving),
              (s) => String(s.status),
            ),
          )}, while the clients reconnected ${JSON.stringify(
            countBy(
              inOutage.filter((s) => s.sent_ms >= timeline.serving),
              (s) => String(s.status),
            ),
          )}; ${unclear.length} unclear`,
        },
        {
          check: `no hang: every answer until the clients reconnected within the produce deadline (${seconds(produceTimeoutMs)}) + 1 s`,
          passed: slowest <= produceTimeoutMs + 1000,
          observed: `slowest ${seconds(slowest)}`,
        },
        {
          check: "refused orders retried with their eventId are counted once",
          passed: retried === refused.length,
          observed: `${retried}/${refused.length} retried; ${ghosts} had been appended despite the 503 (counted once all the same)`,
        },
        ...metricInvariants(c, n, expectedFailed),
      ],
      details: {
        timeline_ms: timeline,
        counted: c,
        refused: refused.length,
        retried,
        ghosts,
        slowest_ms_in_outage: slowest,
        statuses: countBy(sent, (s) => String(s.status)),
      },
    });
  } catch (err) {
    if (!(err instanceof ServiceExited)) throw err;
    opts.log(`C-broker-restart: ${err.message}`);
    const sent = (await load?.stop()) ?? [];
    return verdictOf({
      scenario: "C-broker-restart",
      part: "C",
      seed: opts.seed,
      orders_sent: sent.length,
      orders_acknowledged: sent.filter((s) => s.status === 200).length,
      final_states: {},
      lost: 0,
      duplicated_effects: 0,
      invariants: [
        { check: "the services reconnected by themselves (same processes)", passed: false, observed: err.message },
      ],
    });
  } finally {
    await load?.stop(); // stopped already unless the scenario ended early
    await answers?.close();
    await orders?.close();
    await BROKERS.kafka.up({ home: opts.home, mode: "native" }).catch(() => {});
    await stack.release();
  }
}

// ---- Duplicates ----

/**
 * Every event of a run delivered twice: n orders produced, then each OrderPlaced appended again
 * with its eventId (inventory answers the copy too, with the same answer eventId), then each
 * inventory answer appended once more by hand. Analytics must count what one delivery counts,
 * and a replay of this log full of duplicates must give the same numbers again.
 */
export async function duplicates(opts: ScenarioOptions): Promise<ScenarioResult> {
  const n = opts.quick ? 200 : 2000;
  const stack = await openScenarioStack(opts, "C-duplicates");
  const impl = implOf(stack);
  const kafka = kafkaClient(impl.endpoints.kafka);
  const prefix = `dup-${opts.seed}-`; // the ids, and so the failures, are the same in every run with this seed
  let answers: TopicTap | undefined;
  try {
    const m0 = await impl.waitForQuiet();
    answers = await TopicTap.open(kafka, TOPICS.inventoryEvents, undefined, (m) => m.key?.startsWith(prefix) ?? false);
    const events: OrderPlaced[] = [];
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < n; i = next++) {
        const r = await impl.placeOrder({
          orderId: `${prefix}${String(i).padStart(6, "0")}`,
          items: [{ sku: "burrito", qty: 1 + (i % 3) }],
        });
        if (r.status === 200) events.push(r.body.event as unknown as OrderPlaced);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    // 1. Each OrderPlaced again, same eventId.
    await produceRaw(kafka, TOPICS.orders, events.map(toMessage));
    await waitUntil(
      () => answers!.messages.length >= 2 * events.length,
      "inventory to answer the originals and the copies",
      60_000,
      100,
    );
    // 2. Each answer once more.
    const byEventId = new Map<string, (typeof answers.messages)[number]>();
    for (const m of answers.messages) {
      const id = (JSON.parse(m.value!.toString()) as { eventId: string }).eventId;
      if (!byEventId.has(id)) byEventId.set(id, m);
    }
    await produceRaw(
      kafka,
      TOPICS.inventoryEvents,
      [...byEventId.values()].map((m) => ({ key: m.key, value: m.value, headers: m.headers })),
    );
    const m1 = await impl.waitForQuiet(120_000);
    await waitUntil(
      () => answers!.messages.length >= 3 * events.length,
      "the tap to read the copies of the answers",
      30_000,
      100,
    ).catch(() => {});
    const c = counted(m0, m1);
    const answerCopies = countBy(
      answers.messages.map((m) => (JSON.parse(m.value!.toString()) as { eventId: string }).eventId),
      (id) => id,
    );
    const deliveries = Object.values(answerCopies);

    // The same log, replayed: duplicates and all, the numbers must come out the same.
    const replay = await impl.replay();
    const m2 = await impl.waitForMetrics(
      (m) => m.replay.started_at === replay.started_at && !m.replay.running,
      "the replay to finish",
      120_000,
    );
    const diff = differences(m1, m2);

    const expectedMinutes = countBy(events, (e) => minuteOf(e.createdAt));
    const minutesOff = Object.entries(expectedMinutes).filter(
      ([minute, k]) => (m1.orders_per_minute[minute] ?? 0) - (m0.orders_per_minute[minute] ?? 0) !== k,
    );
    const expectedFailed = expectedFailures(
      events.map((e) => e.orderId),
      opts.seed,
    );
    const o = outcome(c, events.length);
    opts.log(
      `${events.length} orders; every OrderPlaced twice, every answer ${Math.min(...deliveries)}–${Math.max(...deliveries)} times; analytics +${c.orders} orders, +${c.answers} answers, ${c.duplicates_skipped} duplicates skipped`,
    );
    return verdictOf({
      scenario: "C-duplicates",
      part: "C",
      seed: opts.seed,
      orders_sent: n,
      orders_acknowledged: events.length,
      ...o,
      invariants: [
        {
          check: "every event of the run was delivered at least twice",
          passed: byEventId.size === events.length && deliveries.every((d) => d >= 3),
          observed: `${events.length} OrderPlaced ×2; ${byEventId.size} answers ×${Math.min(...deliveries)} (inventory answered each copy, then one more by hand)`,
        },
        ...metricInvariants(c, events.length, expectedFailed),
        {
          check: "orders per minute as for one delivery",
          passed: minutesOff.length === 0,
          observed: minutesOff.length
            ? `${minutesOff.length} minutes off`
            : `${Object.keys(expectedMinutes).length} minute(s) match`,
        },
        {
          check: "every copy recognised by its eventId",
          passed: c.duplicates_skipped === events.length + deliveries.reduce((s, d) => s + d - 1, 0),
          observed: `${c.duplicates_skipped} skipped for ${events.length} order copies and ${deliveries.reduce((s, d) => s + d - 1, 0)} answer copies`,
        },
        {
          check: "a replay of the log with its duplicates gives the same metrics",
          passed: diff.length === 0,
          observed: diff.length ? JSON.stringify(diff) : `equal after replaying ${m2.replay.events_read} events`,
        },
      ],
      details: { counted: c, answer_deliveries: countBy(deliveries, String), expected_failed: expectedFailed },
    });
  } finally {
    await answers?.close();
    await stack.release();
  }
}
