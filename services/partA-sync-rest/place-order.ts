// The story of one synchronous order: reserve, then notify, and answer only when both are done.
// Each hop blocks the caller, so latency and failures of the dependencies add up here.
import type { AxiosInstance } from "axios";
import { callWithPolicy, type CallOutcome, type CallPolicy } from "../common/http.js";
import type { Safeguards } from "../common/safeguards.js";
import type { PartASafeguard } from "./switches.js";
import type { HopTimings, OrderError, OrderStatus, ReserveResponse, SendResponse } from "./types.js";

export interface Dependencies {
  client: AxiosInstance;
  inventoryUrl: string;
  notificationUrl: string;
  reservePolicy: CallPolicy;
  notifyPolicy: CallPolicy;
  /** The whole order, retries included, is answered within this. */
  deadlineMs: number;
  /** Which of the part's safeguards are on (all, unless the lab switched one off). */
  safeguards: Safeguards<PartASafeguard>;
}

export type OrderResult =
  | {
      ok: true;
      order_id: string;
      status: Extract<OrderStatus, "CONFIRMED">;
      reservation_id: string;
      notification_id: string;
      timings: HopTimings;
    }
  | {
      ok: false;
      httpStatus: 502 | 504;
      order_id: string;
      status: Extract<OrderStatus, "FAILED" | "RESERVED">;
      error: OrderError;
      message: string;
      upstream_status?: number;
      timings: HopTimings;
    };

type Failed = Extract<CallOutcome<unknown>, { ok: false }>;

/** The story of one order: reserve, notify, answer. Each step is a function below. */
export async function placeOrder(
  deps: Dependencies,
  orderId: string,
  order: Record<string, unknown>,
): Promise<OrderResult> {
  const clock = startClock(deps);
  const reserve = await reserveStock(deps, clock, orderId, order);
  const reserveTimings = { reserve_ms: reserve.ms, reserve_attempts: reserve.attempts };
  if (!reserve.ok) return reserveFailed(orderId, reserve, { ...reserveTimings, total_ms: clock.totalMs() });

  // The reservation stands even if notifying fails; the answer says so (status RESERVED).
  const send = await notifyUser(deps, clock, orderId, reserve.data.reservation_id);
  const timings = { ...reserveTimings, notify_ms: send.ms, notify_attempts: send.attempts, total_ms: clock.totalMs() };
  if (!send.ok) return notifyFailed(orderId, send, timings);
  return {
    ok: true,
    order_id: orderId,
    status: "CONFIRMED",
    reservation_id: reserve.data.reservation_id,
    notification_id: send.data.notification_id,
    timings,
  };
}

/** When the order started, when it must be answered, and each call's policy under the switches. */
interface OrderClock {
  deadline: number;
  policy: (p: CallPolicy) => CallPolicy;
  totalMs: () => number;
}

function startClock(deps: Dependencies): OrderClock {
  const started = performance.now();
  const on = (name: PartASafeguard) => deps.safeguards.on(name);
  // #region safeguard:call-timeout
  // Every attempt gives up after its timeout, and the whole order at its deadline.
  const deadline = on("call-timeout") ? started + deps.deadlineMs : Infinity;
  const timeoutMs = (p: CallPolicy) => (on("call-timeout") ? p.timeoutMs : 0);
  // #endregion
  return {
    deadline,
    policy: (p) => ({ ...p, timeoutMs: timeoutMs(p), retryTimeouts: !on("no-retry-on-timeout") }),
    totalMs: () => Math.round((performance.now() - started) * 10) / 10,
  };
}

/** 1. Reserve the order's items at inventory. */
function reserveStock(deps: Dependencies, clock: OrderClock, orderId: string, order: Record<string, unknown>) {
  return callWithPolicy<ReserveResponse>(
    deps.client,
    {
      method: "POST",
      url: `${deps.inventoryUrl}/reserve`,
      data: { order_id: orderId, order },
      // #region safeguard:idempotency-key
      // The order id is the Idempotency-Key: inventory answers a retry with the first attempt's
      // reservation, so a retry can never reserve twice.
      headers: deps.safeguards.on("idempotency-key") ? { "Idempotency-Key": orderId } : {},
      // #endregion
    },
    clock.policy(deps.reservePolicy),
    clock.deadline,
  );
}

/** 2. Notify the user of the reservation. */
function notifyUser(deps: Dependencies, clock: OrderClock, orderId: string, reservationId: string) {
  return callWithPolicy<SendResponse>(
    deps.client,
    { method: "POST", url: `${deps.notificationUrl}/send`, data: { order_id: orderId, reservation_id: reservationId } },
    clock.policy(deps.notifyPolicy),
    clock.deadline,
  );
}

function reserveFailed(orderId: string, reserve: Failed, timings: HopTimings): OrderResult {
  const timedOut = reserve.kind === "timeout";
  return {
    ok: false,
    httpStatus: timedOut ? 504 : 502,
    order_id: orderId,
    status: "FAILED",
    error: timedOut ? "inventory-timeout" : "reserve-failed",
    message: `inventory: ${reserve.message} after ${reserve.attempts} attempt(s)`,
    upstream_status: reserve.status,
    timings,
  };
}

function notifyFailed(orderId: string, send: Failed, timings: HopTimings): OrderResult {
  return {
    ok: false,
    httpStatus: 502,
    order_id: orderId,
    status: "RESERVED",
    error: "notification-failed",
    message: `notification: ${send.message} after ${send.attempts} attempt(s)`,
    upstream_status: send.status,
    timings,
  };
}
