// Part A's connections lesson (issue 17): the same sequential orders with (a) keep-alive
// connections on every hop, (b) a new TCP connection for every call on every hop, (c) names whose
// first address does not answer, and (d) names whose first address refuses — the client's wait on
// each hop measured: client → order, order → inventory, order → notification. Each mode is one
// more order service the driver starts with that mode's settings (the lab's own services only:
// a team's target is "not observable", with the reason), calling the same inventory and
// notification; the modes take turns order by order, so every mode sees the same load.
import type { ChildProcess } from "node:child_process";
import type { Experiment, ExperimentOptions, Run } from "../../harness/judge/experiment.js";
import { request } from "../../harness/measure/implementation.js";
import { freePort } from "../../harness/run/ports.js";
import { postJson } from "../../harness/measure/raw-http.js";
import type { Row } from "../../common/table.js";
import type { PartAImplementation } from "../lab/implementation.js";
import {
  CONNECTION_MODES,
  setupFor,
  startSilentListener,
  UNANSWERED_ADDRESS,
  type ConnectionMode,
  type ModeSetup,
} from "./connection-modes.js";

import {
  checkConnections,
  connectionsPlot,
  summarizeHops,
  type ConnectionRow,
  type ConnectUs,
  type HopSummary,
} from "./connections-judge.js";

export { CONNECTION_MODES, MODE_TEXT, type ConnectionMode } from "./connection-modes.js";
export { HOPS, hopsTable, connectionsPlot, type ConnectionRow, type HopSummary } from "./connections-judge.js";
export interface ConnectionsOptions extends ExperimentOptions {
  /** Orders per mode (default: 20 quick, else 50). */
  requests?: number;
  /** The connect attempt on the unanswered first address, which the client waits out (ms; default 250 quick, else 1000). */
  stallMs?: number;
  modes?: ConnectionMode[];
  onRequest?: (row: ConnectionRow) => void;
}

interface Counters {
  opened: number;
  connectMs: number;
  clientOpened: number;
  clientConnectMs: number;
}

export interface ConnectionsRun extends Run<PartAImplementation, ConnectionsOptions> {
  modes: ConnectionMode[];
  stallMs: number;
  requests: number;
  listener?: ChildProcess;
  services: Partial<Record<ConnectionMode, ModeSetup & { url: string; stop(): Promise<void> }>>;
  before: Partial<Record<ConnectionMode, Counters>>;
  rows: ConnectionRow[];
  perOrder: Partial<Record<ConnectionMode, number>>;
  connectUs: ConnectUs;
}

export interface ConnectionsData {
  stall_ms: number;
  /** TCP connections the order service opened per order, by mode (from its /health). */
  order_connections_per_order: Partial<Record<ConnectionMode, number>>;
  connect_us: ConnectUs;
  rows: ConnectionRow[];
  hops: HopSummary[];
}

const round = (ms: number) => Math.round(ms * 10) / 10;
const portOf = (url: string) => Number(new URL(url).port);

/** One order service per mode, and the listener that never answers on the address the names try first. */
async function startModes(r: ConnectionsRun): Promise<void> {
  const ports = { inventory: portOf(r.impl.endpoints.inventory), notification: portOf(r.impl.endpoints.notification) };
  const orderPorts: number[] = [];
  for (const mode of r.modes) {
    const modePorts = { ...ports, order: await freePort() };
    orderPorts.push(modePorts.order);
    const setup = setupFor(mode, modePorts, r.stallMs);
    r.services[mode] = { ...setup, ...(await r.impl.extraOrderService(mode, modePorts.order, setup.env)) };
  }
  r.listener = await startSilentListener(UNANSWERED_ADDRESS, [...orderPorts, ports.inventory, ports.notification]);
}

async function counters(r: ConnectionsRun, mode: ConnectionMode): Promise<Counters> {
  const s = r.services[mode]!;
  const h = (await request<{ connections_opened: number; connect_ms_total: number }>("get", `${s.url}/health`)).body;
  return {
    opened: h.connections_opened,
    connectMs: h.connect_ms_total,
    clientOpened: s.agent.opened,
    clientConnectMs: s.agent.connectMs,
  };
}

async function placeOrders(r: ConnectionsRun): Promise<void> {
  for (let i = 1; i <= r.requests; i++) {
    for (const mode of r.modes) {
      const s = r.services[mode]!;
      const started = performance.now();
      const res = await postJson(`${s.orderUrl}/order`, { order: `connections #${i}` }, s.agent);
      const latency_ms = round(performance.now() - started);
      const t = JSON.parse(res.body || "{}").timings ?? {};
      const row: ConnectionRow = {
        mode,
        request: i,
        http_status: res.status,
        latency_ms,
        client_ms: round(latency_ms - (t.total_ms ?? 0)),
        reserve_ms: t.reserve_ms,
        notify_ms: t.notify_ms,
        total_ms: t.total_ms,
      };
      r.rows.push(row);
      r.opts.onRequest?.(row);
    }
  }
}

async function count(r: ConnectionsRun): Promise<void> {
  const us = (ms: number, n: number) => (n > 0 ? Math.round((ms / n) * 1000) : 0);
  for (const mode of r.modes) {
    const [after, b] = [await counters(r, mode), r.before[mode]!];
    r.perOrder[mode] = round(after.opened - b.opened) / r.requests;
    r.connectUs[mode] = {
      client: us(after.clientConnectMs - b.clientConnectMs, after.clientOpened - b.clientOpened),
      order_service: us(after.connectMs - b.connectMs, after.opened - b.opened),
    };
  }
}

export const connections: Experiment<PartAImplementation, ConnectionsOptions, ConnectionsRun, ConnectionsData> = {
  name: "connections",
  part: "partA",
  title: "Part A — what connecting costs per hop",
  lesson:
    "A new connection per call costs a handshake per hop; a silent first address costs the connect attempt on every hop.",
  needs: ["order services of its own"],
  safeguards: [],
  begin: (run) => ({
    ...run,
    modes: run.opts.modes ?? CONNECTION_MODES,
    stallMs: run.opts.stallMs ?? (run.opts.quick ? 250 : 1000),
    requests: run.opts.requests ?? (run.opts.quick ? 20 : 50),
    services: {},
    before: {},
    rows: [],
    perOrder: {},
    connectUs: {},
  }),
  steps: [
    { name: "start", run: startModes },
    {
      name: "warm up",
      run: async (r) => {
        for (const mode of r.modes) {
          // JIT, and keep-alive's first connections, before the counters are read.
          await postJson(`${r.services[mode]!.orderUrl}/order`, { order: "warm-up" }, r.services[mode]!.agent);
          r.before[mode] = await counters(r, mode);
        }
      },
    },
    { name: "orders", run: placeOrders },
    { name: "count", run: count },
  ],
  cleanup: async (r) => {
    r.listener?.kill();
    for (const s of Object.values(r.services)) {
      s.agent.destroy();
      await s.stop();
    }
  },
  judge: (r) => {
    const hops = summarizeHops(r.rows);
    return {
      params: { requests: r.requests, stall_ms: r.stallMs, modes: r.modes },
      checks: checkConnections(r.rows, hops, r.stallMs, r.perOrder, r.connectUs),
      figures: Object.fromEntries(r.modes.map((m) => [`${m}: connections per order`, r.perOrder[m] ?? NaN])),
      data: {
        stall_ms: r.stallMs,
        order_connections_per_order: r.perOrder,
        connect_us: r.connectUs,
        rows: r.rows,
        hops,
      },
    };
  },
  // A run that was not observable has no data: nothing beside its summary.
  files: ({ data }) =>
    data.rows
      ? {
          data: { "connections.csv": data.rows as unknown as Row[] },
          plots: { "connections.svg": connectionsPlot(data.rows) },
        }
      : {},
};
