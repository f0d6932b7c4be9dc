// Part B's one driver: any implementation — the lab's own services (lab.yml, managed_by: lab)
// or a team's — built from its target file and driven the same way: orders over HTTP, a tap of
// the lab's own on its broker, queue depths by a passive look. What goes beyond the wire
// contract is a capability, derived here from the file: stopping, killing and starting
// inventory (the file's commands; the lab's own process manager), an order's state (the file's
// order_status path), and what only the lab's own services have — /health counters, stock,
// inventory's delay, BATCH_MAX, restarting the broker, starting without a safeguard. This is the
// one place that knows whose implementation it is; experiments only ask `capabilities`.
import amqp from "amqplib";
import { BROKERS } from "../../harness/run/brokers/index.js";
import { capabilities } from "../../harness/judge/capabilities.js";
import { labHome } from "../../common/paths.js";
import { withOpened, type Implementation } from "../../harness/judge/experiment.js";
import { request, type Answer } from "../../harness/measure/implementation.js";
import * as lifecycle from "../../harness/run/lifecycle.js";
import type { OpenPartOptions, RunningPart } from "../../harness/run/lifecycle.js";
import { crashProcess, isAlive, readRecord } from "../../harness/run/processes.js";
import { loadTarget, LAB_TARGET_FILE, targetSummary, type Target } from "../../harness/judge/target.js";
import { controlService, NotObservable } from "../../harness/judge/target-control.js";
import { PARTB_SAFEGUARDS, type PartBSafeguard } from "../switches.js";
import { allQueueNames, QUEUES } from "../topology.js";
import * as client from "./client.js";
import type { OrderRecord, PlaceOrderBody } from "./client.js";
import { redact, WireTap } from "./tap.js";

/** What a Part B may offer beyond the contract (why each is missing: `missingReasons`). */
export type PartBCapability = keyof ReturnType<typeof missingReasons>;

export type PartBService = "order" | "inventory" | "notification";
type PartBSection = NonNullable<Target["partB"]>;
export type PartBBroker = NonNullable<PartBSection["broker"]>;

/** The contract's example order, when the target gives no body. */
export const CONTRACT_ORDER = { user_id: "u1", restaurant_id: "r1", items: [{ sku: "burger", qty: 1 }] };

export interface PartBOptions extends OpenPartOptions {
  /** The lab's own services started without this safeguard (a script's --without). */
  without?: string;
}

export interface PartB extends Implementation<PartBCapability>, WhiteBox {
  readonly part: "partB";
  /** The order service's URL (and, for the lab's own, inventory's and notification's). */
  readonly endpoints: Record<string, string>;
  /** Its broker: URL, exchange and routing key of OrderPlaced, the queues to watch. */
  readonly broker?: PartBBroker;
  /** POST an order (the file's body, else the contract's), timed; never throws on a status. */
  placeOrder(body?: unknown): Promise<Answer<PlaceOrderBody>>;
  /** Where an order stands (undefined: unknown). Capability "order status". */
  order(id: string): Promise<OrderRecord | undefined>;
  orders(ids: string[]): Promise<Map<string, OrderRecord | undefined>>;
  /** The order once CONFIRMED or FAILED; an error after the timeout. */
  waitForFinal(id: string, timeoutMs?: number): Promise<OrderRecord>;
  /** A tap of the lab's own on its broker (close it after use). Capability "wire". */
  tap(): Promise<WireTap>;
  /** Inventory down: a graceful stop, or kill -9 with messages in hand. */
  stopInventory(how?: "graceful" | "kill"): Promise<void>;
  /** Inventory (re)started — with this env on top of its own, for the lab's own — and ready. */
  startInventory(env?: Record<string, string>): Promise<void>;
  /** Its broker stopped, and started again on the same data. Capability "restart broker". */
  stopBroker(): Promise<void>;
  startBroker(): Promise<void>;
}

const LAB_ONLY = (what: string) => `${what}: only the lab's own services offer it (managed_by: lab)`;
const NO_BROKER = "the target gives no broker (partB.broker): the lab cannot see what goes on the wire";

/** For each capability, why the target lacks it (undefined: it has it). */
function missingReasons(b: PartBSection, lab: boolean) {
  const inv = b.control?.inventory;
  const named = (field: "queue" | "dlq" | "inventory_exchange", what: string) =>
    !b.broker ? NO_BROKER : b.broker[field] ? undefined : `the target names no ${what} (partB.broker.${field})`;
  const control = (action: "stop" | "kill" | "start") =>
    lab || inv?.[action] || (action !== "start" && inv?.pid_file)
      ? undefined
      : `the target does not say how to ${action} inventory (partB.control.inventory.${action}${action === "start" ? "" : " or pid_file"})`;
  const noEvents = named("inventory_exchange", "inventory exchange");
  return {
    wire: b.broker ? undefined : NO_BROKER,
    "inventory events": noEvents && b.broker ? `${noEvents}: its events cannot be seen` : noEvents,
    "queue depth": named("queue", "queue"),
    dlq: named("dlq", "dead-letter queue"),
    "stop inventory": control("stop"),
    "kill inventory": control("kill"),
    "start inventory": control("start"),
    "order status": b.order_status
      ? undefined
      : "the target gives no order status path (partB.order_status, e.g. /orders/{id})",
    stats: lab ? undefined : LAB_ONLY("white-box counters (/health: processed ids, duplicates, dead-lettered, stock)"),
    stock: lab ? undefined : LAB_ONLY("setting the stock (PUT /stock)"),
    "inventory delay": lab ? undefined : LAB_ONLY("inventory's delay (set-delay-time)"),
    "batch size": lab ? undefined : LAB_ONLY("measures the lab's own batch sizes (BATCH_MAX of its three services)"),
    "restart broker": lab ? undefined : LAB_ONLY("stopping and starting the broker under the services"),
    "without safeguard": lab
      ? undefined
      : "only the lab's own services can be started without a safeguard (SAFEGUARDS_OFF, managed_by: lab)",
  };
}

/** The lab's own side of the driver: its running services and how they were started. */
interface LabSide {
  running: RunningPart;
  opts: PartBOptions;
}

type Need = (c: PartBCapability) => void;

/** The driver for `target`; `lab`: the lab's own services as they run (ports and broker from the running part). */
function driver(target: Target, lab?: LabSide): PartB {
  if (!target.partB) throw new NotObservable(`the target ${target.name} has no partB`);
  const b = target.partB;
  const url = (s: string) => (lab ? lifecycle.serviceUrl(lab.running, s) : b.services.order);
  const endpoints: Record<string, string> = lab
    ? { order: url("order"), inventory: url("inventory"), notification: url("notification") }
    : { order: b.services.order };
  const broker =
    b.broker && lab ? { ...b.broker, amqp_url: lifecycle.brokerEnv(lab.running, "rabbitmq", "AMQP_URL") } : b.broker;
  if (broker) endpoints.amqp = redact(broker.amqp_url);
  const caps = capabilities(missingReasons(b, !!lab));
  const need: Need = (c) => caps.need(c);
  const status = () => (need("order status"), b.order_status);
  return {
    part: "partB",
    target,
    summary: targetSummary(target, endpoints),
    capabilities: caps,
    ...(lab?.opts.without ? { without: lab.opts.without } : {}),
    endpoints,
    broker,
    placeOrder: (body = b.place_order?.body ?? CONTRACT_ORDER) =>
      request<PlaceOrderBody>("post", `${endpoints.order}${b.place_order?.path ?? "/order"}`, body),
    order: async (id) => client.getOrder(endpoints.order, id, status()),
    orders: async (ids) => client.getOrders(endpoints.order, ids, status()),
    waitForFinal: async (id, timeoutMs) => client.waitForFinal(endpoints.order, id, timeoutMs, status()),
    tap: async () => (need("wire"), WireTap.open(broker!)),
    ...inventoryControl(target, need, lab),
    stopBroker: async () => (need("restart broker"), await BROKERS.rabbitmq.down(brokerAt(lab!.opts))),
    startBroker: async () => (need("restart broker"), void (await BROKERS.rabbitmq.up(brokerAt(lab!.opts)))),
    ...whiteBox(endpoints, need, lab, broker?.amqp_url),
  };
}

/** Stopping, killing and starting inventory: the lab's own by its process manager, a team's by its file's commands. */
function inventoryControl(target: Target, need: Need, lab?: LabSide): Pick<PartB, "stopInventory" | "startInventory"> {
  const control = target.partB?.control?.inventory;
  const health = `${target.partB?.services.order}${target.partB?.health_path ?? "/health"}`;
  return {
    stopInventory: async (how = "graceful") => {
      need(how === "kill" ? "kill inventory" : "stop inventory");
      if (!lab) await controlService(target, "inventory", control, how === "kill" ? "kill" : "stop");
      else if (how === "kill") crashProcess(lifecycle.processName("partB", "inventory"), lab.opts.home);
      else await lifecycle.down("partB", { ...lab.opts, only: ["inventory"] });
    },
    startInventory: async (env = {}) => {
      need("start inventory");
      if (!lab) await controlService(target, "inventory", control, "start", health);
      else await lifecycle.restartService(lab.running, "inventory", lab.opts, env);
    },
  };
}

/** What only the lab's own services answer or allow (capabilities "stats", "stock", "inventory delay", "batch size"). */
type WhiteBox = ReturnType<typeof whiteBox>;

/**
 * Their /health (counters, stock, switches), the pids of their processes, order counts and recent
 * orders, a probe of their broker that declares the topology, the faults (delay, stock) and
 * BATCH_MAX of all three (undefined: as they were).
 */
function whiteBox(e: Record<string, string>, need: Need, lab?: LabSide, amqpUrl?: string) {
  const white = async <T>(f: () => Promise<T>, c: PartBCapability = "stats"): Promise<T> => {
    need(c);
    return f();
  };
  const services = ["inventory", "notification", "order"];
  let before: Record<string, Record<string, string>> | undefined; // the services' env before batchSize
  const off = () => (lab?.opts.env?.SAFEGUARDS_OFF ?? "").split(",").map((s) => s.trim());
  return {
    stats: (s: PartBService) => white(() => client.serviceStats(e[s])),
    /** The pid of each service's process while it runs (to tell "reconnected by itself" from "restarted"). */
    pids: () =>
      white(async () =>
        Object.fromEntries(
          services.map((s) => {
            const pid = readRecord(lifecycle.processName("partB", s), lab!.opts.home)?.pid;
            return [s, pid !== undefined && isAlive(pid) ? pid : undefined];
          }),
        ),
      ),
    orderCounts: () => white(() => client.orderCounts(e.order)),
    recentOrders: (limit: number) => white(() => client.listOrders(e.order, limit)),
    probe: () => white(() => client.BrokerProbe.open(amqpUrl!, { durable: !off().includes("durability") })),
    faults: {
      inventoryDelay: (seconds: number) =>
        white(() => client.setInventoryDelay(e.inventory, seconds), "inventory delay"),
      stock: (stock: Record<string, number>) => white(() => client.setStock(e.inventory, stock), "stock"),
    },
    batchSize: (size: number | undefined) =>
      white(async () => {
        const { running, opts } = lab!;
        before ??= Object.fromEntries(services.map((s) => [s, lifecycle.serviceEnv("partB", s, opts.home)]));
        for (const s of services)
          await lifecycle.restartService(
            running,
            s,
            opts,
            size === undefined ? before[s] : { ...before[s], BATCH_MAX: String(size) },
          );
      }, "batch size"),
  };
}

/** The lab's own Part B as it runs (a fault scenario's or a benchmark's stack). */
export const labImplementation = (running: RunningPart, opts: PartBOptions = {}): PartB =>
  driver(loadTarget(LAB_TARGET_FILE), { running, opts });

/**
 * Part B of `target`, ready to drive. The lab's own: what is missing is started (without
 * `opts.without`, if asked), and `close()` stops exactly that. A team's: nothing is started or stopped.
 */
export async function openPartB(target: Target, opts: PartBOptions = {}): Promise<PartB & { close(): Promise<void> }> {
  if (!target.lab) {
    if (opts.without)
      throw new Error(
        `${target.name} cannot be started without ${opts.without}: ${missingReasons({ services: { order: "" } }, false)["without safeguard"]}`,
      );
    return { ...driver(target), close: async () => {} };
  }
  if (opts.without && !Object.hasOwn(PARTB_SAFEGUARDS, opts.without))
    throw new Error(`unknown safeguard "${opts.without}"; Part B's are ${Object.keys(PARTB_SAFEGUARDS).join(", ")}`);
  const env = opts.without ? { ...opts.env, SAFEGUARDS_OFF: opts.without } : opts.env;
  await leaveAsFound(opts, "before");
  const open = await lifecycle.openPart("partB", { ...opts, env });
  const close = async () => {
    await open.close();
    await leaveAsFound(opts, "after");
  };
  try {
    const impl = driver(target, { running: open.running, opts: { ...opts, env } });
    if (opts.without) await expectSafeguardOff(impl, opts.without as PartBSafeguard);
    return { ...impl, close };
  } catch (err) {
    await close();
    throw err;
  }
}

const brokerAt = (opts: PartBOptions) => ({ home: opts.home ?? labHome(), mode: opts.mode, log: opts.log });

/**
 * A run without a safeguard leaves the broker as a run with it expects. Without `durability` the
 * queues are declared transient, and RabbitMQ refuses to declare a queue that exists the other
 * way (PRECONDITION_FAILED): Part B's queues are deleted before such a run and after it. Without
 * `dead-letter` poison is requeued forever: it is purged after the run, or it greets the next.
 */
async function leaveAsFound(opts: PartBOptions, when: "before" | "after"): Promise<void> {
  const queues =
    opts.without === "durability"
      ? allQueueNames()
      : opts.without === "dead-letter" && when === "after"
        ? [QUEUES.orderPlaced.name]
        : [];
  if (!queues.length) return;
  const conn = await amqp.connect((await BROKERS.rabbitmq.up(brokerAt(opts))).env!.AMQP_URL);
  try {
    const ch = await conn.createChannel();
    for (const q of queues) await (opts.without === "durability" ? ch.deleteQueue(q) : ch.purgeQueue(q));
    opts.log?.(`without ${opts.without}: ${queues.join(", ")} ${opts.without === "durability" ? "deleted" : "purged"}`);
  } finally {
    await conn.close();
  }
}

/** `body` on Part B of `target`, opened by openPartB and closed afterwards, whatever happens. */
export const withPartB = <T>(target: Target, opts: PartBOptions, body: (impl: PartB) => Promise<T>): Promise<T> =>
  withOpened(openPartB(target, opts), body);

/** A Part B that was already up keeps its env: a safeguard asked off must say "off" in its service's /health. */
async function expectSafeguardOff(impl: PartB, name: PartBSafeguard): Promise<void> {
  const state = ((await impl.stats(PARTB_SAFEGUARDS[name].service)).safeguards ?? {})[name];
  if (state !== "off")
    throw new Error(
      `Part B already runs with the ${name} safeguard on: stop it first (npx zx lab-scripts/down.mjs partB), so that this run starts it with the safeguard off`,
    );
}
