// Part A's connections lesson, judged: each hop's wait by mode, and the checks of what each way
// of connecting costs against what its set-up predicts; the table and the plot.
import type { Check } from "../../harness/judge/check.js";
import { specBase, type TopLevelSpec } from "../../harness/show/plots.js";
import { summarize } from "../../harness/measure/stats.js";
import type { Row } from "../../common/table.js";
import { CONNECTION_MODES, type ConnectionMode } from "./connection-modes.js";

export const HOPS = ["client → order", "order → inventory", "order → notification"] as const;
export type Hop = (typeof HOPS)[number];

export interface ConnectionRow {
  mode: ConnectionMode;
  request: number;
  http_status: number;
  latency_ms: number;
  /** The client's wait outside the order service: its connection and the request's round trip. */
  client_ms: number;
  reserve_ms: number;
  notify_ms: number;
  total_ms: number;
}

export interface HopSummary {
  mode: ConnectionMode;
  hop: Hop;
  min_ms: number;
  median_ms: number;
  p95_ms: number;
  max_ms: number;
}

/** What setting up one TCP connection took on average (µs), on the client's hop and on the order service's two. */
export type ConnectUs = Partial<Record<ConnectionMode, { client: number; order_service: number }>>;

const hopValue = (r: ConnectionRow, hop: Hop) =>
  hop === "client → order" ? r.client_ms : hop === "order → inventory" ? r.reserve_ms : r.notify_ms;

export function summarizeHops(rows: ConnectionRow[]): HopSummary[] {
  const modes = CONNECTION_MODES.filter((m) => rows.some((r) => r.mode === m));
  return modes.flatMap((mode) =>
    HOPS.map((hop) => {
      const s = summarize(rows.filter((r) => r.mode === mode).map((r) => hopValue(r, hop)));
      return { mode, hop, min_ms: s.min, median_ms: s.median, p95_ms: s.p95, max_ms: s.max };
    }),
  );
}

/** The checker: what each way of connecting costs per hop, against what the set-up predicts. */
export function checkConnections(
  rows: ConnectionRow[],
  hops: HopSummary[],
  stallMs: number,
  perOrder: Partial<Record<ConnectionMode, number>>,
  connectUs: ConnectUs = {},
): Check[] {
  const checks: Check[] = [];
  const add = (mode: ConnectionMode, check: string, passed: boolean, observed: string) =>
    checks.push({ scenario: mode, check, passed, observed });
  const has = (mode: ConnectionMode) => rows.some((r) => r.mode === mode);
  for (const mode of CONNECTION_MODES.filter(has)) {
    const mine = rows.filter((r) => r.mode === mode);
    add(
      mode,
      "every order confirmed (200)",
      mine.every((r) => r.http_status === 200),
      `${mine.filter((r) => r.http_status === 200).length}/${mine.length}`,
    );
  }
  if (has("keep_alive") && perOrder.keep_alive !== undefined) {
    add(
      "keep_alive",
      "the order service reuses its connections (no new one per order)",
      perOrder.keep_alive < 0.1,
      `${perOrder.keep_alive} opened per order`,
    );
  }
  if (has("new_connection") && perOrder.new_connection !== undefined) {
    add(
      "new_connection",
      "the order service opens 2 connections per order",
      perOrder.new_connection === 2,
      `${perOrder.new_connection} opened per order`,
    );
  }
  if (has("keep_alive") && has("new_connection")) {
    // What a new connection costs is its set-up, measured where it happens: each agent times a
    // socket from its creation to its `connect`. Keep-alive pays it once, a new connection on every
    // call. The hop's whole time (the table) is not judged: the set-up is a fraction of a ms, and a
    // busy machine's noise is several — one busy run read the fastest new-connection order 0.1 ms
    // quicker than the fastest keep-alive one.
    const setUp = connectUs.new_connection;
    if (setUp) {
      add(
        "new_connection",
        "every call sets up a TCP connection keep-alive does not: its set-up time, client → order and order → its dependencies",
        setUp.client > 0 && setUp.order_service > 0 && (perOrder.new_connection ?? 0) >= 2,
        `${setUp.client} µs and ${setUp.order_service} µs per connection`,
      );
    }
  }
  return [...checks, ...checkFirstAddress(rows, hops, stallMs)];
}

/** The two first addresses: one that does not answer costs the connect attempt on every hop, one that refuses nothing. */
function checkFirstAddress(rows: ConnectionRow[], hops: HopSummary[], stallMs: number): Check[] {
  const checks: Check[] = [];
  const add = (mode: ConnectionMode, check: string, passed: boolean, observed: string) =>
    checks.push({ scenario: mode, check, passed, observed });
  const median = (mode: ConnectionMode, hop: Hop) =>
    hops.find((h) => h.mode === mode && h.hop === hop)?.median_ms ?? NaN;
  const has = (mode: ConnectionMode) => rows.some((r) => r.mode === mode);
  const ms = (v: number) => `${v.toFixed(v < 10 ? 2 : 0)} ms`;
  if (has("unanswered_first")) {
    const base: ConnectionMode = has("new_connection") ? "new_connection" : "keep_alive";
    for (const hop of HOPS) {
      const values = rows.filter((r) => r.mode === "unanswered_first").map((r) => hopValue(r, hop));
      const least = Math.min(...values);
      add(
        "unanswered_first",
        `${hop}: every wait ≥ the ${stallMs} ms connect attempt on the first address (median < 2 of them)`,
        least >= stallMs - 1 && median("unanswered_first", hop) < 2 * stallMs,
        `${ms(least)}–${ms(Math.max(...values))} (${base}: median ${ms(median(base, hop))})`,
      );
    }
  }
  if (has("refused_first") && has("new_connection")) {
    for (const hop of HOPS) {
      const added = median("refused_first", hop) - median("new_connection", hop);
      add(
        "refused_first",
        `${hop}: a refused first address fails fast here (adds < 20 ms)`,
        added < 20,
        `+${ms(Math.max(0, added))}`,
      );
    }
  }
  return checks;
}

export function hopsTable(hops: HopSummary[]): Row[] {
  return hops.map((h) => ({
    mode: h.mode,
    hop: h.hop,
    "min (ms)": h.min_ms,
    "median (ms)": h.median_ms,
    "p95 (ms)": h.p95_ms,
    "max (ms)": h.max_ms,
  }));
}

/** Each hop's wait by mode: one dot per order over the median's bar, on a log scale (µs to s). */
export function connectionsPlot(rows: ConnectionRow[]): TopLevelSpec {
  const values = rows.flatMap((r) =>
    HOPS.map((hop) => ({ mode: r.mode, hop, wait_ms: Math.max(0.01, hopValue(r, hop)) })),
  );
  const x = {
    field: "wait_ms",
    type: "quantitative",
    title: "wait on the hop (ms, log scale)",
    scale: { type: "log" },
  };
  return {
    ...specBase,
    title: "Part A — the client's wait per hop, by how it connects",
    data: { values },
    facet: { row: { field: "hop", type: "nominal", title: null, sort: [...HOPS] } },
    spec: {
      width: 480,
      height: { step: 22 },
      layer: [
        {
          mark: { type: "bar", opacity: 0.35 },
          encoding: {
            y: { field: "mode", type: "nominal", title: null, sort: CONNECTION_MODES },
            x: { ...x, aggregate: "median" },
          },
        },
        {
          mark: { type: "tick", thickness: 2 },
          encoding: {
            y: { field: "mode", type: "nominal", sort: CONNECTION_MODES },
            x,
            color: { field: "mode", type: "nominal", legend: null },
          },
        },
      ],
    },
  } as unknown as TopLevelSpec;
}
