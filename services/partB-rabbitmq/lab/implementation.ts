// Part B's implementation under test, as one typed handle: its endpoints; placing an order and
// learning its fate; stopping, killing and starting its consumer (inventory); its faults; what
// its services declare about themselves (/health); and its broker, for the messages the
// experiments publish by hand and the queues they watch. The lab's own services are the one
// implementation today, built from a RunningPart; experiments, the comparison, the benchmark
// and the fault scenarios take it through this interface.
import { request, type Answer } from "../../harness/implementation.js";
import { restartService, type LabOptions, type RunningPart, type RunningService } from "../../harness/lifecycle.js";
import {
  BrokerProbe,
  endpoints as endpointsOf,
  getNotification,
  getOrder,
  getOrders,
  getProcessed,
  listOrders,
  orderCounts,
  placeOrder,
  serviceStats,
  setInventoryDelay,
  setStock,
  waitForFinal,
  type OrderRecord,
  type OrderState,
  type PartBEndpoints,
  type PlaceOrderBody,
} from "./client.js";
import { stopInventory, type InventoryOutage } from "./outage.js";

export type PartBService = "order" | "inventory" | "notification";

export interface PartBImplementation {
  readonly part: "partB";
  readonly endpoints: PartBEndpoints;
  /** POST /order, timed; never throws on an HTTP status (0: no answer). */
  placeOrder(body: unknown): Promise<Answer<PlaceOrderBody>>;
  /** Where an order stands (undefined: unknown to the order service). */
  order(id: string): Promise<OrderRecord | undefined>;
  orders(ids: string[]): Promise<Map<string, OrderRecord | undefined>>;
  /** The latest `limit` orders, in one request. */
  recentOrders(limit: number): Promise<OrderRecord[]>;
  /** Orders by state, counted by the order service. */
  orderCounts(): Promise<{ total: number; by_status: Record<OrderState, number> }>;
  /** The order once CONFIRMED or FAILED; an error after the timeout. */
  waitForFinal(id: string, timeoutMs?: number): Promise<OrderRecord>;
  /** What a service declares about itself: its /health answer (counters, stock, broker state). */
  health(service: PartBService): Promise<Answer<Record<string, any>>>;
  /** Its /health body; an error when it does not answer 200 (an experiment cannot go on without it). */
  stats(service: PartBService): Promise<Record<string, any>>;
  /** What inventory stored for a processed OrderPlaced message id (undefined: never processed). */
  processed(messageId: string): Promise<Record<string, unknown> | undefined>;
  /** The UserNotified notification sent for an order (undefined: none). */
  notification(orderId: string): Promise<{ event: { event_id: string; event_type: string } } | undefined>;
  /** A client of its broker: queue depths, messages published or peeked at by hand. Close it after use. */
  broker(): Promise<BrokerProbe>;
  /** The consumer (inventory) down: a graceful stop, or kill -9 with messages in hand. */
  stopConsumer(how?: "graceful" | "kill"): Promise<InventoryOutage>;
  /** The consumer restarted (stopped first if it runs), with this env on top of its own. */
  restartConsumer(env?: Record<string, string>): Promise<RunningService>;
  faults: {
    /** Inventory pauses this long per order (0: none). */
    inventoryDelay(seconds: number): Promise<void>;
    /** Stock of some skus set to these amounts. */
    stock(stock: Record<string, number>): Promise<Record<string, number>>;
  };
}

/** The safeguards a run switched off for the part's services (SAFEGUARDS_OFF in its env). */
export const safeguardsOff = (opts: LabOptions): string[] =>
  (opts.env?.SAFEGUARDS_OFF ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** The lab's own Part B services as the implementation under test. */
export function labImplementation(running: RunningPart, opts: LabOptions = {}): PartBImplementation {
  const endpoints = endpointsOf(running);
  return {
    part: "partB",
    endpoints,
    placeOrder: (body) => placeOrder(endpoints.order, body),
    order: (id) => getOrder(endpoints.order, id),
    orders: (ids) => getOrders(endpoints.order, ids),
    recentOrders: (limit) => listOrders(endpoints.order, limit),
    orderCounts: () => orderCounts(endpoints.order),
    waitForFinal: (id, timeoutMs) => waitForFinal(endpoints.order, id, timeoutMs),
    health: (service) => request("get", `${endpoints[service]}/health`),
    stats: (service) => serviceStats(endpoints[service]),
    processed: (messageId) => getProcessed(endpoints.inventory, messageId),
    notification: (orderId) => getNotification(endpoints.notification, orderId),
    broker: () => BrokerProbe.open(endpoints.amqp, { durable: !safeguardsOff(opts).includes("durability") }),
    stopConsumer: (how = "graceful") => stopInventory(running, opts, how),
    restartConsumer: (env = {}) => restartService(running, "inventory", opts, env),
    faults: {
      inventoryDelay: (seconds) => setInventoryDelay(endpoints.inventory, seconds),
      stock: (stock) => setStock(endpoints.inventory, stock),
    },
  };
}
