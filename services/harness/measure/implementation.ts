// What every part's implementation under test shares: an HTTP answer as the lab sees it (status,
// body, time; never an exception for a status), and the handle the comparison drives each model
// through. Each part's lab/implementation.ts builds its implementation from a RunningPart.
import axios from "axios";

/** One HTTP answer: the status (0: no answer at all — refused, reset, timed out), its body, the client's time. */
export interface Answer<T = unknown> {
  status: number;
  body: T;
  ms: number;
}

const client = axios.create({ validateStatus: () => true });

/** A request that never throws: an HTTP error is a status, a network error is status 0 with the message in `body.error`. */
export async function request<T = any>(
  method: "get" | "post" | "put",
  url: string,
  body?: unknown,
  opts: { timeoutMs?: number; params?: Record<string, unknown> } = {},
): Promise<Answer<T>> {
  const started = performance.now();
  const ms = () => Math.round((performance.now() - started) * 100) / 100;
  try {
    const res = await client.request({
      method,
      url,
      data: body,
      params: opts.params,
      timeout: opts.timeoutMs ?? 30_000,
    });
    return { status: res.status, body: res.data as T, ms: ms() };
  } catch (err) {
    return { status: 0, body: { error: (err as Error).message } as T, ms: ms() };
  }
}

/** What happened to one order, from the user's side. */
export type Outcome = "confirmed" | "failed" | "no answer";

/** One order placed through a model of the comparison. */
export interface ModelPlaced {
  http_status: number;
  /** The service took the order (A: 200 confirmed; B: 202; C: 200 produced). */
  accepted: boolean;
  response_ms: number;
  /** Its id, to learn its fate later (B and C). */
  id?: string;
  /** Epoch ms when it was sent. */
  sentAt: number;
  /** Known at once (A: the answer is the outcome). */
  outcome?: Outcome;
  confirmed_ms?: number;
}

/** One model's handle on its running part, for the comparison: place an order, learn its fate, break inventory. */
export interface ComparisonModel {
  /** Before a run of `orders` orders (B: enough stock for them). */
  prepare(orders: number): Promise<void>;
  /** `key` is unique within the run (condition and sequence number). */
  place(seq: number, key: string): Promise<ModelPlaced>;
  /** For accepted orders without an outcome yet: final outcomes and confirmation times (epoch ms) found so far. */
  answers(ids: string[]): Promise<Map<string, { outcome: Outcome; at?: number }>>;
  /** Inventory takes this long per order (0: back to normal). */
  setDelay(seconds: number): Promise<void>;
  stopInventory(): Promise<void>;
  startInventory(): Promise<void>;
  close(): Promise<void>;
}
