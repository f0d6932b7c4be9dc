// The poison-message experiment: a body that is not JSON (the seed's own poison) and an event of
// the wrong shape are published to orders-ex. Inventory rejects each without requeue, so RabbitMQ
// dead-letters it through orders-dlx into order.placed.dlq, where it waits to be looked at; the
// consumer keeps going, and a normal order placed right after is confirmed as usual.
import { timeSeriesSpec } from "../../harness/plots.js";
import { sampleEvery } from "../../harness/sampler.js";
import { toCsv, type Row } from "../../common/table.js";
import { sleep, waitUntil } from "../../common/wait.js";
import type { LabOptions } from "../../harness/lifecycle.js";
import { EXCHANGES, QUEUES, ROUTING_KEYS } from "../topology.js";
import type { PeekedMessage } from "./client.js";
import { round1, withPartB } from "./experiment.js";
import type { PartBImplementation } from "./implementation.js";
import { summaryMarkdown, type Check } from "../../harness/check.js";
import { ResultFiles } from "../../harness/results.js";
import type { TargetSummary } from "../../harness/target.js";
import { targetSection } from "./outside.js";

export interface DlqOptions extends LabOptions {
  onProgress?: (line: string) => void;
}

export interface PoisonMessage {
  name: string;
  message_id: string;
  body: string;
}

export interface DlqSample {
  t_s: number;
  dlq_depth: number;
  queue_depth: number;
  consumers: number;
}

export interface DlqResult {
  poison: (PoisonMessage & { published_s: number; reason?: string; x_death?: PeekedMessage["x_death"] })[];
  dlq_before: number;
  dlq_after: number;
  samples: DlqSample[];
  events: { t_s: number; label: string }[];
  normal_order: { order_id: string; status: string; placed_s: number; final_s: number; reason?: string };
  checks: Check[];
  passed: boolean;
}

/** The two bad messages: the seed's malformed JSON, and valid JSON that is not an OrderPlaced. */
export function poisonMessages(tag = Date.now().toString(36)): PoisonMessage[] {
  return [
    { name: "malformed JSON", message_id: `poison-json-${tag}`, body: '{"order_id": "poison", "invalid": json}' },
    {
      name: "wrong shape",
      message_id: `poison-shape-${tag}`,
      body: JSON.stringify({
        event_type: "OrderPlaced",
        order_id: "o-poison",
        user_id: "u-dlq",
        items: "one burger please",
      }),
    },
  ];
}

export async function runDlqExperiment(opts: DlqOptions = {}): Promise<DlqResult> {
  return withPartB(opts, (impl) => dlqRun(impl, opts));
}

async function dlqRun(impl: PartBImplementation, opts: DlqOptions): Promise<DlqResult> {
  const progress = opts.onProgress ?? (() => {});
  const probe = await impl.broker();
  const t0 = performance.now();
  const now = () => Math.round((performance.now() - t0) / 10) / 100;
  const samples: DlqSample[] = [];
  const events: DlqResult["events"] = [];
  const dlqName = QUEUES.orderPlaced.deadLetter.queue;
  const sample = async () => {
    const [dlq, q] = [await probe.queue(dlqName), await probe.queue(QUEUES.orderPlaced.name)];
    samples.push({ t_s: now(), dlq_depth: dlq.messages, queue_depth: q.messages, consumers: q.consumers });
    return samples[samples.length - 1];
  };
  const sampler = sampleEvery(100, sample);

  try {
    const before = await sample();
    const inventory0 = await impl.stats("inventory");
    progress(
      `${dlqName} holds ${before.dlq_depth} message(s); inventory has dead-lettered ${inventory0.dead_lettered} since it started`,
    );
    await sleep(500);

    const poison = poisonMessages();
    const published: DlqResult["poison"] = [];
    for (const p of poison) {
      await probe.publish(EXCHANGES.orders, ROUTING_KEYS.orderPlaced, p.body, { messageId: p.message_id });
      const t = now();
      published.push({ ...p, published_s: t });
      events.push({ t_s: t, label: `${p.name} published` });
      progress(`published ${p.name}: ${p.body}`);
    }
    // Without the dead-letter safeguard they never arrive (requeued instead): the checks below say so.
    await waitUntil(
      async () => (await probe.queue(dlqName)).messages >= before.dlq_depth + poison.length,
      `${dlqName} to receive the ${poison.length} messages`,
      15_000,
      50,
    ).catch((err: Error) => progress(`${err.message}`));
    const inDlq = await sample();
    progress(`${dlqName} now holds ${inDlq.dlq_depth} message(s)`);
    await sleep(300);

    // The consumer is still there: a normal order goes through right after.
    const placed_s = now();
    events.push({ t_s: placed_s, label: "normal order placed" });
    const placed = await impl.placeOrder({ user_id: "u-dlq", restaurant_id: "r-lab", items: { soda: 1 } });
    if (placed.status !== 202 || !placed.body?.order_id)
      throw new Error(`POST /order answered ${placed.status} ${placed.body?.error ?? ""}`);
    const order = await impl
      .waitForFinal(placed.body.order_id)
      .catch(async () => (await impl.order(placed.body.order_id!))!); // not final after 15 s: the checks say so
    const final_s = now();
    events.push({ t_s: final_s, label: `normal order ${order.status}` });
    progress(
      `normal order ${order.order_id}: ${order.status} ${round1((final_s - placed_s) * 1000)} ms after it was placed`,
    );
    await sleep(700);

    // Why each one is there: inventory's stated reason, and RabbitMQ's x-death header.
    const inventory1 = await impl.stats("inventory");
    const notes = (inventory1.recent_dead_letters ?? []) as { message_id?: string; reason: string }[];
    const peeked = await probe.peek(dlqName, 10_000);
    for (const p of published) {
      p.reason = notes.find((n) => n.message_id === p.message_id)?.reason;
      p.x_death = peeked.find((m) => m.message_id === p.message_id)?.x_death;
      progress(
        `${p.name}: reason "${p.reason ?? "?"}"; x-death ${JSON.stringify(p.x_death?.map((d) => ({ reason: d.reason, queue: d.queue })) ?? [])}`,
      );
    }
    const after = samples[samples.length - 1];
    const checks: Check[] = [
      {
        check: `both bad messages landed in ${dlqName}`,
        // At least: poison a run without the dead-letter safeguard left in the queue lands there too.
        passed: inDlq.dlq_depth - before.dlq_depth >= poison.length,
        observed: `${before.dlq_depth} → ${inDlq.dlq_depth}`,
      },
      {
        check: "inventory counted them as dead-lettered",
        passed: inventory1.dead_lettered - inventory0.dead_lettered >= poison.length,
        observed: `+${inventory1.dead_lettered - inventory0.dead_lettered}`,
      },
      {
        check: "each has its reason (inventory) and x-death rejected from order.placed.q (RabbitMQ)",
        passed: published.every(
          (p) => p.reason && p.x_death?.some((d) => d.reason === "rejected" && d.queue === QUEUES.orderPlaced.name),
        ),
        observed: published.map((p) => `${p.name}: ${p.reason ?? "no reason"}`).join("; "),
      },
      {
        check: "inventory kept consuming",
        passed: after.consumers >= 1,
        observed: `${after.consumers} consumer(s) on ${QUEUES.orderPlaced.name}`,
      },
      {
        check: "a normal order right after was confirmed",
        passed: order.status === "CONFIRMED",
        observed: `${order.status} in ${round1((final_s - placed_s) * 1000)} ms`,
      },
    ];
    return {
      poison: published,
      dlq_before: before.dlq_depth,
      dlq_after: inDlq.dlq_depth,
      samples,
      events,
      normal_order: { order_id: order.order_id, status: order.status, placed_s, final_s, reason: order.reason },
      checks,
      passed: checks.every((c) => c.passed),
    };
  } finally {
    await sampler.stop();
    await probe.close();
  }
}

export async function writeDlqResults(result: DlqResult & { target?: TargetSummary }, dir?: string): Promise<string[]> {
  const out = ResultFiles.for("partB", "dlq", dir);
  out.write("samples.csv", toCsv(result.samples as unknown as Row[]));
  out.write("result.json", JSON.stringify(result, null, 2));
  const rows = result.samples.map((s) => ({ t_s: s.t_s, value: s.dlq_depth, series: "messages in order.placed.dlq" }));
  await out.plot(
    "dlq-depth.svg",
    timeSeriesSpec({
      rows,
      title: "Part B — poison messages go to the dead-letter queue; the next order goes through",
      yTitle: "messages",
      events: result.events,
    }),
  );
  out.write(
    "summary.md",
    summaryMarkdown(
      "Part B — poison messages and the dead-letter queue",
      [
        ...targetSection(result.target),
        {
          text:
            "Inventory checks every message before it touches the stock. One that is not valid JSON, or not an OrderPlaced, is rejected without requeue " +
            "(`basic.reject`, requeue=false); `order.placed.q` has `x-dead-letter-exchange: orders-dlx`, so RabbitMQ moves it to `order.placed.dlq` " +
            "with an `x-death` header, and inventory logs the reason. Requeueing it instead would redeliver it forever.",
        },
        {
          heading: "The messages",
          rows: result.poison.map((p) => ({
            message: p.name,
            body: p.body,
            "inventory's reason": p.reason ?? "",
            "x-death": p.x_death?.map((d) => `${d.reason} from ${d.queue} ×${d.count}`).join("; ") ?? "",
          })),
        },
        {
          heading: "Dead-letter queue",
          rows: [
            { before: result.dlq_before, after: result.dlq_after, "normal order after": result.normal_order.status },
          ],
        },
      ],
      result.checks,
    ),
  );
  return out.files;
}
