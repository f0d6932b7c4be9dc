// Part A OrderService (:8080). POST /order blocks on inventory, then on notification.
import { Type, loadConfig, serviceBase } from "../common/config.js";
import { createHttpClient } from "../common/http.js";
import { newOrderId } from "../common/ids.js";
import { safeguardSwitches, safeguardsSetting } from "../common/safeguards.js";
import { createService, runService } from "../common/server.js";
import { placeOrder, type Dependencies } from "./place-order.js";
import { RESOLVE_PATTERN, outgoingAgent, parseResolve } from "./connections.js";
import { PARTA_SAFEGUARDS } from "./switches.js";

const config = loadConfig(
  Type.Object({
    ...serviceBase,
    PORT: Type.Integer({ default: 8080 }),
    INVENTORY_URL: Type.String({ default: "http://127.0.0.1:8081" }),
    NOTIFICATION_URL: Type.String({ default: "http://127.0.0.1:8082" }),
    // Timeouts and retries, declared here at the edge rather than inside the story.
    INVENTORY_TIMEOUT_MS: Type.Integer({ default: 3000, minimum: 1 }),
    NOTIFICATION_TIMEOUT_MS: Type.Integer({ default: 3000, minimum: 1 }),
    RETRIES: Type.Integer({ default: 2, minimum: 0, maximum: 10 }),
    BACKOFF_BASE_MS: Type.Integer({ default: 500, minimum: 0 }),
    ORDER_DEADLINE_MS: Type.Integer({ default: 6000, minimum: 1 }),
    // Past this many orders in progress, new ones are refused at once (503) instead of piling
    // up behind a slow dependency until memory or sockets run out.
    MAX_IN_FLIGHT: Type.Integer({ default: 256, minimum: 1 }),
    // How calls connect. KEEP_ALIVE=false opens a new TCP connection for every call (as the
    // original lab's services did); RESOLVE gives names of the lab its own addresses, tried in
    // order, each for at most CONNECT_ATTEMPT_TIMEOUT_MS (Node's autoSelectFamilyAttemptTimeout).
    KEEP_ALIVE: Type.Boolean({ default: true }),
    RESOLVE: Type.String({ default: "", pattern: RESOLVE_PATTERN }),
    CONNECT_ATTEMPT_TIMEOUT_MS: Type.Integer({ default: 250, minimum: 10 }),
    // All of Part A's safeguards are on unless the lab names one here (it warns at start).
    ...safeguardsSetting(PARTA_SAFEGUARDS),
  }),
);
const safeguards = safeguardSwitches(PARTA_SAFEGUARDS, "order", config.SAFEGUARDS_OFF);

const connections = {
  keepAlive: config.KEEP_ALIVE,
  resolve: parseResolve(config.RESOLVE),
  connectAttemptTimeoutMs: config.CONNECT_ATTEMPT_TIMEOUT_MS,
};
const agent = outgoingAgent(connections);

const deps: Dependencies = {
  client: createHttpClient(agent),
  inventoryUrl: config.INVENTORY_URL,
  notificationUrl: config.NOTIFICATION_URL,
  reservePolicy: {
    timeoutMs: config.INVENTORY_TIMEOUT_MS,
    retries: config.RETRIES,
    backoffBaseMs: config.BACKOFF_BASE_MS,
  },
  notifyPolicy: {
    timeoutMs: config.NOTIFICATION_TIMEOUT_MS,
    retries: config.RETRIES,
    backoffBaseMs: config.BACKOFF_BASE_MS,
  },
  deadlineMs: config.ORDER_DEADLINE_MS,
  safeguards,
};

const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
const stats = { orders: 0, confirmed: 0, failed: 0, refused: 0, in_flight: 0, max_in_flight_seen: 0 };

const app = createService({
  name: "order",
  logLevel: config.LOG_LEVEL,
  bodyLimitBytes: config.BODY_LIMIT_BYTES,
  health: () => ({
    ...stats,
    connections_opened: agent.opened,
    connect_ms_total: Math.round(agent.connectMs * 100) / 100,
    // What the orders in flight cost (the in-flight limit's experiment reads it).
    memory_mb: { rss: mb(process.memoryUsage.rss()), heap_used: mb(process.memoryUsage().heapUsed) },
    // The policy as configured; a safeguard switched off (below) is not applied.
    policy: {
      reserve: deps.reservePolicy,
      notify: deps.notifyPolicy,
      deadline_ms: deps.deadlineMs,
      max_in_flight: config.MAX_IN_FLIGHT,
      connections: {
        keep_alive: connections.keepAlive,
        resolve: connections.resolve,
        connect_attempt_timeout_ms: connections.connectAttemptTimeoutMs,
      },
    },
    safeguards: safeguards.health(),
  }),
});

// Any JSON object is an order (the seed sends {"order": "test #1"}).
app.post("/order", { schema: { body: Type.Object({}, { additionalProperties: true }) } }, async (req, reply) => {
  // #region safeguard:in-flight-limit
  if (safeguards.on("in-flight-limit") && stats.in_flight >= config.MAX_IN_FLIGHT) {
    stats.refused++;
    return reply
      .code(503)
      .header("retry-after", "1")
      .send({ error: "overloaded", message: `${stats.in_flight} orders already in progress; try again shortly` });
  }
  // #endregion
  const orderId = newOrderId();
  stats.orders++;
  stats.in_flight++;
  stats.max_in_flight_seen = Math.max(stats.max_in_flight_seen, stats.in_flight);
  try {
    const result = await placeOrder(deps, orderId, req.body);
    if (result.ok) {
      stats.confirmed++;
      req.log.info({ order_id: orderId, timings: result.timings }, "order confirmed");
      const { ok: _ok, ...body } = result;
      return reply.code(200).send(body);
    }
    stats.failed++;
    req.log.warn(
      { order_id: orderId, error: result.error, message: result.message, timings: result.timings },
      "order failed",
    );
    const { ok: _ok, httpStatus, ...body } = result;
    return reply.code(httpStatus).send(body);
  } finally {
    stats.in_flight--;
  }
});

void runService(app, config.PORT, config.HOST);
