// The poison-message experiment on any target (the assignment's "show DLQ / poison-message
// handling for a malformed event"). The lab's own services: the usual experiment. A foreign
// implementation, from outside: a body that is not JSON and an OrderPlaced missing its required
// fields, published on the target's exchange with its routing key; the dead-letter queue's depth
// must grow (passive declare: nothing is read from it), and a good order placed after them must
// still get its InventoryReserved/InventoryFailed on the wire.
import path from "node:path";
import { sampleEvery } from "../../harness/sampler.js";
import { timeSeriesSpec } from "../../harness/plots.js";
import type { Target } from "../../harness/target.js";
import { toCsv, type Row } from "../../common/table.js";
import { sleep } from "../../common/wait.js";
import { poisonMessages, runDlqExperiment, writeDlqResults, type DlqOptions, type DlqResult } from "./dlq.js";
import {
  labRun,
  NO_INVENTORY_EXCHANGE,
  outsideSummary,
  unlessNotObservable,
  writeOutsideResults,
  type LabRun,
  type OutsideRunBase,
  type Skipped,
} from "./outside.js";
import type { WireTap } from "./tap.js";
import { targetImplementation } from "./target.js";

export interface DlqOutsideOptions extends DlqOptions {
  /** How long the poison has to reach the dead-letter queue (default 10 s). */
  waitMs?: number;
}

export interface DlqOutsideSample {
  t_s: number;
  dlq_depth?: number;
  queue_depth?: number;
  consumers?: number;
}

export interface DlqOutsideResult extends OutsideRunBase {
  queue?: string;
  dlq?: string;
  poison: { name: string; message_id: string; body: string; published_s: number }[];
  dlq_before?: number;
  dlq_after?: number;
  samples: DlqOutsideSample[];
  events: { t_s: number; label: string }[];
  good_order: { order_id: string; http_status: number; answer: string; answered_ms?: number };
}

export type DlqRun = LabRun<DlqResult> | DlqOutsideResult;

/** The seed's malformed JSON, and an OrderPlaced without the fields the contract requires (order_id, items). */
export function outsidePoison(tag = Date.now().toString(36)) {
  return [
    poisonMessages(tag)[0],
    {
      name: "missing required fields",
      message_id: `poison-fields-${tag}`,
      body: JSON.stringify({ event_type: "OrderPlaced", message_id: `poison-fields-${tag}`, user_id: "u-dlq" }),
    },
  ];
}

const TO_DLQ = "poison reaches the dead-letter queue (its depth grows), not dropped silently";
const KEEPS_WORKING = "the consumer keeps working: a good order after the poison is answered on the wire";

export async function runDlqThrough(target: Target, opts: DlqOutsideOptions): Promise<DlqRun> {
  if (target.lab) return labRun(target, await runDlqExperiment(opts));
  return dlqOutside(target, opts);
}

async function dlqOutside(target: Target, opts: DlqOutsideOptions): Promise<DlqOutsideResult> {
  const impl = targetImplementation(target);
  const broker = impl.broker;
  const progress = opts.onProgress ?? (() => {});
  const skipped: Skipped[] = [];
  const run: DlqOutsideResult = {
    kind: "outside",
    target: outsideSummary(target),
    ...(broker?.queue ? { queue: broker.queue } : {}),
    ...(broker?.dlq ? { dlq: broker.dlq } : {}),
    poison: [],
    samples: [],
    events: [],
    good_order: { order_id: "", http_status: 0, answer: "" },
    checks: [],
    notes: [],
    skipped,
    passed: false,
  };
  const tap = await unlessNotObservable(TO_DLQ, skipped, () => impl.tap());
  if (!tap || !broker) return run;
  const t0 = performance.now();
  const now = () => Math.round((performance.now() - t0) / 10) / 100;
  const look = async (name: string | undefined) => (name ? await tap.depth(name) : undefined);
  const sample = async (): Promise<DlqOutsideSample> => {
    const [d, q] = [await look(run.dlq), await look(run.queue)];
    const s = {
      t_s: now(),
      ...(d ? { dlq_depth: d.messages } : {}),
      ...(q ? { queue_depth: q.messages, consumers: q.consumers } : {}),
    };
    run.samples.push(s);
    return s;
  };
  const sampler = sampleEvery(100, sample);
  try {
    const before = await sample();
    run.dlq_before = before.dlq_depth;
    for (const p of outsidePoison()) {
      await tap.publish(broker.exchange, broker.routing_key, Buffer.from(p.body), {
        messageId: p.message_id,
        contentType: "application/json",
        persistent: true,
      });
      run.poison.push({ ...p, published_s: now() });
      run.events.push({ t_s: now(), label: `${p.name} published` });
      progress(`published ${p.name}: ${p.body}`);
    }
    const grown = await untilDlqGrows(tap, run, opts.waitMs ?? 10_000);
    const after = await sample();
    run.dlq_after = after.dlq_depth;
    judgeDlq(run, before, after, grown);
    await goodOrder(run, impl, tap, now, progress);
  } finally {
    await sampler.stop();
    await tap.close();
  }
  run.passed = run.checks.length > 0 && run.checks.every((c) => c.passed);
  return run;
}

/** Wait until the dead-letter queue holds the poison, or the time is up; true if it did. */
async function untilDlqGrows(tap: WireTap, run: DlqOutsideResult, waitMs: number): Promise<boolean> {
  if (!run.dlq || run.dlq_before === undefined) {
    await sleep(Math.min(waitMs, 3000)); // time for the consumer to take them, for the queue's own depth
    return false;
  }
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    if ((await tap.depth(run.dlq)).messages >= run.dlq_before + run.poison.length) return true;
    await sleep(50);
  }
  return false;
}

function judgeDlq(run: DlqOutsideResult, before: DlqOutsideSample, after: DlqOutsideSample, grown: boolean): void {
  if (!run.dlq) {
    run.skipped.push({ check: TO_DLQ, reason: "the target names no dead-letter queue (partB.broker.dlq)" });
    return;
  }
  const n = run.poison.length;
  const queueText =
    after.queue_depth === undefined
      ? ""
      : after.queue_depth <= (before.queue_depth ?? 0)
        ? `; ${run.queue} back to ${after.queue_depth}: the consumer took the poison off its queue without dead-lettering it — dropped silently`
        : `; ${run.queue} holds ${after.queue_depth}: the poison was not consumed, or was requeued`;
  run.checks.push({
    check: TO_DLQ,
    passed: grown,
    observed: `${run.dlq} ${before.dlq_depth} → ${after.dlq_depth} for ${n} poison messages${grown ? "" : queueText}`,
  });
}

async function goodOrder(
  run: DlqOutsideResult,
  impl: ReturnType<typeof targetImplementation>,
  tap: WireTap,
  now: () => number,
  progress: (line: string) => void,
): Promise<void> {
  const placedAt = now();
  const placed = await impl.placeOrder();
  const orderId = typeof placed.body?.order_id === "string" ? placed.body.order_id : "";
  run.good_order = { order_id: orderId, http_status: placed.status, answer: "" };
  run.events.push({ t_s: placedAt, label: "good order placed" });
  if (!impl.broker?.inventory_exchange) {
    run.skipped.push({
      check: KEEPS_WORKING,
      reason: NO_INVENTORY_EXCHANGE,
    });
    return;
  }
  const accepted = placed.status >= 200 && placed.status < 300 && !!orderId;
  if (accepted) await tap.until(() => tap.inventoryEvents(orderId).length > 0, 15_000);
  const event = orderId ? tap.inventoryEvents(orderId)[0] : undefined;
  if (event) {
    run.good_order.answer = event.kind;
    run.good_order.answered_ms = Math.round((now() - placedAt) * 1000);
    run.events.push({ t_s: now(), label: `good order: ${event.kind}` });
  }
  progress(`good order ${orderId || "(no order_id)"}: ${event ? event.kind : "no answer on the wire"}`);
  run.checks.push({
    check: KEEPS_WORKING,
    passed: !!event,
    observed: !accepted
      ? `HTTP ${placed.status} ${orderId || "no order_id"}: the order was not accepted`
      : event
        ? `${event.kind} for ${orderId}`
        : `no InventoryReserved/InventoryFailed for ${orderId} in 15 s: the consumer stopped after the poison`,
  });
}

export async function writeDlqRun(run: DlqRun, partDir: string): Promise<string[]> {
  const dir = path.join(partDir, "dlq");
  if (run.kind === "lab") return writeDlqResults(run, dir);
  const rows = run.samples.flatMap((s) => [
    ...(s.dlq_depth !== undefined ? [{ t_s: s.t_s, value: s.dlq_depth, series: `messages in ${run.dlq}` }] : []),
    ...(s.queue_depth !== undefined ? [{ t_s: s.t_s, value: s.queue_depth, series: `messages in ${run.queue}` }] : []),
  ]);
  return writeOutsideResults(run, dir, {
    title: "Part B — poison messages and the dead-letter queue, from outside",
    text:
      "Two poison messages — not JSON, and an OrderPlaced missing its required fields — were published on the target's exchange with its routing key. " +
      "The lab watched the dead-letter queue's depth (a passive declare: nothing was read from it), then placed a good order and waited for its answer on the wire.",
    figures: {
      "dead-letter queue before / after": `${run.dlq_before ?? "–"} / ${run.dlq_after ?? "–"}`,
      "good order after": run.good_order.answer || "no answer",
    },
    data: { "samples.csv": toCsv(run.samples as unknown as Row[]) },
    plots: {
      "dlq-depth.svg": timeSeriesSpec({
        rows,
        title: `Part B — ${run.target.name}: poison messages and the dead-letter queue`,
        yTitle: "messages",
        events: run.events,
      }),
    },
  });
}
