// Part B (RabbitMQ) under faults: the inventory consumer killed with a backlog in hand, the broker
// restarted under load, every message delivered twice. What must hold each time: every
// acknowledged order reaches a final state, and stock, processed ids and notifications equal one
// delivery of each order (at-least-once delivery, idempotent effects). Hostile input is in
// partB-bad-input.ts.
import { BROKERS } from "../../harness/brokers/index.js";
import { labImplementation, type PartB } from "../lab/implementation.js";
import { sleep, waitUntil } from "../../common/wait.js";
import { orderPlacedFor, type InventoryEvent } from "../events.js";
import { EXCHANGES, QUEUES, ROUTING_KEYS } from "../topology.js";
import type { ScenarioOptions } from "../../harness/verdict.js";
import {
  SCARCE,
  effectsOf,
  placeAll,
  plannedOrders,
  snapshot,
  stockFor,
  waitAllFinal,
  type PlannedOrder,
} from "./effects.js";
import {
  allAlive,
  brokerOutage,
  clearError,
  countBy,
  pidOf,
  seconds,
  steadyLoad,
  type Stack,
} from "../../harness/stack.js";
import { verdictOf, type ScenarioResult } from "../../harness/verdict.js";
import { openPartBStack } from "./stack.js";

export { badInput } from "./bad-input.js";

/** The stack's services as the implementation under test. */
const implOf = (stack: Stack): PartB => labImplementation(stack.running, stack.lab);

/** The orders a scenario will place, stock for them (one item scarce), and the counters before it starts. */
async function prepareOrders(impl: PartB, seed: number, count: number, userPrefix: string) {
  const plan = plannedOrders(seed, count, userPrefix);
  const stock = await stockFor(impl, plan);
  return { plan, stock, before: await snapshot(impl) };
}

// ---- Consumer crash ----

/** Wait until inventory has processed `target` in all, or until it makes no progress for 20 s. */
async function processedUpTo(impl: PartB, target: number): Promise<{ ok: boolean; processed: number }> {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const processed = (await impl.stats("inventory")).processed_total as number;
    if (processed >= target) return { ok: true, processed };
    if (processed !== last) [last, lastChange] = [processed, Date.now()];
    else if (Date.now() - lastChange > 20_000) return { ok: false, processed };
    await sleep(10);
  }
}

/**
 * A backlog of orders waits in order.placed.q while inventory is stopped; inventory starts on it
 * and is killed (kill -9) part-way through, with messages in hand, then started again (more than
 * once in the full run). RabbitMQ redelivers whatever was not acked; inventory's processed ids,
 * written in the same transaction as the stock, make the redelivery harmless.
 */
export async function consumerCrash(opts: ScenarioOptions): Promise<ScenarioResult> {
  const n = opts.quick ? 300 : 3000;
  const kills = opts.quick ? 1 : 3;
  // A pause before each batch: inventory drains in waves, 0.2 s apart, so the drain cannot end
  // before a kill lands; and a pause of 0.2 s between storing a batch and answering it, so that
  // the kill — sent as soon as the store's count passes its mark — lands with the batch processed
  // but not acked (without it the window is one confirm wait, and the kill sometimes missed it).
  const stack = await openPartBStack(opts, "B-consumer-crash", { DELAY_TIME: "0.2", SETTLE_DELAY_MS: "200" });
  const impl = implOf(stack);
  const probe = await impl.probe();
  try {
    const { plan, stock, before } = await prepareOrders(impl, opts.seed, n, "u-crash");

    // 1. The backlog: inventory stopped, every order accepted and queued.
    await impl.stopInventory();
    const placed = await placeAll(impl, plan);
    const acked = placed.filter((p) => p.status === 202 && p.order_id);
    const backlog = (await probe.queue(QUEUES.orderPlaced.name)).messages;
    opts.log(
      `${acked.length}/${n} orders accepted with inventory down; ${backlog} messages wait in ${QUEUES.orderPlaced.name}`,
    );

    // 2. Inventory drains it, and is killed part-way, `kills` times. Its store says, once it is
    //    started again, how far the killed process had got.
    const killedAt: number[] = [];
    let redelivered = 0; // processed but not acked at a kill: redelivered, recognised by the next process
    for (let k = 1; k <= kills; k++) {
      await impl.startInventory();
      if (k > 1) killedAt.push((await impl.stats("inventory")).processed_total - before.processed);
      const target = before.processed + Math.round((k * acked.length) / (kills + 1));
      const reached = await processedUpTo(impl, target);
      if (!reached.ok) {
        // Nothing left to process: the messages went with the killed process (auto-ack, the
        // run without manual-ack). No more kills; the checker below counts what was lost.
        opts.log(
          `inventory stalled at ${reached.processed - before.processed}/${acked.length} processed: nothing more arrives`,
        );
        break;
      }
      redelivered += (await impl.stats("inventory")).duplicates_ignored;
      await impl.stopInventory("kill");
      opts.log(`kill -9 #${k} of inventory once ${target - before.processed}/${acked.length} orders were processed`);
    }
    await impl.startInventory();
    killedAt.push((await impl.stats("inventory")).processed_total - before.processed);
    const records = await waitAllFinal(
      impl,
      acked.map((a) => a.order_id!),
      opts.quick ? 60_000 : 300_000,
    );
    await sleep(300); // a (wrong) late effect would show now
    const after = await snapshot(impl);
    redelivered += after.inventory.duplicates_ignored;
    const effects = effectsOf(acked, records, before, after, stock[SCARCE]);
    opts.log(
      `final: ${JSON.stringify(effects.final_states)}; ${redelivered} OrderPlaced redelivered after a kill and recognised`,
    );
    const midDrain = killedAt.length === kills && killedAt.every((done) => done > 0 && done < acked.length);
    return verdictOf({
      scenario: "B-consumer-crash",
      part: "B",
      seed: opts.seed,
      orders_sent: n,
      orders_acknowledged: acked.length,
      final_states: effects.final_states,
      lost: effects.lost,
      duplicated_effects: effects.duplicated_effects,
      invariants: [
        {
          check: "every order accepted (202) with inventory down",
          passed: acked.length === n,
          observed: `${acked.length}/${n}, ${backlog} queued`,
        },
        {
          check: `inventory killed (kill -9) mid-drain, ${kills} time(s)`,
          passed: midDrain,
          observed: killedAt.map((done) => `${done}/${acked.length} processed at the kill`).join("; "),
        },
        {
          check: "the kills left orders processed but not acked; each redelivery was recognised, not processed again",
          passed: redelivered > 0,
          observed: `${redelivered} OrderPlaced redelivered and recognised by their message id`,
        },
        ...effects.invariants,
      ],
      details: {
        ...effects.details,
        kills: killedAt,
        redeliveries_recognised: redelivered,
        redeliveries_recognised_after_last_restart: after.inventory.duplicates_ignored,
        answers_republished_after_last_restart: after.inventory.republished,
      },
    });
  } finally {
    await probe.close();
    await stack.release();
  }
}

// ---- Broker restart ----

/**
 * Orders at a fixed rate the whole time; RabbitMQ stopped and started again on the same data in
 * the middle. Inventory is slowed first so that messages wait in the queue (and in its hands)
 * when the broker goes. Nothing is restarted but the broker: the services must reconnect alone.
 */
export async function brokerRestart(opts: ScenarioOptions): Promise<ScenarioResult> {
  const rate = opts.quick ? 25 : 50;
  const [warmup, outage, afterS] = opts.quick ? [2, 3, 3] : [5, 15, 10];
  const stack = await openPartBStack(opts, "B-broker-restart");
  const impl = implOf(stack);
  const pids = Object.fromEntries(Object.keys(stack.running.services).map((s) => [s, pidOf(stack, s)]));
  const confirmTimeoutMs = 5000; // the services' CONFIRM_TIMEOUT_MS default: the longest a publish may wait
  try {
    const { plan, stock, before } = await prepareOrders(
      impl,
      opts.seed,
      Math.ceil(rate * (warmup + outage + afterS + 30)),
      "u-broker",
    );
    await impl.faults.inventoryDelay(3); // each order held 3 s: ~3 s of orders unacked in inventory's hands
    const timeline: Record<string, number> = {};
    const load = steadyLoad(rate, async (seq) => {
      const r = await impl.placeOrder(plan[seq % plan.length].body);
      return { status: r.status || (r.body?.error ?? "no answer"), body: { ...r.body, plan: plan[seq % plan.length] } };
    });
    await sleep(warmup * 1000);
    // Waiting in RabbitMQ when it stops: accepted, not yet processed (ready in the queue, or unacked in inventory's hands).
    const processedAtStop = (await impl.stats("inventory")).processed_total - before.processed;
    const waitingAtStop = load.sent.filter((s) => s.status === 202).length - processedAtStop;
    await brokerOutage(
      "rabbitmq",
      opts,
      outage,
      timeline,
      load.now,
      ` with ${waitingAtStop} accepted orders not yet processed`,
    );
    await waitUntil(
      async () => {
        for (const s of ["order", "inventory", "notification"] as const)
          if ((await impl.stats(s)).broker !== "connected") return false;
        return true;
      },
      "every service to reconnect to RabbitMQ",
      60_000,
      100,
    );
    timeline.reconnected = load.now();
    await impl.faults.inventoryDelay(0);
    await sleep(afterS * 1000);
    const sent = await load.stop();
    timeline.load_stopped = load.now();

    const acked = sent
      .filter((s) => s.status === 202)
      .map((s) => ({ order_id: s.body.order_id, plan: s.body.plan, published: s.body.published }));
    const records = await waitAllFinal(
      impl,
      acked.map((a) => a.order_id!),
      opts.quick ? 90_000 : 300_000,
    );
    await sleep(300);
    const after = await snapshot(impl);
    const effects = effectsOf(acked, records, before, after, stock[SCARCE]);
    const inOutage = sent.filter((s) => s.sent_ms >= timeline.stop && s.sent_ms < timeline.reconnected);
    const deferred = acked.filter((a) => a.published === false).length;
    const refused = inOutage.filter((s) => s.status !== 202);
    const unclear = refused.filter((s) => !clearError(s.status, s.body));
    const slowest = Math.max(0, ...inOutage.map((s) => s.ms));
    const samePids =
      Object.entries(pids).every(([s, pid]) => pid !== undefined && pidOf(stack, s) === pid) && allAlive(stack);
    opts.log(
      `${sent.length} orders sent, ${acked.length} accepted (${deferred} kept in the outbox while RabbitMQ was away); final ${JSON.stringify(effects.final_states)}`,
    );
    return verdictOf({
      scenario: "B-broker-restart",
      part: "B",
      seed: opts.seed,
      orders_sent: sent.length,
      orders_acknowledged: acked.length,
      final_states: effects.final_states,
      lost: effects.lost,
      duplicated_effects: effects.duplicated_effects,
      invariants: [
        {
          check: "the services reconnected by themselves (same processes)",
          passed: samePids,
          observed: `all connected ${seconds(timeline.reconnected - timeline.serving)} after RabbitMQ was back; pids ${samePids ? "unchanged" : "changed"}`,
        },
        {
          check: "orders waiting in RabbitMQ at the stop survived the restart (durable queue, persistent messages)",
          passed: waitingAtStop > 0 && effects.lost === 0,
          observed: `${waitingAtStop} accepted but not yet processed at the stop; every accepted order final`,
        },
        {
          check: "during the outage every order got 202 (outbox) or a clear error",
          passed: unclear.length === 0 && inOutage.length > 0,
          observed: `while RabbitMQ was down ${JSON.stringify(
            countBy(
              inOutage.filter((s) => s.sent_ms < timeline.serving),
              (s) => String(s.status),
            ),
          )}, while the services reconnected ${JSON.stringify(
            countBy(
              inOutage.filter((s) => s.sent_ms >= timeline.serving),
              (s) => String(s.status),
            ),
          )}; ${unclear.length} unclear`,
        },
        {
          check: `no hang: every answer during the outage within the confirm timeout (${seconds(confirmTimeoutMs)}) + 1 s`,
          passed: slowest <= confirmTimeoutMs + 1000,
          observed: `slowest ${seconds(slowest)}`,
        },
        {
          check: "the outbox was published once RabbitMQ was back",
          passed: after.order.outbox_pending === 0,
          observed: `${deferred} deferred, ${after.order.outbox_pending} still pending, ${after.order.published_later} published by the relay`,
        },
        ...effects.invariants,
      ],
      details: {
        ...effects.details,
        timeline_ms: timeline,
        waiting_at_stop: waitingAtStop,
        deferred,
        slowest_ms_in_outage: slowest,
      },
    });
  } finally {
    await BROKERS.rabbitmq.up({ home: opts.home, mode: "native" }).catch(() => {});
    await stack.release();
  }
}

// ---- Duplicates ----

/**
 * Every message of a run delivered twice: each OrderPlaced published again with its message id
 * right after the order is accepted (so the copies race the originals), then, once every order
 * is final, each inventory outcome and each UserNotified again. The final stock, processed ids,
 * notifications and order states must be those of one delivery.
 */
export async function duplicates(opts: ScenarioOptions): Promise<ScenarioResult> {
  const n = opts.quick ? 120 : 1000;
  const stack = await openPartBStack(opts, "B-duplicates");
  const impl = implOf(stack);
  const probe = await impl.probe();
  try {
    const { plan, stock, before } = await prepareOrders(impl, opts.seed, n, "u-dup");
    let copies = 0;
    const publishCopy = async (exchange: string, key: string, event: { event_id: string; event_type: string }) => {
      await probe.publish(exchange, key, JSON.stringify(event), { messageId: event.event_id, type: event.event_type });
      copies++;
    };

    // 1. Each order placed, and its OrderPlaced published a second time at once: the copy races the original.
    const acked: { order_id: string; plan: PlannedOrder }[] = [];
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < plan.length; i = next++) {
        const placed = await impl.placeOrder(plan[i].body);
        if (placed.status !== 202 || !placed.body?.order_id) continue;
        acked.push({ order_id: placed.body.order_id, plan: plan[i] });
        const record = await impl.order(placed.body.order_id);
        if (record) await publishCopy(EXCHANGES.orders, ROUTING_KEYS.orderPlaced, orderPlacedFor(record));
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const records = await waitAllFinal(
      impl,
      acked.map((a) => a.order_id),
      opts.quick ? 60_000 : 300_000,
    );
    await waitUntil(
      async () => (await impl.stats("inventory")).received >= before.inventory.received + 2 * acked.length,
      "inventory to receive every copy",
      30_000,
      100,
    );
    const mid = await snapshot(impl);

    // 2. Each inventory outcome and each UserNotified, again.
    let outcomes = 0;
    let notices = 0;
    for (const a of acked) {
      const r = records.get(a.order_id);
      const processed = r
        ? ((await impl.processed(r.event_id)) as { outcome?: InventoryEvent } | undefined)
        : undefined;
      if (processed?.outcome) {
        const key =
          processed.outcome.event_type === "InventoryReserved"
            ? ROUTING_KEYS.inventoryReserved
            : ROUTING_KEYS.inventoryFailed;
        await publishCopy(EXCHANGES.inventory, key, processed.outcome);
        outcomes++;
      }
      const note = await impl.notification(a.order_id);
      if (note) {
        await publishCopy(EXCHANGES.notification, ROUTING_KEYS.userNotified, note.event);
        notices++;
      }
    }
    const confirmed = [...records.values()].filter((r) => r?.status === "CONFIRMED").length;
    await waitUntil(
      async () =>
        (await impl.stats("notification")).received >= mid.notification.received + confirmed &&
        (await impl.stats("order")).status_events >= mid.order.status_events + outcomes + notices,
      "the copies of the outcomes to be consumed",
      30_000,
      100,
    ).catch((err: Error) => opts.log(`${err.message}; counting what arrived`)); // e.g. a copy reserved again, answered differently
    await sleep(500);
    const after = await snapshot(impl);
    const recordsAfter = await waitAllFinal(
      impl,
      acked.map((a) => a.order_id),
      5_000,
    );
    const changed = acked.filter(
      (a) => recordsAfter.get(a.order_id)?.status !== records.get(a.order_id)?.status,
    ).length;
    const effects = effectsOf(acked, recordsAfter, before, after, stock[SCARCE]);
    const invDup = after.inventory.duplicates_ignored - before.inventory.duplicates_ignored;
    const noteDup = after.notification.duplicates_ignored - before.notification.duplicates_ignored;
    opts.log(
      `${acked.length} orders, ${copies} copies published; inventory recognised ${invDup}, notification ${noteDup}; final ${JSON.stringify(effects.final_states)}`,
    );
    return verdictOf({
      scenario: "B-duplicates",
      part: "B",
      seed: opts.seed,
      orders_sent: n,
      orders_acknowledged: acked.length,
      final_states: effects.final_states,
      lost: effects.lost,
      duplicated_effects: effects.duplicated_effects + changed,
      invariants: [
        {
          check: "every message of the run was delivered twice",
          passed: outcomes === acked.length && notices === confirmed,
          observed: `${acked.length} OrderPlaced, ${outcomes} inventory outcomes, ${notices} UserNotified published again`,
        },
        {
          check: "inventory recognised every second OrderPlaced",
          passed: invDup === acked.length,
          observed: `${invDup} recognised for ${acked.length} copies`,
        },
        {
          check: "notification recognised every second InventoryReserved",
          passed: noteDup === confirmed,
          observed: `${noteDup} recognised for ${confirmed} copies`,
        },
        {
          check: "no order changed state when its events came again",
          passed: changed === 0,
          observed: `${changed} changed`,
        },
        ...effects.invariants,
      ],
      details: {
        ...effects.details,
        copies,
        inventory_duplicates_ignored: invDup,
        notification_duplicates_ignored: noteDup,
      },
    });
  } finally {
    await probe.close();
    await stack.release();
  }
}
