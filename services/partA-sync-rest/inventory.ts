// Part A InventoryService (:8081). Reserves; a delay and a failure rate can be injected to
// show how a slow or failing dependency spreads through a synchronous chain, and a rate of
// answers lost after the reservation is made (the work is done, the caller sees a 500 and retries).
import { parseArgs } from "node:util";
import { randomUUID } from "node:crypto";
import { Type, loadConfig, serviceBase } from "../common/config.js";
import { seededRandom } from "../common/random.js";
import { createService, runService } from "../common/server.js";
import type { ReserveResponse } from "./types.js";

const config = loadConfig(
  Type.Object({
    ...serviceBase,
    PORT: Type.Integer({ default: 8081 }),
    DELAY_TIME: Type.Number({ default: 0, minimum: 0, maximum: 60 }),
    FAIL_RATE: Type.Number({ default: 0, minimum: 0, maximum: 1 }),
    FAIL_SEED: Type.Integer({ default: 42 }),
    FAIL_AFTER_RESERVE_RATE: Type.Number({ default: 0, minimum: 0, maximum: 1 }),
    /** Idempotency-Keys remembered (the latest); a retry comes within seconds of its first try. */
    IDEMPOTENCY_KEYS: Type.Integer({ default: 100_000, minimum: 1 }),
  }),
);
// The seed starts inventory with `--delay-time T`; the flag wins over the env.
const { values: flags } = parseArgs({ options: { "delay-time": { type: "string" } }, strict: false });
const startDelay = flags["delay-time"] === undefined ? config.DELAY_TIME : Number(flags["delay-time"]);
if (!Number.isFinite(startDelay) || startDelay < 0 || startDelay > 60) {
  console.error(`--delay-time must be a number of seconds in 0..60, got ${flags["delay-time"]}`);
  process.exit(2);
}

const injected = {
  delaySeconds: startDelay,
  failRate: config.FAIL_RATE,
  failAfterReserveRate: config.FAIL_AFTER_RESERVE_RATE,
};
const draw = seededRandom(config.FAIL_SEED);
// Idempotency-Key → the reservation it made (or is making), so a retry gets the same answer.
const reservations = new Map<string, Promise<ReserveResponse>>();
// Reservations per order: the fault campaign checks that no order was ever reserved twice.
const reservationsPerOrder = new Map<string, number>();
// Only the latest keys are kept, so a lab left running does not grow without end. A Map
// iterates in insertion order: the first key is the oldest.
const remember = <V>(map: Map<string, V>, key: string, value: V) => {
  map.set(key, value);
  if (map.size > config.IDEMPOTENCY_KEYS) map.delete(map.keys().next().value!);
};
const stats = {
  requests: 0,
  injected_failures: 0,
  failed_after_reserve: 0,
  reservations: 0,
  replays: 0,
  orders_reserved: 0,
  orders_reserved_twice: 0,
};

const app = createService({
  name: "inventory",
  logLevel: config.LOG_LEVEL,
  bodyLimitBytes: config.BODY_LIMIT_BYTES,
  health: () => ({
    ...stats,
    idempotency_keys: reservations.size,
    idempotency_keys_kept: config.IDEMPOTENCY_KEYS,
    delay_time_s: injected.delaySeconds,
    fail_rate: injected.failRate,
    fail_after_reserve_rate: injected.failAfterReserveRate,
    fail_seed: config.FAIL_SEED,
  }),
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

app.post(
  "/reserve",
  {
    schema: {
      body: Type.Object({ order_id: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: true }),
      headers: Type.Object({ "idempotency-key": Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }),
    },
  },
  async (req, reply) => {
    stats.requests++;
    if (injected.delaySeconds > 0) await sleep(injected.delaySeconds * 1000);
    if (injected.failRate > 0 && draw() < injected.failRate) {
      stats.injected_failures++;
      req.log.warn({ order_id: req.body.order_id }, "inventory failure injected");
      return reply.code(500).send({ error: "inventory failure injected" });
    }
    const key = req.headers["idempotency-key"] ?? randomUUID();
    const earlier = reservations.get(key);
    if (earlier) {
      stats.replays++;
      req.log.info(
        { order_id: req.body.order_id, key },
        "reserve replayed: same Idempotency-Key, no second reservation",
      );
      return { ...(await earlier), replayed: true };
    }
    const reservation = Promise.resolve<ReserveResponse>({
      reservation_id: `res-${randomUUID()}`,
      order_id: req.body.order_id,
      status: "RESERVED",
      replayed: false,
    });
    remember(reservations, key, reservation);
    stats.reservations++;
    const times = (reservationsPerOrder.get(req.body.order_id) ?? 0) + 1;
    remember(reservationsPerOrder, req.body.order_id, times);
    if (times === 1) stats.orders_reserved++;
    if (times === 2) stats.orders_reserved_twice++;
    // The reservation is made; only its answer is lost. A retry with the same Idempotency-Key
    // gets it (replayed above); a retry without one reserves again.
    if (injected.failAfterReserveRate > 0 && draw() < injected.failAfterReserveRate) {
      stats.failed_after_reserve++;
      req.log.warn({ order_id: req.body.order_id }, "inventory failure injected after the reservation");
      return reply.code(500).send({ error: "inventory failure injected after the reservation" });
    }
    return reservation;
  },
);

const inRange = (name: string, min: number, max: number) =>
  Type.Object({ [name]: Type.Number({ minimum: min, maximum: max }) }, { required: [name] });

app.get("/set-delay-time", { schema: { querystring: inRange("delay-time", 0, 60) } }, async (req) => {
  injected.delaySeconds = (req.query as Record<string, number>)["delay-time"];
  req.log.info({ delay_time_s: injected.delaySeconds }, "delay set");
  return { "delay-time": injected.delaySeconds };
});

app.get("/set-fail-rate", { schema: { querystring: inRange("fail-rate", 0, 1) } }, async (req) => {
  injected.failRate = (req.query as Record<string, number>)["fail-rate"];
  req.log.info({ fail_rate: injected.failRate }, "fail rate set");
  return { "fail-rate": injected.failRate };
});

app.get(
  "/set-fail-after-reserve-rate",
  { schema: { querystring: inRange("fail-after-reserve-rate", 0, 1) } },
  async (req) => {
    injected.failAfterReserveRate = (req.query as Record<string, number>)["fail-after-reserve-rate"];
    req.log.info({ fail_after_reserve_rate: injected.failAfterReserveRate }, "fail-after-reserve rate set");
    return { "fail-after-reserve-rate": injected.failAfterReserveRate };
  },
);

void runService(app, config.PORT, config.HOST);
