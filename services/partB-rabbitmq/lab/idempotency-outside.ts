// The idempotency experiment on any target (the assignment's "deliver the same OrderPlaced twice
// without a double reservation"). The lab's own services: the usual experiment. A foreign
// implementation, from outside: one order placed over HTTP; its OrderPlaced, as the lab's tap saw
// it, published again — same body, same properties and message id — on the target's exchange;
// then a duplicate must produce no second InventoryReserved/InventoryFailed on the wire.
import path from "node:path";
import { groupedBarSpec } from "../../harness/plots.js";
import type { Target } from "../../harness/target.js";
import { toCsv, type Row } from "../../common/table.js";
import { sleep } from "../../common/wait.js";
import {
  runIdempotencyExperiment,
  writeIdempotencyResults,
  type IdempotencyOptions,
  type IdempotencyResult,
} from "./idempotency.js";
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
import { sameProperties, type Tapped, type WireTap } from "./tap.js";
import { targetImplementation } from "./target.js";

export interface IdempotencyOutsideOptions extends IdempotencyOptions {
  /** After the copies are consumed, how long a second reservation event has to show (default 2 s). */
  settleMs?: number;
}

/** One message on the wire about the order. */
export interface WireEventRow {
  t_s: number;
  kind: string;
  routing_key: string;
  message_id: string;
  /** "original" or "copy" (what the lab published) for OrderPlaced; the event for the rest. */
  what: string;
}

export interface IdempotencyOutsideResult extends OutsideRunBase {
  order_id: string;
  message_id: string;
  copies: number;
  /** Reservation events for the order after the first delivery, and after the copies. */
  events_after_first: number;
  events_after_copies: number;
  wire: WireEventRow[];
}

export type IdempotencyRun = LabRun<IdempotencyResult> | IdempotencyOutsideResult;

const NO_SECOND = "a duplicate OrderPlaced produces no second reservation event";

export async function runIdempotencyThrough(target: Target, opts: IdempotencyOutsideOptions): Promise<IdempotencyRun> {
  if (target.lab) return labRun(target, await runIdempotencyExperiment(opts));
  return idempotencyOutside(target, opts);
}

async function idempotencyOutside(target: Target, opts: IdempotencyOutsideOptions): Promise<IdempotencyOutsideResult> {
  const impl = targetImplementation(target);
  const copies = opts.copies ?? 2;
  const progress = opts.onProgress ?? (() => {});
  const skipped: Skipped[] = [];
  const run: IdempotencyOutsideResult = {
    kind: "outside",
    target: outsideSummary(target),
    order_id: "",
    message_id: "",
    copies,
    events_after_first: 0,
    events_after_copies: 0,
    wire: [],
    checks: [],
    notes: [],
    skipped,
    passed: false,
  };
  const add = (check: string, passed: boolean, observed: string) => run.checks.push({ check, passed, observed });
  if (!impl.broker?.inventory_exchange) {
    const why = impl.broker
      ? NO_INVENTORY_EXCHANGE
      : "the target gives no broker (partB.broker): the lab can neither see nor publish an OrderPlaced";
    skipped.push({ check: NO_SECOND, reason: why });
    return run;
  }
  const tap = await unlessNotObservable(NO_SECOND, skipped, () => impl.tap());
  if (!tap) return run;
  try {
    const placed = await impl.placeOrder();
    const orderId = typeof placed.body?.order_id === "string" ? placed.body.order_id : "";
    run.order_id = orderId;
    const accepted = placed.status >= 200 && placed.status < 300 && !!orderId;
    add(
      "the order was accepted (2xx with its order_id)",
      accepted,
      `HTTP ${placed.status} ${orderId || "no order_id"}`,
    );
    if (!accepted) return run;
    progress(`order ${orderId} accepted; waiting for its OrderPlaced and its reservation event on the wire`);
    await tap.until(() => !!tap.orderPlaced(orderId) && tap.inventoryEvents(orderId).length > 0, 15_000);
    const original = tap.orderPlaced(orderId);
    run.events_after_first = tap.inventoryEvents(orderId).length;
    add(
      "its OrderPlaced went on the wire",
      !!original,
      original ? `routing key ${original.routingKey}` : "not seen in 15 s",
    );
    add(
      "the first delivery got its reservation event",
      run.events_after_first === 1,
      `${run.events_after_first} event(s): ${kinds(tap.inventoryEvents(orderId))}`,
    );
    if (!original) return run;
    run.message_id = messageIdOf(original);

    progress(`publishing ${copies} more copies of OrderPlaced ${run.message_id || "(no message id)"}`);
    const props = sameProperties(original.properties);
    for (let i = 0; i < copies; i++) await tap.publish(original.exchange, original.routingKey, original.content, props);
    await settle(tap, impl.broker.queue, opts.settleMs ?? 2000);
    const events = tap.inventoryEvents(orderId);
    run.events_after_copies = events.length;
    add(
      NO_SECOND,
      events.length === run.events_after_first,
      events.length === run.events_after_first
        ? `${events.length} event (${kinds(events)}) for order ${orderId} after ${copies} copies of its OrderPlaced`
        : `${events.length} events (${kinds(events)}) for order ${orderId} after ${copies} copies of OrderPlaced ${run.message_id || "(no message id)"}: the duplicate was reserved again`,
    );
    run.notes.push({
      check: "the lab's contract: OrderPlaced carries a message id (AMQP message-id or message_id/event_id)",
      passed: !!run.message_id,
      observed: run.message_id || "none",
    });
    run.wire = wireRows(tap, orderId, original);
  } finally {
    await tap.close();
  }
  run.passed = run.checks.every((c) => c.passed);
  return run;
}

/** Wait until the target's queue is empty (if the file names it), then `ms` more for any late effect. */
async function settle(tap: WireTap, queue: string | undefined, ms: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (queue && Date.now() < deadline) {
    const q = await tap.depth(queue).catch(() => undefined);
    if (!q || q.messages === 0) break;
    await sleep(50);
  }
  await sleep(ms);
}

const messageIdOf = (m: Tapped): string => {
  const inBody = [m.body?.message_id, m.body?.event_id].find((v) => typeof v === "string");
  return (m.properties.messageId as string | undefined) ?? inBody ?? "";
};

const kinds = (events: Tapped[]): string => {
  const counts = new Map<string, number>();
  for (const e of events) counts.set(e.kind, (counts.get(e.kind) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k} ×${n}`).join(", ") || "none";
};

function wireRows(tap: WireTap, orderId: string, original: Tapped): WireEventRow[] {
  const placed = tap.seen.filter((m) => m.kind === "OrderPlaced" && m.body?.order_id === orderId);
  return [...placed, ...tap.inventoryEvents(orderId)]
    .sort((a, b) => a.t_ms - b.t_ms)
    .map((m) => ({
      t_s: m.t_ms / 1000,
      kind: m.kind,
      routing_key: m.routingKey,
      message_id: messageIdOf(m),
      what: m.kind === "OrderPlaced" ? (m === original ? "original" : "copy") : "answer",
    }));
}

export async function writeIdempotencyRun(run: IdempotencyRun, partDir: string): Promise<string[]> {
  const dir = path.join(partDir, "idempotency");
  if (run.kind === "lab") return writeIdempotencyResults(run, dir);
  return writeOutsideResults(run, dir, {
    title: `Part B — idempotency, from outside (one order, then ${run.copies} copies of its OrderPlaced)`,
    text:
      `Order \`${run.order_id}\`, OrderPlaced message id \`${run.message_id}\`, seen on a tap queue of the lab's own. ` +
      "The lab published that very message again — same body, same properties — on the target's exchange, and counted the reservation events for the order.",
    figures: {
      "reservation events after the first delivery": run.events_after_first,
      [`reservation events after ${run.copies} copies`]: run.events_after_copies,
    },
    data: { "wire.csv": toCsv(run.wire as unknown as Row[]) },
    plots: {
      "idempotency.svg": groupedBarSpec(
        [
          { group: "after the first delivery", series: "reservation events", value: run.events_after_first },
          { group: `after ${run.copies} copies`, series: "reservation events", value: run.events_after_copies },
        ],
        `Part B — ${run.target.name}: the same OrderPlaced again, reservation events for the order`,
        "events on the wire",
      ),
    },
  });
}
