// Poison messages and the dead-letter queue (the assignment's "show DLQ / poison-message
// handling for a malformed event"), on any Part B: a body that is not JSON and an OrderPlaced
// missing its required fields are published on its exchange with OrderPlaced's routing key. The
// dead-letter queue must grow (a passive look: nothing is read from it), and a good order placed
// after them must still get its InventoryReserved/InventoryFailed on the wire. Where the
// implementation states its reasons (the lab's own /health), each poison message has one. With
// `hostile` and `fuzzRuns` (the B-bad-input scenario), generated bodies join the poison (those the
// lab's own decoder refuses must be dead-lettered: capability "stats") and generated requests hit
// the order service, which must answer each with a clear 4xx or a success, never a 5xx.
import type { Experiment, ExperimentOptions, Run } from "../../harness/judge/experiment.js";
import { timeSeriesSpec } from "../../harness/show/plots.js";
import { sampleEvery, type Sampler } from "../../harness/measure/sampler.js";
import { check, type Check } from "../../harness/judge/check.js";
import type { Row } from "../../common/table.js";
import { sleep } from "../../common/wait.js";
import type { PartB } from "../lab/implementation.js";
import type { WireTap } from "../lab/tap.js";
import type { FuzzResult } from "../../harness/measure/fuzz.js";
import { is2xx } from "./orders.js";
import { fuzzOrderService, hostileOrderPlaced } from "./hostile.js";

export interface DeadLetterOptions extends ExperimentOptions {
  /** How long the poison has to reach the dead-letter queue (default 10 s). */
  waitMs?: number;
  /** Generated bodies published on OrderPlaced's route besides the two poison messages, and their seed. */
  hostile?: number;
  seed?: number;
  /** Generated requests per endpoint of the order service's contract. */
  fuzzRuns?: number;
}

export interface PoisonMessage {
  name: string;
  message_id: string;
  body: string;
}

export interface DeadLetterSample {
  t_s: number;
  dlq_depth?: number;
  queue_depth?: number;
  consumers?: number;
}

export interface DeadLetterData {
  poison: (PoisonMessage & { published_s: number; reason?: string })[];
  dlq_before?: number;
  dlq_after?: number;
  samples: DeadLetterSample[];
  events: { t_s: number; label: string }[];
  good_order: { order_id: string; http_status: number; answer: string; answered_ms?: number };
  /** What the order service answered to generated requests, per endpoint (failures: the first few). */
  http: FuzzResult[];
  hostile_published: number;
}

export interface DeadLetterRun extends Run<PartB, DeadLetterOptions>, DeadLetterData {
  tap?: WireTap;
  sampler?: Sampler;
  /** The implementation's dead-letter count before (where it shows one). */
  deadLettered0?: number;
  checks: Check[];
}

/** The seed's malformed JSON, and an OrderPlaced without the fields the contract requires (order_id, items). */
export function poisonMessages(tag = Date.now().toString(36)): PoisonMessage[] {
  return [
    { name: "malformed JSON", message_id: `poison-json-${tag}`, body: '{"order_id": "poison", "invalid": json}' },
    {
      name: "missing required fields",
      message_id: `poison-fields-${tag}`,
      body: JSON.stringify({ event_type: "OrderPlaced", message_id: `poison-fields-${tag}`, user_id: "u-dlq" }),
    },
  ];
}

const TO_DLQ = "poison reaches the dead-letter queue (its depth grows), not dropped silently";
const KEEPS_WORKING = "the consumer keeps working: a good order after the poison is answered on the wire";
const REASONS = "the implementation states each poison message's reason (/health recent_dead_letters)";
const HOSTILE = "generated OrderPlaced bodies: those the lab's own decoder refuses are poison too";
const NO_5XX = "HTTP: generated requests get a clear 4xx or a success, never a 5xx or a dropped connection";
const GENERATED = "generated";

async function sample(r: DeadLetterRun): Promise<DeadLetterSample> {
  const look = async (name: string | undefined) => (name && r.tap ? await r.tap.depth(name) : undefined);
  const [d, q] = [await look(r.impl.broker?.dlq), await look(r.impl.broker?.queue)];
  const s = {
    t_s: r.now(),
    ...(d ? { dlq_depth: d.messages } : {}),
    ...(q ? { queue_depth: q.messages, consumers: q.consumers } : {}),
  };
  r.samples.push(s);
  return s;
}

async function publishPoison(r: DeadLetterRun): Promise<void> {
  const tap = (r.tap = await r.impl.tap());
  const broker = r.impl.broker!;
  r.sampler = sampleEvery(100, () => sample(r));
  const before = await sample(r);
  r.dlq_before = before.dlq_depth;
  if (r.impl.capabilities.has("stats")) r.deadLettered0 = (await r.impl.stats("inventory")).dead_lettered as number;
  // The generated ones first: the named poison is then the latest in /health's recent dead letters.
  if (r.opts.hostile) await r.unless(HOSTILE, () => publishHostile(r, tap, r.opts.hostile!));
  for (const p of poisonMessages()) {
    const props = { messageId: p.message_id, contentType: "application/json", persistent: true };
    await tap.publish(broker.exchange, broker.routing_key, Buffer.from(p.body), props);
    r.poison.push({ ...p, published_s: r.now() });
    r.events.push({ t_s: r.now(), label: `${p.name} published` });
    r.progress(`published ${p.name}: ${p.body}`);
  }
  const grown = await r.unless(TO_DLQ, () => untilDlqGrows(r));
  const after = await sample(r);
  r.dlq_after = after.dlq_depth;
  if (grown === undefined) return;
  const queueText =
    after.queue_depth === undefined
      ? ""
      : after.queue_depth <= (before.queue_depth ?? 0)
        ? `; ${broker.queue} back to ${after.queue_depth}: the consumer took the poison off its queue without dead-lettering it — dropped silently`
        : `; ${broker.queue} holds ${after.queue_depth}: the poison was not consumed, or was requeued`;
  r.checks.push(
    check(
      TO_DLQ,
      grown,
      `${broker.dlq} ${r.dlq_before} → ${after.dlq_depth} for ${r.poison.length} poison messages${grown ? "" : queueText}`,
    ),
  );
}

async function publishHostile(r: DeadLetterRun, tap: WireTap, n: number): Promise<void> {
  r.impl.capabilities.need("stats"); // which of them are poison, the lab's own decoder says
  const broker = r.impl.broker!;
  for (const m of hostileOrderPlaced(r.opts.seed ?? 42, n)) {
    const props = { persistent: true, ...(m.message_id ? { messageId: m.message_id } : {}) };
    await tap.publish(broker.exchange, broker.routing_key, m.body, props);
    r.hostile_published++;
    const body = m.body.subarray(0, 80).toString("utf8");
    if (!m.readable) r.poison.push({ name: GENERATED, message_id: m.message_id ?? "", body, published_s: r.now() });
  }
  r.events.push({ t_s: r.now(), label: `${n} generated bodies published` });
  r.progress(`published ${n} generated bodies, ${r.poison.filter((p) => p.name === GENERATED).length} of them poison`);
}

async function fuzzOrders(r: DeadLetterRun): Promise<void> {
  if (!r.opts.fuzzRuns) return;
  r.http = await fuzzOrderService(r.impl, r.opts.fuzzRuns, r.opts.seed ?? 42);
  const requests = r.http.reduce((n, h) => n + h.requests, 0);
  const broken = serverErrors(r.http);
  const unclear = r.http.reduce((n, h) => n + h.unclear, 0);
  r.progress(`${requests} generated requests: ${broken.length} 5xx or dropped, ${unclear} unclear 4xx`);
  r.checks.push(
    check(NO_5XX, broken.length === 0, `${broken.length} of ${requests}`),
    check("HTTP: every 4xx says what was wrong", unclear === 0, `${unclear} unclear`),
  );
}

const firstFailures = (http: FuzzResult[]) => http.map((h) => ({ ...h, failures: h.failures.slice(0, 5) }));
const serverErrors = (http: FuzzResult[]) =>
  http.flatMap((h) => h.failures.filter((f) => typeof f.status === "string" || Number(f.status) >= 500));

/** Wait until the dead-letter queue holds the poison, or the time is up; true if it did. */
async function untilDlqGrows(r: DeadLetterRun): Promise<boolean> {
  r.impl.capabilities.need("dlq");
  const deadline = Date.now() + (r.opts.waitMs ?? 10_000);
  while (Date.now() < deadline) {
    if ((await r.tap!.depth(r.impl.broker!.dlq!)).messages >= r.dlq_before! + r.poison.length) return true;
    await sleep(50);
  }
  return false;
}

async function placeGoodOrder(r: DeadLetterRun): Promise<void> {
  const tap = r.tap!;
  const placedAt = r.now();
  const placed = await r.impl.placeOrder();
  const id = typeof placed.body?.order_id === "string" ? placed.body.order_id : "";
  r.good_order = { order_id: id, http_status: placed.status, answer: "" };
  r.events.push({ t_s: placedAt, label: "good order placed" });
  const accepted = is2xx(placed.status) && !!id;
  await r.unless(KEEPS_WORKING, async () => {
    r.impl.capabilities.need("inventory events");
    if (accepted) await tap.until(() => tap.inventoryEvents(id).length > 0, 15_000);
    const event = id ? tap.inventoryEvents(id)[0] : undefined;
    if (event) {
      Object.assign(r.good_order, { answer: event.kind, answered_ms: Math.round((r.now() - placedAt) * 1000) });
      r.events.push({ t_s: r.now(), label: `good order: ${event.kind}` });
    }
    r.progress(`good order ${id || "(no order_id)"}: ${event ? event.kind : "no answer on the wire"}`);
    const observed = !accepted
      ? `HTTP ${placed.status} ${id || "no order_id"}: the order was not accepted`
      : event
        ? `${event.kind} for ${id}`
        : `no InventoryReserved/InventoryFailed for ${id} in 15 s: the consumer stopped after the poison`;
    r.checks.push(check(KEEPS_WORKING, !!event, observed));
  });
  await r.unless(REASONS, async () => {
    const inv = await r.impl.stats("inventory");
    const notes = (inv.recent_dead_letters ?? []) as { message_id?: string; reason: string }[];
    for (const p of r.poison) p.reason = notes.find((n) => n.message_id === p.message_id)?.reason;
    const counted = (inv.dead_lettered as number) - r.deadLettered0!;
    const named = r.poison.filter((p) => p.name !== GENERATED);
    r.checks.push(
      check(
        REASONS,
        named.every((p) => p.reason) && counted >= r.poison.length,
        `+${counted} dead-lettered; ` + named.map((p) => `${p.name}: ${p.reason ?? "no reason"}`).join("; "),
      ),
    );
  });
  await sleep(500); // a flat tail on the plot
}

export const deadLetter: Experiment<PartB, DeadLetterOptions, DeadLetterRun, DeadLetterData> = {
  name: "dlq",
  part: "partB",
  title: "Part B — poison messages and the dead-letter queue",
  lesson: "A message the consumer cannot read goes to the dead-letter queue, and the consumer keeps going.",
  needs: ["wire"],
  safeguards: ["dead-letter"],
  begin: (run) => ({
    ...run,
    poison: [],
    samples: [],
    events: [],
    good_order: { order_id: "", http_status: 0, answer: "" },
    http: [],
    hostile_published: 0,
    checks: [],
  }),
  steps: [
    { name: "publish poison", run: publishPoison },
    { name: "fuzz the order service", run: fuzzOrders },
    { name: "place a good order", run: placeGoodOrder },
  ],
  cleanup: async (r) => {
    await r.sampler?.stop();
    await r.tap?.close();
  },
  judge: judgeDeadLetter,
  files: (result) => {
    const { params: p, data: d } = result;
    const rows = d.samples.flatMap((s) => [
      ...(s.dlq_depth !== undefined
        ? [{ t_s: s.t_s, value: s.dlq_depth, series: `messages in ${String(p.dlq)}` }]
        : []),
      ...(s.queue_depth !== undefined
        ? [{ t_s: s.t_s, value: s.queue_depth, series: `messages in ${String(p.queue)}` }]
        : []),
    ]);
    return {
      data: { "samples.csv": d.samples as unknown as Row[] },
      plots: {
        "dlq-depth.svg": timeSeriesSpec({
          rows,
          title: `Part B — ${result.target.name}: poison messages and the dead-letter queue`,
          yTitle: "messages",
          events: d.events,
        }),
      },
    };
  },
};

/** Anomalies: poison not in the dead-letter queue, the good order unanswered, 5xx or dropped requests. */
function judgeDeadLetter(r: DeadLetterRun) {
  const requests = r.http.reduce((n, h) => n + h.requests, 0);
  const grown = r.dlq_after !== undefined && r.dlq_before !== undefined ? r.dlq_after - r.dlq_before : undefined;
  const answered: Record<string, number> = r.impl.capabilities.has("inventory events")
    ? { lost: r.good_order.answer ? 0 : 1 }
    : {};
  const { poison, dlq_before, dlq_after, samples, events, good_order, http, hostile_published } = r;
  return {
    params: {
      queue: r.impl.broker?.queue,
      dlq: r.impl.broker?.dlq,
      hostile: r.opts.hostile,
      fuzz_runs: r.opts.fuzzRuns,
    },
    checks: r.checks,
    figures: {
      "dead-letter queue before / after": `${dlq_before ?? "–"} / ${dlq_after ?? "–"}`,
      "good order after": good_order.answer || "no answer",
      ...(requests ? { "generated requests": requests } : {}),
    },
    tally: {
      sent: poison.filter((p) => p.name !== GENERATED).length + hostile_published + 1 + requests,
      acknowledged: (is2xx(good_order.http_status) ? 1 : 0) + (grown ?? 0),
      final_states: { "dead-lettered": grown ?? 0, "good order answered": good_order.answer ? 1 : 0 },
      anomalies: {
        ...(grown !== undefined ? { not_dead_lettered: Math.max(0, poison.length - grown) } : {}),
        ...answered,
        ...(requests ? { http_server_errors: serverErrors(http).length } : {}),
      },
    },
    data: { poison, dlq_before, dlq_after, samples, events, good_order, hostile_published, http: firstFailures(http) },
  };
}
