// Part B's implementation under test built from a target file: a team's own services, in any
// language, reached only through what the file names — the order service's URL, its broker
// (exchange, routing key, the queues to watch), and the commands that stop and start its
// inventory. Hands off: the lab places orders, taps the wire with a queue of its own, looks at
// queue depths passively, and runs the file's commands; nothing else is started, stopped or
// changed. What the file does not give is NotObservable, with the reason.
import { request, type Answer } from "../../harness/implementation.js";
import { controlService, NotObservable, type Target } from "../../harness/target.js";
import { redact, WireTap } from "./tap.js";

/** The order body when the target gives none: the contract's example. */
export const CONTRACT_ORDER = { user_id: "u1", restaurant_id: "r1", items: [{ sku: "burger", qty: 1 }] };

/** The contract's answer to POST /order: 202 {order_id, status: "PLACED"}; anything else is the implementation's. */
export interface ForeignOrderAnswer {
  order_id?: string;
  status?: string;
  [field: string]: unknown;
}

type PartB = NonNullable<Target["partB"]>;
export type PartBBroker = NonNullable<PartB["broker"]>;

/** A target's Part B, or an error that says the file has none. */
export function partBOf(target: Target): PartB {
  if (!target.partB) throw new NotObservable(`the target ${target.name} has no partB`);
  return target.partB;
}

/** Its broker section, or why the lab cannot see the wire. */
export function brokerOf(target: Target): PartBBroker {
  const broker = partBOf(target).broker;
  if (!broker)
    throw new NotObservable(`the target gives no broker (partB.broker): the lab cannot see what goes on the wire`);
  return broker;
}

/** What a report names: the order service, and the broker without its password. */
export function targetEndpoints(target: Target): Record<string, string> {
  const b = partBOf(target);
  return {
    order: b.services.order,
    ...(b.broker ? { amqp: redact(b.broker.amqp_url) } : {}),
  };
}

/** Part B of a foreign target, as the outside experiments drive it. */
export interface PartBTarget {
  readonly target: Target;
  readonly broker?: PartBBroker;
  /** POST an order (the file's body, else the contract's), timed; never throws on a status. */
  placeOrder(body?: unknown): Promise<Answer<ForeignOrderAnswer>>;
  /** Inventory down by the file's command: `stop` (graceful, or its pid file's SIGTERM) or `kill`. */
  stopInventory(how?: "graceful" | "kill"): Promise<void>;
  /** Inventory started by the file's command; returns once the order service answers its health path. */
  startInventory(): Promise<void>;
  /** A tap of the lab's own on the target's broker (close it after use). */
  tap(): Promise<WireTap>;
}

export function targetImplementation(target: Target): PartBTarget {
  const b = partBOf(target);
  const orderUrl = b.services.order;
  const health = `${orderUrl}${b.health_path ?? "/health"}`;
  return {
    target,
    broker: b.broker,
    placeOrder: (body = b.place_order?.body ?? CONTRACT_ORDER) =>
      request<ForeignOrderAnswer>("post", `${orderUrl}${b.place_order?.path ?? "/order"}`, body, { timeoutMs: 30_000 }),
    stopInventory: (how = "graceful") =>
      controlService(target, "inventory", b.control?.inventory, how === "kill" ? "kill" : "stop", health),
    // Part B's file gives no inventory URL: whether it consumes again is seen on its queue (consumers).
    startInventory: () => controlService(target, "inventory", b.control?.inventory, "start", health),
    tap: () => WireTap.open(brokerOf(target)),
  };
}
