// Part B's implementation under test, as one typed handle: its endpoints; placing an order and
// learning its fate; stopping, killing and starting its consumer (inventory); its faults; and
// what its services declare about themselves (/health). The lab's own services are the one
// implementation today, built from a RunningPart; experiments, the comparison, the benchmark
// and the fault scenarios can take another one through the same interface.
import { request, type Answer } from "../../harness/implementation.js";
import { restartService, type LabOptions, type RunningPart, type RunningService } from "../../harness/lifecycle.js";
import { getOrder, getOrders, endpoints as endpointsOf, setInventoryDelay, setStock, type OrderRecord, type PartBEndpoints } from "./client.js";
import { stopInventory, type InventoryOutage } from "./outage.js";

export type PartBService = "order" | "inventory" | "notification";

/** POST /order's body: 202 {order_id, status: PLACED, published}, or 400/503 {error, message}. */
export interface PlaceOrderBody {
  order_id?: string;
  status?: string;
  published?: boolean;
  error?: string;
  message?: string;
}

export interface PartBImplementation {
  readonly part: "partB";
  readonly endpoints: PartBEndpoints;
  /** POST /order, timed; never throws on an HTTP status (0: no answer). */
  placeOrder(body: unknown): Promise<Answer<PlaceOrderBody>>;
  /** Where an order stands (undefined: unknown to the order service). */
  order(id: string): Promise<OrderRecord | undefined>;
  orders(ids: string[]): Promise<Map<string, OrderRecord | undefined>>;
  /** What a service declares about itself: its /health body (counters, stock, broker state). */
  health(service: PartBService): Promise<Answer<Record<string, any>>>;
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

/** The lab's own Part B services as the implementation under test. */
export function labImplementation(running: RunningPart, opts: LabOptions = {}): PartBImplementation {
  const endpoints = endpointsOf(running);
  return {
    part: "partB",
    endpoints,
    placeOrder: (body) => request<PlaceOrderBody>("post", `${endpoints.order}/order`, body),
    order: (id) => getOrder(endpoints.order, id),
    orders: (ids) => getOrders(endpoints.order, ids),
    health: (service) => request("get", `${endpoints[service]}/health`),
    stopConsumer: (how = "graceful") => stopInventory(running, opts, how),
    restartConsumer: (env = {}) => restartService(running, "inventory", opts, env),
    faults: {
      inventoryDelay: (seconds) => setInventoryDelay(endpoints.inventory, seconds),
      stock: (stock) => setStock(endpoints.inventory, stock),
    },
  };
}
