// The idempotency experiment (the seed's: copy a processed message's id and publish it again):
// one order placed normally, then its very OrderPlaced — same message id — delivered again,
// several copies at once. Inventory remembers processed message ids durably, in the same
// transaction as the stock change, so the copies are acked and ignored: stock is taken once.
import { groupedBarSpec } from "../../harness/plots.js";
import { toCsv, type Row } from "../../common/table.js";
import { waitUntil } from "../../common/wait.js";
import type { LabOptions } from "../../harness/lifecycle.js";
import { orderPlacedFor } from "../events.js";
import { EXCHANGES, ROUTING_KEYS } from "../topology.js";
import { withPartB } from "./experiment.js";
import type { PartBImplementation } from "./implementation.js";
import { summaryMarkdown, type Check } from "../../harness/check.js";
import { ResultFiles } from "../../harness/results.js";
import type { TargetSummary } from "../../harness/target.js";
import { targetSection } from "./outside.js";

export interface IdempotencyOptions extends LabOptions {
  /** How many extra copies of the OrderPlaced to deliver (published at once). */
  copies?: number;
  sku?: string;
  onProgress?: (line: string) => void;
}

export interface IdempotencyStep {
  step: string;
  stock: number;
  processed_ids: number;
  duplicates_ignored: number;
  notifications_sent: number;
  order_status: string;
}

export interface IdempotencyResult {
  order_id: string;
  message_id: string;
  sku: string;
  copies: number;
  steps: IdempotencyStep[];
  /** What inventory stored for the message id: the proof it was remembered. */
  processed_record: unknown;
  checks: Check[];
  passed: boolean;
}

export async function runIdempotencyExperiment(opts: IdempotencyOptions = {}): Promise<IdempotencyResult> {
  return withPartB(opts, (impl) => idempotencyRun(impl, opts));
}

/** The experiment on a Part B that runs (e.g. a stack of a safeguard's own). */
export async function idempotencyRun(impl: PartBImplementation, opts: IdempotencyOptions): Promise<IdempotencyResult> {
  const sku = opts.sku ?? "burger";
  const copies = opts.copies ?? 2;
  const progress = opts.onProgress ?? (() => {});
  const steps: IdempotencyStep[] = [];
  let orderId = "";
  const snapshot = async (step: string): Promise<IdempotencyStep> => {
    const [inv, note] = [await impl.stats("inventory"), await impl.stats("notification")];
    const s: IdempotencyStep = {
      step,
      stock: inv.stock[sku],
      processed_ids: inv.processed_total,
      duplicates_ignored: inv.duplicates_ignored,
      notifications_sent: note.sent,
      order_status: orderId ? ((await impl.order(orderId))?.status ?? "?") : "–",
    };
    steps.push(s);
    progress(
      `${step}: ${sku} stock ${s.stock}, processed ids ${s.processed_ids}, duplicates ignored ${s.duplicates_ignored}, notifications sent ${s.notifications_sent}, order ${s.order_status}`,
    );
    return s;
  };

  await impl.faults.stock({ [sku]: 10 }); // 10, so the arithmetic reads at a glance: 10 → 9 (once), 10 → 8 (twice)
  const s0 = await snapshot("before");

  // 1. One order, the normal way.
  const placed = await impl.placeOrder({ user_id: "u-idempotency", restaurant_id: "r-lab", items: [{ sku, qty: 1 }] });
  if (placed.status !== 202 || !placed.body?.order_id)
    throw new Error(`POST /order answered ${placed.status} ${placed.body?.error ?? ""}`);
  orderId = placed.body.order_id;
  const order = await impl.waitForFinal(orderId);
  const s1 = await snapshot("order placed");

  // 2. Its OrderPlaced again, same message id, several copies at once.
  const event = orderPlacedFor(order);
  // Every copy handled: recognised, or (with the idempotent-consumer safeguard off) reserved or refused again.
  const handled = (inv: Record<string, number>) => inv.duplicates_ignored + inv.reserved + inv.failed;
  const handledBefore = handled(await impl.stats("inventory"));
  progress(`publishing ${copies} more copies of OrderPlaced ${event.event_id} (order ${orderId})`);
  const probe = await impl.broker();
  try {
    await Promise.all(
      Array.from({ length: copies }, () =>
        probe.publish(EXCHANGES.orders, ROUTING_KEYS.orderPlaced, JSON.stringify(event), {
          messageId: event.event_id,
          type: "OrderPlaced",
        }),
      ),
    );
  } finally {
    await probe.close();
  }
  await waitUntil(
    async () => handled(await impl.stats("inventory")) >= handledBefore + copies,
    "inventory to handle the copies",
    15_000,
    50,
  );
  await new Promise((r) => setTimeout(r, 500)); // time for any (wrong) downstream effect to show
  const s2 = await snapshot(`+${copies} copies`);
  const processed = await impl.processed(event.event_id);

  const checks: Check[] = [
    {
      check: "the first delivery reserved one item",
      passed: s0.stock - s1.stock === 1,
      observed: `${sku}: ${s0.stock} → ${s1.stock}`,
    },
    { check: "the order was confirmed", passed: s1.order_status === "CONFIRMED", observed: s1.order_status },
    { check: "the copies took no stock", passed: s2.stock === s1.stock, observed: `${sku}: ${s1.stock} → ${s2.stock}` },
    {
      check: `each copy was recognised and counted (${copies})`,
      passed: s2.duplicates_ignored - s1.duplicates_ignored === copies,
      observed: `+${s2.duplicates_ignored - s1.duplicates_ignored} duplicates ignored`,
    },
    {
      check: "no new processed id for the copies",
      passed: s2.processed_ids === s1.processed_ids,
      observed: `${s1.processed_ids} → ${s2.processed_ids}`,
    },
    {
      check: "the user was notified once",
      passed: s2.notifications_sent - s0.notifications_sent === 1,
      observed: `+${s2.notifications_sent - s0.notifications_sent} notification(s)`,
    },
    { check: "the order stays CONFIRMED", passed: s2.order_status === "CONFIRMED", observed: s2.order_status },
    {
      check: "inventory remembers the message id durably",
      passed: processed?.message_id === event.event_id,
      observed: processed ? `processed at ${String(processed.processed_at)}` : "not found",
    },
  ];
  return {
    order_id: orderId,
    message_id: event.event_id,
    sku,
    copies,
    steps,
    processed_record: processed,
    checks,
    passed: checks.every((c) => c.passed),
  };
}

export async function writeIdempotencyResults(
  result: IdempotencyResult & { target?: TargetSummary },
  dir?: string,
): Promise<string[]> {
  const out = ResultFiles.for("partB", "idempotency", dir);
  out.write("steps.csv", toCsv(result.steps as unknown as Row[]));
  out.write("result.json", JSON.stringify(result, null, 2));
  const first = result.steps[0];
  const bars = result.steps.flatMap((s) => [
    { group: s.step, series: `${result.sku} taken`, value: first.stock - s.stock },
    { group: s.step, series: "processed ids", value: s.processed_ids - first.processed_ids },
    { group: s.step, series: "duplicates ignored", value: s.duplicates_ignored - first.duplicates_ignored },
    { group: s.step, series: "users notified", value: s.notifications_sent - first.notifications_sent },
  ]);
  await out.plot(
    "idempotency.svg",
    groupedBarSpec(
      bars,
      "Part B — the same OrderPlaced delivered again changes nothing but a counter",
      "count since 'before'",
    ),
  );
  out.write(
    "summary.md",
    summaryMarkdown(
      `Part B — idempotent inventory (one order, then ${result.copies} more copies of its OrderPlaced)`,
      [
        ...targetSection(result.target),
        {
          text:
            `Order \`${result.order_id}\`, OrderPlaced message id \`${result.message_id}\`. ` +
            "Inventory keeps every processed message id in its store, written in the same transaction as the stock change and before the ack. " +
            "A copy with a known id is acked and ignored (a log line says so); a copy that arrives while the first is still being handled waits for it.",
        },
        { heading: "Steps", rows: result.steps as unknown as Row[] },
      ],
      result.checks,
    ),
  );
  return out.files;
}
