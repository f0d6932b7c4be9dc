// Idempotency (the assignment's "deliver the same OrderPlaced twice without a double
// reservation"), on any Part B: one order placed over HTTP; its OrderPlaced, as the lab's tap saw
// it, published again — same body, same properties and message id — on the implementation's
// exchange, several copies at once; a duplicate must produce no second InventoryReserved/
// InventoryFailed on the wire. Where the implementation shows its stock and counters (the lab's
// own /health), the copies must also take no stock and be counted as duplicates.
import type { Experiment, ExperimentOptions, Run } from "../../harness/judge/experiment.js";
import { groupedBarSpec } from "../../harness/show/plots.js";
import { check, type Check } from "../../harness/judge/check.js";
import type { Row } from "../../common/table.js";
import { sleep, waitUntil } from "../../common/wait.js";
import type { PartB } from "../lab/implementation.js";
import { sameProperties, type Tapped, type WireTap } from "../lab/tap.js";
import { is2xx, kindsOf } from "./orders.js";

export interface IdempotencyOptions extends ExperimentOptions {
  /** How many extra copies of the OrderPlaced to deliver (published at once; default 2). */
  copies?: number;
  sku?: string;
  /** After the copies are consumed, how long a second reservation event has to show (default 2 s). */
  settleMs?: number;
}

/** The implementation's own counters at a step (where it shows them). */
export interface IdempotencyStep {
  step: string;
  stock: number;
  processed_ids: number;
  duplicates_ignored: number;
  notifications_sent: number;
}

export interface IdempotencyData {
  order_id: string;
  message_id: string;
  sku: string;
  copies: number;
  events_after_first: number;
  events_after_copies: number;
  /** The order's state after the copies (where it can be read). */
  order_status?: string;
  steps: IdempotencyStep[];
  wire: { t_s: number; kind: string; routing_key: string; message_id: string; what: string }[];
}

export interface IdempotencyRun extends Run<PartB, IdempotencyOptions>, IdempotencyData {
  tap?: WireTap;
  original?: Tapped;
  checks: Check[];
}

export const NO_SECOND = "a duplicate OrderPlaced produces no second reservation event";
const STATS = "the copies took no stock and were counted as duplicates (/health)";

const messageIdOf = (m: Tapped): string => {
  const inBody = [m.body?.message_id, m.body?.event_id].find((v) => typeof v === "string");
  return (m.properties.messageId as string | undefined) ?? inBody ?? "";
};

async function snapshot(r: IdempotencyRun, step: string): Promise<void> {
  const [inv, note] = [await r.impl.stats("inventory"), await r.impl.stats("notification")];
  const s = {
    step,
    stock: inv.stock[r.sku] as number,
    processed_ids: inv.processed_total as number,
    duplicates_ignored: inv.duplicates_ignored as number,
    notifications_sent: note.sent as number,
  };
  r.steps.push(s);
  r.progress(
    `${step}: ${r.sku} stock ${s.stock}, duplicates ignored ${s.duplicates_ignored}, notified ${s.notifications_sent}`,
  );
}

async function placeAnOrder(r: IdempotencyRun): Promise<void> {
  r.tap = await r.impl.tap();
  // 10, so the arithmetic reads at a glance: 10 → 9 (once), 10 → 8 (twice).
  await r.unless(STATS, async () => {
    await r.impl.faults.stock({ [r.sku]: 10 });
    await snapshot(r, "before");
  });
  const placed = await r.impl.placeOrder({
    user_id: "u-idempotency",
    restaurant_id: "r-lab",
    items: [{ sku: r.sku, qty: 1 }],
  });
  const id = typeof placed.body?.order_id === "string" ? placed.body.order_id : "";
  r.order_id = id;
  const accepted = is2xx(placed.status) && !!id;
  r.checks.push(
    check("the order was accepted (2xx with its order_id)", accepted, `HTTP ${placed.status} ${id || "no order_id"}`),
  );
  if (!accepted) return;
  r.progress(`order ${id} accepted; waiting for its OrderPlaced and its reservation event on the wire`);
  const tap = r.tap;
  await tap.until(() => !!tap.orderPlaced(id) && tap.inventoryEvents(id).length > 0, 15_000);
  r.original = tap.orderPlaced(id);
  r.events_after_first = tap.inventoryEvents(id).length;
  r.checks.push(
    check(
      "its OrderPlaced went on the wire",
      !!r.original,
      r.original ? `routing key ${r.original.routingKey}` : "not seen in 15 s",
    ),
    check(
      "the first delivery got its reservation event",
      r.events_after_first === 1,
      `${r.events_after_first} event(s): ${kindsOf(tap.inventoryEvents(id))}`,
    ),
  );
  await r.unless("the order stays CONFIRMED", () => r.impl.waitForFinal(id).catch(() => undefined));
  if (r.steps.length) await snapshot(r, "order placed");
}

async function deliverAgain(r: IdempotencyRun): Promise<void> {
  const tap = r.tap!;
  const o = r.original;
  if (!o) return;
  r.message_id = messageIdOf(o);
  r.progress(`publishing ${r.copies} more copies of OrderPlaced ${r.message_id || "(no message id)"}`);
  const handled = async () => {
    const inv = await r.impl.stats("inventory");
    return (inv.duplicates_ignored as number) + (inv.reserved as number) + (inv.failed as number);
  };
  const handledBefore = r.steps.length ? await handled() : 0;
  const props = sameProperties(o.properties);
  await Promise.all(Array.from({ length: r.copies }, () => tap.publish(o.exchange, o.routingKey, o.content, props)));
  // Settled: the queue empty (where it can be seen), every copy handled (where counted), then a while for late effects.
  const deadline = Date.now() + 15_000;
  const queue = r.impl.broker?.queue;
  while (queue && Date.now() < deadline && (await tap.depth(queue).catch(() => undefined))?.messages) await sleep(50);
  if (r.steps.length)
    await waitUntil(
      async () => (await handled()) >= handledBefore + r.copies,
      "the copies to be handled",
      15_000,
      50,
    ).catch(() => {});
  await sleep(r.opts.settleMs ?? 2000);
  r.events_after_copies = tap.inventoryEvents(r.order_id).length;
  if (r.steps.length) await snapshot(r, `+${r.copies} copies`);
  r.order_status = await r.unless(
    "the order stays CONFIRMED",
    async () => (await r.impl.order(r.order_id))?.status ?? "unknown",
  );
  const placed = tap.seen.filter((m) => m.kind === "OrderPlaced" && m.body?.order_id === r.order_id);
  r.wire = [...placed, ...tap.inventoryEvents(r.order_id)]
    .sort((a, b) => a.t_ms - b.t_ms)
    .map((m) => ({
      t_s: m.t_ms / 1000,
      kind: m.kind,
      routing_key: m.routingKey,
      message_id: messageIdOf(m),
      what: m.kind === "OrderPlaced" ? (m === o ? "original" : "copy") : "answer",
    }));
}

/** The run's own checks, then what the copies did: no second event, no stock taken, the order CONFIRMED. */
function idempotencyChecks(r: IdempotencyRun, events: Tapped[]): Check[] {
  const checks = [...r.checks];
  if (r.original) {
    const same = r.events_after_copies === r.events_after_first;
    checks.push(
      check(
        NO_SECOND,
        same,
        same
          ? `${events.length} event (${kindsOf(events)}) for order ${r.order_id} after ${r.copies} copies of its OrderPlaced`
          : `${events.length} events (${kindsOf(events)}) for order ${r.order_id} after ${r.copies} copies of OrderPlaced ${r.message_id || "(no message id)"}: the duplicate was reserved again`,
      ),
    );
  }
  const [, s1, s2] = r.steps;
  if (s1 && s2)
    checks.push(
      check(
        STATS,
        s2.stock === s1.stock &&
          s2.duplicates_ignored - s1.duplicates_ignored === r.copies &&
          s2.processed_ids === s1.processed_ids,
        `${r.sku}: ${s1.stock} → ${s2.stock}; +${s2.duplicates_ignored - s1.duplicates_ignored} duplicates ignored; processed ids ${s1.processed_ids} → ${s2.processed_ids}`,
      ),
    );
  if (r.order_status !== undefined)
    checks.push(check("the order stays CONFIRMED", r.order_status === "CONFIRMED", r.order_status));
  return checks;
}

function judgeIdempotency(r: IdempotencyRun) {
  const events = r.tap && r.order_id ? r.tap.inventoryEvents(r.order_id) : [];
  const anomalies: Record<string, number> = r.original
    ? { lost: r.events_after_first ? 0 : 1, duplicated: Math.max(0, events.length - 1) }
    : {};
  const { order_id, message_id, sku, copies, events_after_first, events_after_copies, order_status, steps, wire } = r;
  return {
    params: { copies: r.copies, sku: r.sku },
    checks: idempotencyChecks(r, events),
    // One order: lost if its first delivery got no answer; each answer beyond one, a reservation done again.
    tally: {
      sent: 1,
      acknowledged: r.order_id ? 1 : 0,
      final_states: r.order_status ? { [r.order_status]: 1 } : {},
      anomalies,
    },
    notes: r.original
      ? [
          check(
            "the lab's contract: OrderPlaced carries a message id (AMQP message-id or message_id/event_id)",
            !!r.message_id,
            r.message_id || "none",
          ),
        ]
      : [],
    figures: {
      "reservation events after the first delivery": r.events_after_first,
      [`reservation events after ${r.copies} copies`]: r.events_after_copies,
    },
    data: { order_id, message_id, sku, copies, events_after_first, events_after_copies, order_status, steps, wire },
  };
}

export const idempotency: Experiment<PartB, IdempotencyOptions, IdempotencyRun, IdempotencyData> = {
  name: "idempotency",
  part: "partB",
  title: "Part B — idempotency: the same OrderPlaced delivered again",
  lesson: "A redelivered OrderPlaced (same message id) is recognised: no second reservation, no stock taken again.",
  needs: ["wire", "inventory events"],
  safeguards: ["idempotent-consumer"],
  begin: (run) => ({
    ...run,
    order_id: "",
    message_id: "",
    sku: run.opts.sku ?? "burger",
    copies: run.opts.copies ?? 2,
    events_after_first: 0,
    events_after_copies: 0,
    steps: [],
    wire: [],
    checks: [],
  }),
  steps: [
    { name: "place an order", run: placeAnOrder },
    { name: "deliver it again", run: deliverAgain },
  ],
  cleanup: async (r) => r.tap?.close(),
  judge: judgeIdempotency,
  files: (result) => {
    const d = result.data;
    const bars = [
      { group: "after the first delivery", series: "reservation events", value: d.events_after_first },
      { group: `after ${d.copies} copies`, series: "reservation events", value: d.events_after_copies },
    ];
    return {
      data: {
        "wire.csv": d.wire as unknown as Row[],
        ...(d.steps.length ? { "steps.csv": d.steps as unknown as Row[] } : {}),
      },
      plots: {
        "idempotency.svg": groupedBarSpec(
          bars,
          `Part B — ${result.target.name}: the same OrderPlaced again, reservation events for the order`,
          "events on the wire",
        ),
      },
    };
  },
};
