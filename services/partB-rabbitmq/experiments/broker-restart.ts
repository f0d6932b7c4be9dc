// A broker restart under load (the B-broker-restart scenario), on a Part B whose broker the lab
// may stop and start (capability "restart broker"): orders at a fixed rate the whole time,
// inventory slowed first so that accepted orders wait in RabbitMQ when it stops, the broker down
// for the outage and started again on the same data. Nothing else is restarted: the services
// must reconnect alone. Every order gets 202 (the outbox keeps it) or a clear error, none hangs,
// and every accepted order ends CONFIRMED or FAILED — the durable queues kept what waited, the
// outbox with confirms what was accepted while the broker was away.
import type { Experiment, ExperimentOptions, Run } from "../../harness/judge/experiment.js";
import { check, type Check } from "../../harness/judge/check.js";
import { clearError, countBy, seconds, steadyLoad, type Sent } from "../../harness/run/stack.js";
import type { Row } from "../../common/table.js";
import { sleep, waitUntil } from "../../common/wait.js";
import type { PartB, PartBService } from "../lab/implementation.js";
import { accepted2xx, awaitFinal, ensureStockFor, experimentOrder, ordersTally, type Answered } from "./orders.js";

export interface BrokerRestartOptions extends ExperimentOptions {
  /** Orders/s all along; seconds before the stop, of the outage, and after the services are back. */
  rate: number;
  warmupSeconds: number;
  outageSeconds: number;
  afterSeconds: number;
  /** How long inventory holds each batch meanwhile (default 3 s), so that orders wait in the broker. */
  inventoryDelaySeconds?: number;
  /** The services' longest wait for a publish confirm (CONFIRM_TIMEOUT_MS, default 5 s): a bound on any answer. */
  confirmTimeoutMs?: number;
  /** Give up waiting for the orders to be final after this long (default 2 min). */
  finalTimeoutMs?: number;
}

/** Moments of the run on the load's clock (ms). */
export interface BrokerRestartTimeline {
  stop?: number;
  serving?: number;
  reconnected?: number;
  load_stopped?: number;
}

export interface BrokerRestartData {
  timeline: BrokerRestartTimeline;
  /** Accepted, not yet processed by inventory when the broker stopped (where counted). */
  waiting_at_stop?: number;
  orders: (Answered & { sent_ms: number })[];
}

type Answer = { order_id?: string; error?: string; message?: string };

export interface BrokerRestartRun extends Run<PartB, BrokerRestartOptions>, BrokerRestartData {
  load?: ReturnType<typeof steadyLoad<Answer>>;
  sent: Sent<Answer>[];
  brokerDown: boolean;
  pids?: Record<string, number | undefined>;
  processed0?: number;
  checks: Check[];
  duplicated?: number;
}

const SERVICES: PartBService[] = ["order", "inventory", "notification"];

const processed = async (impl: PartB) => (await impl.stats("inventory")).processed_total as number;

async function placeLoad(r: BrokerRestartRun): Promise<void> {
  const { rate, warmupSeconds, outageSeconds, afterSeconds } = r.opts;
  await r.unless("enough stock for every order", () =>
    ensureStockFor(r.impl, rate * (warmupSeconds + outageSeconds + afterSeconds + 30)),
  );
  await r.unless("accepted orders waited in the broker when it stopped", async () => {
    await r.impl.faults.inventoryDelay(r.opts.inventoryDelaySeconds ?? 3);
    [r.pids, r.processed0] = [await r.impl.pids(), await processed(r.impl)];
  });
  r.progress(`orders at ${rate}/s; the broker stops after ${warmupSeconds} s`);
  r.load = steadyLoad<Answer>(rate, async (seq) => {
    const a = await r.impl.placeOrder(experimentOrder(seq, "u-broker"));
    return { status: a.status || (a.body?.error ?? "no answer"), body: a.body ?? {} };
  });
  await sleep(warmupSeconds * 1000);
}

async function restartBroker(r: BrokerRestartRun): Promise<void> {
  const load = r.load!;
  await r.unless("accepted orders waited in the broker when it stopped", async () => {
    const accepted = load.sent.filter((s) => accepted2xx({ http_status: Number(s.status) })).length;
    r.waiting_at_stop = accepted - ((await processed(r.impl)) - r.processed0!);
  });
  r.timeline.stop = load.now();
  r.progress(`stopping the broker for ${r.opts.outageSeconds} s (${r.waiting_at_stop ?? "?"} orders waiting in it)`);
  r.brokerDown = true;
  await r.impl.stopBroker();
  await sleep(r.opts.outageSeconds * 1000);
  await r.impl.startBroker();
  r.brokerDown = false;
  r.timeline.serving = load.now();
  r.progress(`the broker serves again (down ${seconds(r.timeline.serving - r.timeline.stop)})`);
}

async function reconnectAndFinish(r: BrokerRestartRun): Promise<void> {
  const load = r.load!;
  await r.unless("the services reconnected by themselves (same processes)", async () => {
    const connected = async () => {
      for (const s of SERVICES) if ((await r.impl.stats(s)).broker !== "connected") return false;
      return true;
    };
    await waitUntil(connected, "every service to reconnect to the broker", 60_000, 100);
    r.timeline.reconnected = load.now();
    await r.impl.faults.inventoryDelay(0);
  });
  await sleep(r.opts.afterSeconds * 1000);
  r.sent = await load.stop();
  r.timeline.load_stopped = load.now();
  const orders = r.sent.map((s) => ({
    sent_ms: s.sent_ms,
    http_status: typeof s.status === "number" ? s.status : 0,
    accept_ms: s.ms,
    order_id: s.body?.order_id ?? "",
  }));
  r.orders = orders;
  const ok = orders.filter((o) => accepted2xx(o) && o.order_id);
  r.progress(`${r.sent.length} orders sent, ${ok.length} accepted; waiting until every one is final`);
  await awaitFinal(r.impl, ok, Date.now() + (r.opts.finalTimeoutMs ?? 120_000));
  await sleep(300); // a (wrong) late effect would show now
  await r.unless("the services reconnected by themselves (same processes)", () => afterChecks(r, ok.length));
}

/** What only the lab's own counters tell: the same processes, the outbox empty, each order processed once. */
async function afterChecks(r: BrokerRestartRun, accepted: number): Promise<void> {
  const pids = await r.impl.pids();
  const same = SERVICES.every((s) => r.pids?.[s] !== undefined && pids[s] === r.pids[s]);
  const order = await r.impl.stats("order");
  const done = (await processed(r.impl)) - r.processed0!;
  r.duplicated = Math.max(0, done - accepted);
  r.checks.push(
    check(
      "the services reconnected by themselves (same processes)",
      same,
      `all connected ${seconds(r.timeline.reconnected! - r.timeline.serving!)} after the broker was back; pids ${same ? "unchanged" : "changed"}`,
    ),
    check(
      "accepted orders waited in the broker when it stopped",
      (r.waiting_at_stop ?? 0) > 0,
      `${r.waiting_at_stop} accepted but not yet processed at the stop`,
    ),
    check(
      "the outbox was published once the broker was back",
      order.outbox_pending === 0,
      `${order.outbox_pending} still pending, ${order.published_later} published by the relay`,
    ),
    check("inventory processed each accepted order once", done === accepted, `+${done} processed for ${accepted}`),
  );
}

function judgeBrokerRestart(r: BrokerRestartRun) {
  const tl = r.timeline;
  const ok = r.orders.filter((o) => accepted2xx(o) && o.order_id);
  const tally = ordersTally(r.orders.length, ok);
  if (r.duplicated !== undefined) tally.anomalies.duplicated = r.duplicated;
  const inOutage = r.sent.filter((s) => s.sent_ms >= tl.stop! && s.sent_ms < (tl.reconnected ?? tl.serving!));
  const unclear = inOutage.filter(
    (s) => !accepted2xx({ http_status: Number(s.status) }) && !clearError(s.status, s.body),
  );
  const slowest = Math.max(0, ...inOutage.map((s) => s.ms));
  const bound = (r.opts.confirmTimeoutMs ?? 5000) + 1000;
  const by = (from: number, to: number) =>
    JSON.stringify(
      countBy(
        inOutage.filter((s) => s.sent_ms >= from && s.sent_ms < to),
        (s) => String(s.status),
      ),
    );
  const lost = tally.anomalies.lost ?? 0;
  return {
    params: { rate: r.opts.rate, warmup_s: r.opts.warmupSeconds, outage_s: r.opts.outageSeconds },
    checks: [
      check(
        "lost = 0: every accepted order reached CONFIRMED or FAILED",
        lost === 0 && ok.length > 0,
        `lost ${lost} of ${ok.length} accepted; ${JSON.stringify(tally.final_states)}`,
      ),
      check(
        "during the outage every order got 202 (outbox) or a clear error",
        unclear.length === 0 && inOutage.length > 0,
        `while the broker was down ${by(tl.stop!, tl.serving!)}, while the services reconnected ${by(tl.serving!, Infinity)}; ${unclear.length} unclear`,
      ),
      check(
        `no hang: every answer during the outage within the confirm timeout + 1 s (${seconds(bound)})`,
        slowest <= bound,
        `slowest ${seconds(slowest)}`,
      ),
      ...r.checks,
    ],
    tally,
    figures: {
      "orders sent / accepted": `${r.orders.length} / ${ok.length}`,
      "waiting in the broker at the stop": r.waiting_at_stop ?? "not observable",
      "slowest answer during the outage (s)": slowest / 1000,
      lost,
    },
    data: { timeline: tl, waiting_at_stop: r.waiting_at_stop, orders: r.orders },
  };
}

export const brokerRestart: Experiment<PartB, BrokerRestartOptions, BrokerRestartRun, BrokerRestartData> = {
  name: "broker-restart",
  part: "partB",
  title: "Part B — the broker restarted under load",
  lesson:
    "Orders accepted while the broker restarts are neither lost nor left hanging: the outbox and durable queues keep them.",
  needs: ["restart broker", "order status"],
  safeguards: ["confirms", "durability"],
  begin: (run) => ({ ...run, timeline: {}, orders: [], sent: [], brokerDown: false, checks: [] }),
  steps: [
    { name: "place load", run: placeLoad },
    { name: "restart the broker", run: restartBroker },
    { name: "wait for the orders", run: reconnectAndFinish },
  ],
  cleanup: async (r) => {
    if (r.brokerDown) await r.impl.startBroker().catch(() => {}); // never left down, whatever happened
    await r.load?.stop();
  },
  judge: judgeBrokerRestart,
  files: ({ data }) => ({ data: { "orders.csv": data.orders as unknown as Row[] } }),
};
