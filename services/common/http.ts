// Calling another service: axios with a per-call timeout and bounded retries with
// exponential backoff and jitter (axios-retry). The policy is declared by the caller, at the edge.
import http from "node:http";
import axios, { type AxiosError, type AxiosInstance, type AxiosRequestConfig } from "axios";
import axiosRetry, { exponentialDelay, isNetworkError } from "axios-retry";

export interface CallPolicy {
  /** Each attempt's timeout; 0: none (the caller waits as long as the dependency takes). */
  timeoutMs: number;
  /** Retries after the first attempt (the seed used 2). */
  retries: number;
  /** First backoff; the n-th retry waits backoffBaseMs × 2^(n-1), plus up to 20 % jitter. */
  backoffBaseMs: number;
  /** Retry an attempt that timed out too (off unless a lab switches Part A's no-retry-on-timeout off). */
  retryTimeouts?: boolean;
}

export type CallOutcome<T> =
  | { ok: true; status: number; data: T; attempts: number; ms: number }
  | {
      ok: false;
      kind: "timeout" | "http-error" | "unreachable";
      status?: number;
      data?: unknown;
      message: string;
      attempts: number;
      ms: number;
    };

/**
 * One keep-alive client per service; a new TCP connection per hop costs a handshake on every call
 * (and, where the first address of a name does not answer, a connect timeout). A caller may pass
 * its own agent (Part A's order service does, to make that a switch of its config).
 */
export function createHttpClient(
  agent: http.Agent = new http.Agent({ keepAlive: true, noDelay: true }),
): AxiosInstance {
  const client = axios.create({
    // No Nagle delay (noDelay): a small request is sent at once.
    httpAgent: agent,
    maxRedirects: 0, // native http transport; follow-redirects costs time and services never redirect
    // Services call each other directly; without this axios reads the proxy variables of the
    // environment on every request (≈ 8 % of a call's CPU).
    proxy: false,
  });
  axiosRetry(client, {
    retries: 0, // overridden per call
    // Retry what another attempt can fix: a 5xx or a refused/reset connection.
    retryCondition: (err) => {
      // #region safeguard:no-retry-on-timeout
      // A timeout is not retried: the dependency is slow, and asking again only adds load to it.
      // (The deadline, ERR_CANCELED, is never retried: the order's time is up.)
      if (isTimeout(err)) return err.code !== "ERR_CANCELED" && (err.config as RetryableConfig)?.retryTimeouts === true;
      // #endregion
      return isNetworkError(err) || (err.response?.status ?? 0) >= 500;
    },
    retryDelay: (n, err) => exponentialDelay(n, err, (err.config as RetryableConfig)?.backoffBaseMs / 2),
    shouldResetTimeout: true,
  });
  return client;
}

interface RetryableConfig extends AxiosRequestConfig {
  backoffBaseMs: number;
  retryTimeouts?: boolean;
}

const isTimeout = (err: unknown): boolean =>
  axios.isAxiosError(err) && (err.code === "ECONNABORTED" || err.code === "ETIMEDOUT" || err.code === "ERR_CANCELED");

/**
 * One call under a policy. `deadline` (a performance.now() instant) bounds the call and all its
 * retries: whatever the policy says, the caller is answered by then.
 */
export async function callWithPolicy<T>(
  client: AxiosInstance,
  request: AxiosRequestConfig,
  policy: CallPolicy,
  deadline = Infinity,
): Promise<CallOutcome<T>> {
  let attempts = 1;
  const started = performance.now();
  const budget = deadline - started;
  if (budget <= 0)
    return { ok: false, kind: "timeout", message: "no time left before the deadline", attempts: 0, ms: 0 };
  const config: RetryableConfig = {
    ...request,
    timeout: policy.timeoutMs,
    signal: Number.isFinite(budget) ? AbortSignal.timeout(Math.ceil(budget)) : undefined,
    backoffBaseMs: policy.backoffBaseMs,
    retryTimeouts: policy.retryTimeouts,
    "axios-retry": { retries: policy.retries, onRetry: () => void attempts++ },
  };
  const ms = () => Math.round((performance.now() - started) * 10) / 10;
  try {
    const res = await client.request<T>(config);
    return { ok: true, status: res.status, data: res.data, attempts, ms: ms() };
  } catch (err) {
    if (!axios.isAxiosError(err)) throw err;
    return failureOf(err, policy, attempts, ms);
  }
}

/** Why a call failed, in the caller's terms: the dependency answered an error, was too slow, or was not there. */
function failureOf(err: AxiosError, policy: CallPolicy, attempts: number, ms: () => number): CallOutcome<never> {
  if (err.response) {
    return {
      ok: false,
      kind: "http-error",
      status: err.response.status,
      data: err.response.data,
      message: `HTTP ${err.response.status}`,
      attempts,
      ms: ms(),
    };
  }
  if (err.code === "ERR_CANCELED")
    return { ok: false, kind: "timeout", message: `deadline reached after ${ms()} ms`, attempts, ms: ms() };
  if (isTimeout(err))
    return { ok: false, kind: "timeout", message: `no answer within ${policy.timeoutMs} ms`, attempts, ms: ms() };
  return { ok: false, kind: "unreachable", message: err.code ?? err.message, attempts, ms: ms() };
}
