// The target file's schema: what a YAML target may say — where a team's services answer, how to
// place an order, its fault switches, how to stop and start a service, its brokers, metrics and
// replay — and the loaded Target. `docs/06-your-implementation.md` explains how to write one;
// `lab.yml` is the lab's own services.
import { Type, FormatRegistry, type Static } from "@sinclair/typebox";

/** http(s) URLs, where a placeholder such as {seconds} may stand for a number. */
FormatRegistry.Set("http-url", (v) => urlWith(v, ["http:", "https:"]));
FormatRegistry.Set("amqp-url", (v) => urlWith(v, ["amqp:", "amqps:"]));
FormatRegistry.Set("host-ports", (v) => /^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/.test(v));

function urlWith(value: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(value.replace(/\{[a-z_]+\}/g, "1")).protocol);
  } catch {
    return false;
  }
}

const closed = { additionalProperties: false } as const;
const HttpUrl = (description: string) => Type.String({ format: "http-url", description });
const Name = (description: string) => Type.String({ minLength: 1, description });
const UrlPath = (description: string) => Type.String({ pattern: "^/", description });

/** An HTTP call the lab makes on the implementation's behalf (a fault switch, a replay trigger). */
const HttpCall = (description: string) =>
  Type.Object(
    {
      method: Type.Optional(
        Type.Union([Type.Literal("GET"), Type.Literal("POST"), Type.Literal("PUT")], { description: "default GET" }),
      ),
      url: HttpUrl("the URL, with its placeholders"),
      body: Type.Optional(Type.Unknown({ description: "a JSON body; string values may hold placeholders" })),
    },
    { ...closed, description },
  );

/** How to stop, kill and start one of the implementation's services (its owner's commands). */
const Control = Type.Object(
  {
    stop: Type.Optional(Name("a shell command that stops the service gracefully")),
    kill: Type.Optional(Name("a shell command that kills it (a crash: no clean-up)")),
    start: Type.Optional(Name("a shell command that starts it again")),
    pid_file: Type.Optional(
      Name("a file holding its pid: stop sends SIGTERM, kill SIGKILL, to that one process (not its group)"),
    ),
  },
  { ...closed, description: "how to stop, kill and start a service" },
);

const PlaceOrder = Type.Object(
  {
    path: Type.Optional(UrlPath("the path on the order service (default /order; Part C: /produce)")),
    body: Type.Optional(Type.Unknown({ description: "the JSON body of one order" })),
  },
  { ...closed, description: "how to place one order" },
);

const healthPath = Type.Optional(UrlPath("the path every service answers 200 on once ready (default /health)"));

const PartA = Type.Object(
  {
    services: Type.Object(
      {
        order: HttpUrl("the order service's URL"),
        inventory: Type.Optional(HttpUrl("the inventory service's URL")),
        notification: Type.Optional(HttpUrl("the notification service's URL")),
      },
      { ...closed, description: "the service URLs" },
    ),
    health_path: healthPath,
    place_order: Type.Optional(PlaceOrder),
    faults: Type.Optional(
      Type.Object(
        {
          inventory_delay: Type.Optional(HttpCall("inventory answers {seconds} late")),
          inventory_fail_rate: Type.Optional(HttpCall("inventory fails a share {rate} (0–1) of reserves")),
          inventory_fail_after_reserve_rate: Type.Optional(
            HttpCall("inventory reserves, then answers a share {rate} (0–1) of new reservations with a 500"),
          ),
        },
        { ...closed, description: "how to inject inventory's faults" },
      ),
    ),
    declares: Type.Optional(
      Type.Object(
        {
          policy: Type.Optional(
            Type.Boolean({
              description: "the order service's /health publishes its call policy (timeouts, retries, deadline)",
            }),
          ),
          stats: Type.Optional(
            Type.Boolean({ description: "its /health bodies carry the lab's counters (reservations, in flight…)" }),
          ),
        },
        { ...closed, description: "what its services' /health declare beyond the contract's 200" },
      ),
    ),
    control: Type.Optional(
      Type.Object(
        { order: Type.Optional(Control), inventory: Type.Optional(Control), notification: Type.Optional(Control) },
        { ...closed, description: "how to stop and start each service" },
      ),
    ),
  },
  { ...closed, description: "Part A, synchronous REST" },
);

const PartB = Type.Object(
  {
    services: Type.Object(
      { order: HttpUrl("the order service's URL") },
      { ...closed, description: "the service URLs" },
    ),
    health_path: healthPath,
    place_order: Type.Optional(PlaceOrder),
    order_status: Type.Optional(
      Type.String({
        pattern: "^/.*\\{id\\}",
        description: "GET this path on the order service for an order's state, {id} its order_id (e.g. /orders/{id})",
      }),
    ),
    broker: Type.Optional(
      Type.Object(
        {
          amqp_url: Type.String({
            format: "amqp-url",
            description: "the broker's AMQP URL (amqp://, host and port; its user and password, if any, in the URL)",
          }),
          exchange: Name("the exchange OrderPlaced is published to"),
          routing_key: Name("OrderPlaced's routing key"),
          queue: Type.Optional(Name("the queue inventory consumes (its depth is watched, never purged)")),
          dlq: Type.Optional(Name("the dead-letter queue")),
          inventory_exchange: Type.Optional(Name("the exchange InventoryReserved/InventoryFailed go to")),
        },
        { ...closed, description: "its RabbitMQ" },
      ),
    ),
    control: Type.Optional(
      Type.Object(
        { order: Type.Optional(Control), inventory: Type.Optional(Control), notification: Type.Optional(Control) },
        { ...closed, description: "how to stop and start each service" },
      ),
    ),
  },
  { ...closed, description: "Part B, messaging over RabbitMQ" },
);

const MetricFields = Type.Object(
  {
    total_orders: Type.Optional(Name("the field counting orders")),
    total_reservations: Type.Optional(Name("reserved + failed")),
    failed_reservations: Type.Optional(Name("failed reservations")),
    failure_rate: Type.Optional(Name("failed / total reservations")),
    orders_per_minute: Type.Optional(Name("a map minute → count")),
  },
  { ...closed, description: "the metrics' field names, where they differ from the contract's" },
);

const PartC = Type.Object(
  {
    services: Type.Object(
      {
        producer: HttpUrl("the producer's URL"),
        analytics: Type.Optional(HttpUrl("the analytics service's URL")),
      },
      { ...closed, description: "the service URLs" },
    ),
    health_path: healthPath,
    place_order: Type.Optional(PlaceOrder),
    load_test: Type.Optional(HttpCall("produce {count} orders at once")),
    broker: Type.Optional(
      Type.Object(
        {
          bootstrap: Type.String({ format: "host-ports", description: "host:port[,host:port…]" }),
          topics: Type.Object(
            { orders: Name("the OrderPlaced topic"), inventory_events: Name("the inventory events topic") },
            { ...closed, description: "topic names" },
          ),
          groups: Type.Optional(
            Type.Object(
              {
                inventory: Type.Optional(Name("inventory's consumer group")),
                analytics: Type.Optional(Name("analytics' consumer group")),
              },
              { ...closed, description: "consumer group names" },
            ),
          ),
        },
        { ...closed, description: "its Kafka" },
      ),
    ),
    metrics: Type.Optional(
      Type.Object(
        { url: HttpUrl("GET this for the metrics"), fields: Type.Optional(MetricFields) },
        { ...closed, description: "its metrics" },
      ),
    ),
    replay: Type.Optional(HttpCall("recompute the metrics from the beginning of the log")),
    control: Type.Optional(
      Type.Object(
        { producer: Type.Optional(Control), inventory: Type.Optional(Control), analytics: Type.Optional(Control) },
        { ...closed, description: "how to stop and start each service" },
      ),
    ),
  },
  { ...closed, description: "Part C, streaming over Kafka" },
);

export const TargetSchema = Type.Object(
  {
    name: Name("what the reports call this implementation"),
    version: Type.Optional(Type.String({ description: "its version, shown in the reports" })),
    commit: Type.Optional(Type.String({ description: "its commit, shown in the reports" })),
    description: Type.Optional(Type.String()),
    managed_by: Type.Optional(
      Type.Union([Type.Literal("owner"), Type.Literal("lab")], {
        description: "owner (default): its owner starts it; lab: the lab starts its own services, as without a target",
      }),
    ),
    partA: Type.Optional(PartA),
    partB: Type.Optional(PartB),
    partC: Type.Optional(PartC),
  },
  { ...closed, description: "the target" },
);

export type TargetFile = Static<typeof TargetSchema>;
export type Control = Static<typeof Control>;
export type HttpCall = Static<ReturnType<typeof HttpCall>>;

/** A loaded target: the file's fields, where it came from, and whether it is the lab's own services. */
export interface Target extends TargetFile {
  /** The file it was read from (absolute). Commands run in its folder. */
  file: string;
  /** The lab starts and stops its own services for this target, as it does without one. */
  lab: boolean;
}
