// Part C's broker-restart experiment: POST /produce at a fixed rate the whole time; Kafka stopped
// and started again on the same log in the middle. While it is down the producer must answer a
// clear 503 within its deadline, with the eventId to retry with; after the load, the client
// retries each refused order with it. The services are not restarted: the consumers must come
// back alone. Every wait is bounded, and a service that exits (none may) ends the run at once as
// a failed check naming it.
import { randomUUID } from "node:crypto";
import { sleep, waitUntil } from "../../common/wait.js";
import type { AnalyticsMetrics } from "../lab/client.js";
import type { Check } from "../../harness/judge/check.js";
import type { Experiment, Run, Tally } from "../../harness/judge/experiment.js";
import { allAlive, clearError, countBy, pidOf, seconds, ServiceExited, steadyLoad } from "../../harness/run/stack.js";
import { whileAlive, type Sent } from "../../harness/run/stack.js";
import { TopicTap } from "../lab/kafka-tap.js";
import type { PartC } from "../lab/implementation.js";
import { counted, expectedFailures, metricChecks, type Counted, type SeededOptions } from "./seeded.js";

interface ProduceAnswer {
  orderId: string;
  eventId?: string;
  error?: string;
  message?: string;
}

interface RestartRun extends Run<PartC, SeededOptions> {
  prefix: string;
  pids: Record<string, number | undefined>;
  produceTimeoutMs: number;
  m0?: AnalyticsMetrics;
  m1?: AnalyticsMetrics;
  answers?: TopicTap;
  orders?: TopicTap;
  load?: ReturnType<typeof steadyLoad<ProduceAnswer>>;
  timeline: Record<string, number>;
  sent: Sent<ProduceAnswer>[];
  retried: number;
  /** A service that exited: the run ended there. */
  died?: string;
}

const probeId = (r: RestartRun) => `${r.prefix}probe`;

async function produce(impl: PartC, orderId: string, eventId?: string) {
  const r = await impl.placeOrder({ orderId, items: [{ sku: "burrito", qty: 1 }], ...(eventId ? { eventId } : {}) });
  const answer: ProduceAnswer = {
    orderId,
    eventId: (r.body?.event?.eventId as string | undefined) ?? r.body?.eventId,
    error: r.body?.error,
    message: r.body?.message,
  };
  return { status: r.status || "no answer", body: answer };
}

/** A step that ends the run (as a failed check) the moment a service exits. */
const guarded =
  (body: (r: RestartRun, alive: <T>(w: Promise<T>) => Promise<T>) => Promise<void>) => async (r: RestartRun) => {
    if (r.died) return;
    try {
      await body(r, (w) => whileAlive(r.impl.processes(), w));
    } catch (err) {
      if (!(err instanceof ServiceExited)) throw err;
      r.progress(`a service exited: ${err.message}`);
      r.died = err.message;
      r.sent = (await r.load?.stop()) ?? [];
    }
  };

/** Load throughout; Kafka down for `outage` s; then one order, under one eventId, until acknowledged and answered. */
const outage = guarded(async (r, alive) => {
  const [warmup, down, afterS] = r.opts.quick ? [2, 3, 3] : [5, 15, 10];
  const load = (r.load = steadyLoad(r.opts.quick ? 20 : 40, (seq) =>
    produce(r.impl, `${r.prefix}${String(seq).padStart(6, "0")}`),
  ));
  await alive(sleep(warmup * 1000));
  // Not cut short: a Kafka start left running could race the one in cleanup. A death during it shows next.
  await r.impl.broker().outage(down, r.timeline, load.now, (l) => r.progress(l));
  const eventId = randomUUID(); // an attempt that timed out may still get in: retried under one eventId
  const acked = async () => (await produce(r.impl, probeId(r), eventId)).status === 200;
  await alive(waitUntil(acked, "the producer to get acknowledgements again", 60_000, 500));
  const answered = () => r.answers!.messages.some((m) => m.key === probeId(r));
  await alive(waitUntil(answered, "inventory to answer again", 60_000, 100));
  r.timeline.recovered = load.now();
  await alive(sleep(afterS * 1000));
  r.sent = await load.stop();
  r.timeline.load_stopped = load.now();
});

/** The client's part: retry each refused order with the eventId its 503 gave; then every answer in. */
const retryAndCount = guarded(async (r, alive) => {
  for (const s of r.sent.filter((s) => s.status !== 200)) {
    if (!s.body.eventId) continue;
    for (let attempt = 0; attempt < 5; attempt++) {
      if ((await produce(r.impl, s.body.orderId, s.body.eventId)).status === 200) {
        r.retried++;
        break;
      }
      await sleep(1000);
    }
  }
  const acked = r.sent.filter((s) => s.status === 200).length;
  const allAnswered = () => new Set(r.answers!.messages.map((m) => m.key)).size >= acked + r.retried + 1;
  await alive(waitUntil(allAnswered, "an answer for every acknowledged order", 60_000, 200)).catch((err: unknown) => {
    if (err instanceof ServiceExited) throw err; // else: counted as unanswered
  });
  r.m1 = await alive(r.impl.whiteBox().waitForQuiet(120_000));
});

function restartChecks(r: RestartRun) {
  const { sent, timeline, answers, orders } = r;
  const refused = sent.filter((s) => s.status !== 200);
  const acked = sent.filter((s) => s.status === 200);
  const answered = new Set(answers!.messages.map((m) => m.key));
  const unanswered = acked.filter((s) => !answered.has(s.body.orderId));
  const inLog = new Set(orders!.messages.map((m) => m.key));
  const reached = [...sent.map((s) => s.body.orderId), probeId(r)].filter((id) => inLog.has(id));
  const ghosts = refused.filter((s) => orders!.messages.filter((m) => m.key === s.body.orderId).length > 1).length;
  const inOutage = sent.filter((s) => s.sent_ms >= timeline.stop && s.sent_ms < timeline.recovered);
  const unclear = refused.filter((s) => !(clearError(s.status, s.body) && s.status === 503 && s.body.eventId));
  const slowest = Math.max(0, ...inOutage.map((s) => s.ms));
  const stack = r.impl.processes();
  const samePids = Object.entries(r.pids).every(([s, pid]) => pid !== undefined && pidOf(stack, s) === pid);
  const statuses = (from: number, to: number) =>
    JSON.stringify(
      countBy(
        inOutage.filter((s) => s.sent_ms >= from && s.sent_ms < to),
        (s) => String(s.status),
      ),
    );
  const c = counted(r.m0!, r.m1!);
  const checks: Check[] = [
    {
      check: "the services reconnected by themselves (same processes)",
      passed: samePids && allAlive(stack),
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
      observed: `while Kafka was down ${statuses(0, timeline.serving)}, while the clients reconnected ${statuses(timeline.serving, Infinity)}; ${unclear.length} unclear`,
    },
    {
      check: `no hang: every answer until the clients reconnected within the produce deadline (${seconds(r.produceTimeoutMs)}) + 1 s`,
      passed: slowest <= r.produceTimeoutMs + 1000,
      observed: `slowest ${seconds(slowest)}`,
    },
    {
      check: "refused orders retried with their eventId are counted once",
      passed: r.retried === refused.length,
      observed: `${r.retried}/${refused.length} retried; ${ghosts} had been appended despite the 503 (counted once all the same)`,
    },
    ...metricChecks(c, reached.length, expectedFailures(reached, r.opts.seed)),
  ];
  const figures = {
    sent: sent.length,
    acknowledged: acked.length,
    refused: refused.length,
    retried: r.retried,
    ghosts,
  };
  const tally = restartTally(r, c, reached.length, unanswered.length);
  return { checks, tally, figures: { ...figures, "slowest answer in the outage (ms)": slowest }, c };
}

function restartTally(r: RestartRun, c: Counted, reached: number, unanswered: number): Tally {
  const { sent } = r;
  const acked = sent.filter((s) => s.status === 200);
  return {
    sent: sent.length,
    acknowledged: acked.length,
    final_states: { RESERVED: c.answers - c.failed, FAILED: c.failed },
    anomalies: {
      lost: unanswered + Math.max(0, reached - c.answers),
      "counted twice": Math.max(0, c.answers - reached) + Math.max(0, c.orders - reached),
    },
  };
}

export const brokerRestartExperiment: Experiment<PartC, SeededOptions, RestartRun, Record<string, unknown>> = {
  name: "broker-restart",
  part: "partC",
  title: "Part C — broker restart: Kafka stopped and started on its log under steady load",
  lesson: "A producer that cannot reach the log says so at once (503 with the eventId); the consumers come back alone.",
  needs: ["white-box stats", "processes", "broker process", "kafka"],
  safeguards: [],
  begin: (run) => ({
    ...run,
    prefix: `brk-${run.opts.seed}-`, // the ids, and so the failures, are the same in every run with this seed
    pids: {},
    produceTimeoutMs: 0,
    timeline: {},
    sent: [],
    retried: 0,
  }),
  steps: [
    {
      name: "settle, tap the topics",
      run: async (r) => {
        const stack = r.impl.processes();
        r.pids = Object.fromEntries(Object.keys(stack.running.services).map((s) => [s, pidOf(stack, s)]));
        r.produceTimeoutMs = (await r.impl.whiteBox().policy()).produce_timeout_ms; // PRODUCE_TIMEOUT_MS
        r.m0 = await r.impl.whiteBox().waitForQuiet();
        const w = await r.impl.kafka();
        const mine = (m: { key: string | null }) => m.key?.startsWith(r.prefix) ?? false;
        r.answers = await TopicTap.open(w.kafka, w.topics.inventory_events, undefined, mine);
        r.orders = await TopicTap.open(w.kafka, w.topics.orders, undefined, mine);
      },
    },
    { name: "steady load, Kafka stopped and started", run: outage },
    { name: "retry the refused orders, count", run: retryAndCount },
  ],
  cleanup: async (r) => {
    await r.load?.stop(); // stopped already unless the run ended early
    await r.answers?.close();
    await r.orders?.close();
    await r.impl
      .broker()
      .up()
      .catch(() => {});
  },
  judge: (r) => {
    const acknowledged = r.sent.filter((s) => s.status === 200).length;
    if (r.died)
      return {
        params: { seed: r.opts.seed },
        checks: [{ check: "the services reconnected by themselves (same processes)", passed: false, observed: r.died }],
        figures: {},
        tally: { sent: r.sent.length, acknowledged, anomalies: {} },
        data: { died: r.died },
      };
    const { checks, tally, figures, c } = restartChecks(r);
    r.progress(
      `${figures.sent} sent, ${acknowledged} acknowledged; analytics +${c.orders} orders, +${c.answers} answers`,
    );
    return {
      params: { seed: r.opts.seed, quick: !!r.opts.quick },
      checks,
      figures,
      tally,
      data: { timeline_ms: r.timeline, counted: c, statuses: countBy(r.sent, (s) => String(s.status)) },
    };
  },
};
