// The story of one synchronous order: reserve, then notify, and answer only when both are done.
// Each hop blocks the caller, so latency and failures of the dependencies add up here.
import type { AxiosInstance } from "axios";
import { callWithPolicy, type CallPolicy } from "../common/http.js";
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

export async function placeOrder(
  deps: Dependencies,
  orderId: string,
  order: Record<string, unknown>,
): Promise<OrderResult> {
  const started = performance.now();
  const total = () => Math.round((performance.now() - started) * 10) / 10;
  const on = (name: PartASafeguard) => deps.safeguards.on(name);
  // #region safeguard:call-timeout
  // Every attempt gives up after its timeout, and the whole order at its deadline.
  const deadline = on("call-timeout") ? started + deps.deadlineMs : Infinity;
  const timeoutMs = (p: CallPolicy) => (on("call-timeout") ? p.timeoutMs : 0);
  // #endregion
  const policy = (p: CallPolicy): CallPolicy => ({
    ...p,
    timeoutMs: timeoutMs(p),
    retryTimeouts: !on("no-retry-on-timeout"),
  });

  // 1. Reserve.
  const reserve = await callWithPolicy<ReserveResponse>(
    deps.client,
    {
      method: "POST",
      url: `${deps.inventoryUrl}/reserve`,
      data: { order_id: orderId, order },
      // #region safeguard:idempotency-key
      // The order id is the Idempotency-Key: inventory answers a retry with the first attempt's
      // reservation, so a retry can never reserve twice.
      headers: on("idempotency-key") ? { "Idempotency-Key": orderId } : {},
      // #endregion
    },
    policy(deps.reservePolicy),
    deadline,
  );
  const reserveTimings = { reserve_ms: reserve.ms, reserve_attempts: reserve.attempts };
  if (!reserve.ok) {
    const timedOut = reserve.kind === "timeout";
    return {
      ok: false,
      httpStatus: timedOut ? 504 : 502,
      order_id: orderId,
      status: "FAILED",
      error: timedOut ? "inventory-timeout" : "reserve-failed",
      message: `inventory: ${reserve.message} after ${reserve.attempts} attempt(s)`,
      upstream_status: reserve.status,
      timings: { ...reserveTimings, total_ms: total() },
    };
  }

  // 2. Notify. The reservation stands even if this fails; the answer says so (status RESERVED).
  const send = await callWithPolicy<SendResponse>(
    deps.client,
    {
      method: "POST",
      url: `${deps.notificationUrl}/send`,
      data: { order_id: orderId, reservation_id: reserve.data.reservation_id },
    },
    policy(deps.notifyPolicy),
    deadline,
  );
  const timings = { ...reserveTimings, notify_ms: send.ms, notify_attempts: send.attempts, total_ms: total() };
  if (!send.ok) {
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
  return {
    ok: true,
    order_id: orderId,
    status: "CONFIRMED",
    reservation_id: reserve.data.reservation_id,
    notification_id: send.data.notification_id,
    timings,
  };
}
