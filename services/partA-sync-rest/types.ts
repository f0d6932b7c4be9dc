// The shapes on the wire between the three Part A services.

/** Where an order is in the synchronous chain. */
export type OrderStatus = "PLACED" | "RESERVED" | "CONFIRMED" | "FAILED";

/** What went wrong, in the words the contract uses for the error field. */
export type OrderError = "reserve-failed" | "inventory-timeout" | "notification-failed";

export interface ReserveRequest {
  order_id: string;
  order: Record<string, unknown>;
}

export interface ReserveResponse {
  reservation_id: string;
  order_id: string;
  status: "RESERVED";
  /** true when an earlier request with the same Idempotency-Key already reserved. */
  replayed: boolean;
}

export interface SendRequest {
  order_id: string;
  reservation_id: string;
}

export interface SendResponse {
  notification_id: string;
  order_id: string;
  status: "SENT";
}

/** How long each hop took, and how many attempts it needed: what a student compares. */
export interface HopTimings {
  reserve_ms?: number;
  notify_ms?: number;
  total_ms: number;
  reserve_attempts?: number;
  notify_attempts?: number;
}
