// Part A's connection experiment (issue 17): the same sequential orders with
// (a) keep-alive connections on every hop, (b) a new TCP connection for every call on every hop,
// (c) names whose first address does not answer, and (d) names whose first address refuses —
// the client's wait on each hop measured: client → order, order → inventory, order → notification.
//
// The address that does not answer is made by the lab, without root and without touching the
// machine's network set-up: a helper process listens on 127.0.0.2 at each service's port with a
// backlog of 0 and never accepts, and fills its own accept queue. Linux then drops every further
// SYN to that address (tcp_abort_on_overflow=0): the connect attempt gets no answer at all, as
// behind a firewall that drops. The names resolve (a resolver of the lab's own, RESOLVE) to
// 127.0.0.2 first, then 127.0.0.1 where the service listens; the caller gives the first address
// its connect attempt timeout (Node's autoSelectFamilyAttemptTimeout) and then falls back. The
// stall is that timeout running out on a real connect attempt, not a sleep.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import axios from "axios";
import { up, down, openPart, type LabOptions } from "../../harness/lifecycle.js";
import { specBase, writeSvg, type TopLevelSpec } from "../../harness/plots.js";
import { labHome, resultsDir, writeJsonResult } from "../../common/paths.js";
import { freePort } from "../../harness/ports.js";
import { summarize } from "../../harness/stats.js";
import { markdownTable, toCsv, type Row } from "../../common/table.js";
import { postJson } from "../../harness/raw-http.js";
import { CountingAgent, formatResolve, mappedLookup, type ResolveMap } from "../connections.js";

export type ConnectionMode = "keep_alive" | "new_connection" | "unanswered_first" | "refused_first";
export const CONNECTION_MODES: ConnectionMode[] = ["keep_alive", "new_connection", "unanswered_first", "refused_first"];
export const HOPS = ["client → order", "order → inventory", "order → notification"] as const;
export type Hop = (typeof HOPS)[number];

export const MODE_TEXT: Record<ConnectionMode, string> = {
  keep_alive: "keep-alive: every call reuses an open connection",
  new_connection: "a new TCP connection for every call, on every hop",
  unanswered_first: "a new connection per call to a name whose first address does not answer",
  refused_first: "a new connection per call to a name whose first address (::1) refuses",
};

/** The address where nothing answers (the lab's silent listener) and the one that refuses. */
export const UNANSWERED_ADDRESS = "127.0.0.2";
export const REFUSING_ADDRESS = "::1";
const NAMES = { order: "order.lab", inventory: "inventory.lab", notification: "notification.lab" };

export interface ConnectionCheck {
  scenario: ConnectionMode;
  check: string;
  passed: boolean;
  observed: string;
}

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

export interface ConnectionsResult {
  requests: number;
  stall_ms: number;
  /** TCP connections the order service opened per order, by mode (from its /health). */
  order_connections_per_order: Partial<Record<ConnectionMode, number>>;
  /** What setting up one TCP connection took on average (µs), on the client's hop and on the order service's two. */
  connect_us: Partial<Record<ConnectionMode, { client: number; order_service: number }>>;
  rows: ConnectionRow[];
  hops: HopSummary[];
  checks: ConnectionCheck[];
  passed: boolean;
}

// A listener that never accepts: its queue holds what it connected to itself, so the kernel
// drops every further SYN. Python, because Node's server accepts every connection at once.
const SILENT_LISTENER = `
import socket, sys, time
host, held = sys.argv[1], []
for port in map(int, sys.argv[2:]):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((host, port)); s.listen(0)
    for _ in range(2):
        c = socket.socket(); c.setblocking(False)
        try: c.connect((host, port))
        except BlockingIOError: pass
        held.append(c)
    held.append(s)
print("ready", flush=True)
sys.stdin.read()
`;

/** Start the silent listener on `host` at `ports`; it stops when its stdin closes (kill() too). */
export async function startSilentListener(host: string, ports: number[]): Promise<ChildProcess> {
  const python = process.env.PYTHON ?? "python3";
  const child = spawn(python, ["-c", SILENT_LISTENER, host, ...ports.map(String)], { stdio: ["pipe", "pipe", "pipe"] });
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  await new Promise<void>((resolve, reject) => {
    child.on("error", (e) => reject(new Error(`cannot start ${python} for the silent listener: ${e.message}`)));
    child.on("exit", (code) => reject(new Error(`the silent listener exited (${code}): ${err.trim()}`)));
    child.stdout.on("data", (d) => String(d).includes("ready") && resolve());
  });
  return child;
}

const health = axios.create({ validateStatus: () => true, timeout: 10_000 });

interface ModeSetup {
  /** Env of the order service in this mode. */
  env: Record<string, string>;
  /** The client's agent (it counts its connections and their set-up time) and the URL it calls. */
  agent: CountingAgent;
  orderUrl: string;
}

function setupFor(mode: ConnectionMode, ports: Record<string, number>, stallMs: number): ModeSetup {
  const local = (port: number) => `http://127.0.0.1:${port}`;
  if (mode === "keep_alive") {
    return {
      env: { KEEP_ALIVE: "true" },
      agent: new CountingAgent({ keepAlive: true, maxSockets: 1, noDelay: true }),
      orderUrl: local(ports.order),
    };
  }
  if (mode === "new_connection") {
    return {
      env: { KEEP_ALIVE: "false" },
      agent: new CountingAgent({ keepAlive: false, noDelay: true }),
      orderUrl: local(ports.order),
    };
  }
  const first = mode === "unanswered_first" ? UNANSWERED_ADDRESS : REFUSING_ADDRESS;
  const resolve: ResolveMap = Object.fromEntries(Object.values(NAMES).map((name) => [name, [first, "127.0.0.1"]]));
  const options = { lookup: mappedLookup(resolve), autoSelectFamily: true, autoSelectFamilyAttemptTimeout: stallMs };
  return {
    env: {
      KEEP_ALIVE: "false",
      RESOLVE: formatResolve(resolve),
      CONNECT_ATTEMPT_TIMEOUT_MS: String(stallMs),
      INVENTORY_URL: `http://${NAMES.inventory}:${ports.inventory}`,
      NOTIFICATION_URL: `http://${NAMES.notification}:${ports.notification}`,
    },
    agent: new CountingAgent({ keepAlive: false, noDelay: true, ...options }),
    orderUrl: `http://${NAMES.order}:${ports.order}`,
  };
}

const round = (ms: number) => Math.round(ms * 10) / 10;

export interface ConnectionsOptions extends LabOptions {
  requests: number;
  /** The connect attempt timeout for the first address, which the unanswered address makes the client wait (ms). */
  stallMs?: number;
  modes?: ConnectionMode[];
  onRequest?: (row: ConnectionRow) => void;
}

/**
 * The whole experiment: bring Part A up unless it runs; start one extra order service per mode
 * (its own port and lab folder, with that mode's connection settings, calling the same inventory
 * and notification); send N orders to each, the modes taking turns order by order, so that every
 * mode is measured under the same load of the machine; stop the extra order services (and what
 * else this run started). The student's own order service is left as it was.
 */
export async function runConnectionsExperiment(opts: ConnectionsOptions): Promise<ConnectionsResult> {
  const stallMs = opts.stallMs ?? 1000;
  const modes = opts.modes ?? CONNECTION_MODES;
  const home = opts.home ?? labHome();
  // The lab's own Part A (the one rule: what this opens, it stops); its inventory and notification serve every mode.
  const part = await openPart("partA", opts);
  const ports = Object.fromEntries(Object.values(part.running.services).map((s) => [s.name, s.port]));
  const orderPorts: Partial<Record<ConnectionMode, number>> = {};
  for (const mode of modes) orderPorts[mode] = await freePort();
  const listener = await startSilentListener(UNANSWERED_ADDRESS, [
    ...Object.values(orderPorts),
    ports.inventory,
    ports.notification,
  ]).catch(async (err: unknown) => {
    await part.close();
    throw err;
  });
  const homes = Object.fromEntries(modes.map((m) => [m, path.join(home, "connections", m)])) as Record<
    ConnectionMode,
    string
  >;
  const rows: ConnectionRow[] = [];
  const perOrder: Partial<Record<ConnectionMode, number>> = {};
  const connectUs: ConnectionsResult["connect_us"] = {};
  try {
    const setups = {} as Record<ConnectionMode, ModeSetup>;
    for (const mode of modes) {
      const modePorts = { ...ports, order: orderPorts[mode]! };
      setups[mode] = setupFor(mode, modePorts, stallMs);
      await up("partA", {
        ...opts,
        home: homes[mode],
        ports: modePorts,
        env: { ...opts.env, ...setups[mode].env },
        only: ["order"],
      });
    }
    const counters = async (mode: ConnectionMode) => {
      const h = (await health.get(`http://127.0.0.1:${orderPorts[mode]}/health`)).data as {
        connections_opened: number;
        connect_ms_total: number;
      };
      return {
        opened: h.connections_opened,
        connectMs: h.connect_ms_total,
        clientOpened: setups[mode].agent.opened,
        clientConnectMs: setups[mode].agent.connectMs,
      };
    };
    const before = {} as Record<ConnectionMode, Awaited<ReturnType<typeof counters>>>;
    for (const mode of modes) {
      await postJson(`${setups[mode].orderUrl}/order`, { order: "warm-up" }, setups[mode].agent); // JIT, and keep-alive's first connections
      before[mode] = await counters(mode);
    }
    for (let i = 1; i <= opts.requests; i++) {
      for (const mode of modes) {
        const setup = setups[mode];
        const started = performance.now();
        const res = await postJson(`${setup.orderUrl}/order`, { order: `connections #${i}` }, setup.agent);
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
        rows.push(row);
        opts.onRequest?.(row);
      }
    }
    for (const mode of modes) {
      const after = await counters(mode);
      const b = before[mode];
      perOrder[mode] = round(after.opened - b.opened) / opts.requests;
      const us = (ms: number, n: number) => (n > 0 ? Math.round((ms / n) * 1000) : 0);
      connectUs[mode] = {
        client: us(after.clientConnectMs - b.clientConnectMs, after.clientOpened - b.clientOpened),
        order_service: us(after.connectMs - b.connectMs, after.opened - b.opened),
      };
      setups[mode].agent.destroy();
    }
  } finally {
    listener.kill();
    for (const mode of modes) await down("partA", { home: homes[mode], only: ["order"] });
    await part.close();
  }
  const hops = summarizeHops(rows);
  const checks = checkConnections(rows, hops, stallMs, perOrder, connectUs);
  return {
    requests: opts.requests,
    stall_ms: stallMs,
    order_connections_per_order: perOrder,
    connect_us: connectUs,
    rows,
    hops,
    checks,
    passed: checks.every((c) => c.passed),
  };
}

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
  connectUs: ConnectionsResult["connect_us"] = {},
): ConnectionCheck[] {
  const checks: ConnectionCheck[] = [];
  const add = (mode: ConnectionMode, check: string, passed: boolean, observed: string) =>
    checks.push({ scenario: mode, check, passed, observed });
  const median = (mode: ConnectionMode, hop: Hop) =>
    hops.find((h) => h.mode === mode && h.hop === hop)?.median_ms ?? NaN;
  const has = (mode: ConnectionMode) => rows.some((r) => r.mode === mode);
  const ms = (v: number) => `${v.toFixed(v < 10 ? 2 : 0)} ms`;
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

export function connectionChecksTable(checks: ConnectionCheck[]): Row[] {
  return checks.map((c) => ({ verdict: c.passed ? "✔" : "✖", mode: c.scenario, check: c.check, observed: c.observed }));
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

/** result.json, connections.csv, connections.svg and summary.md in results/partA/connections/. */
export async function writeConnectionsResults(
  result: ConnectionsResult,
  dir = resultsDir("partA", "connections"),
): Promise<string[]> {
  const files = [writeJsonResult(dir, "result", result)];
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    files.push(file);
  };
  write("connections.csv", toCsv(result.rows as unknown as Row[]));
  write(
    "summary.md",
    [
      `# Part A — what connecting costs per hop (${result.requests} sequential orders per mode, first-address connect attempt ${result.stall_ms} ms)`,
      "",
      ...CONNECTION_MODES.filter((m) => result.rows.some((r) => r.mode === m)).map(
        (m) => `- \`${m}\`: ${MODE_TEXT[m]}`,
      ),
      "",
      markdownTable(hopsTable(result.hops), 2),
      "",
      `TCP connections the order service opened per order: ${Object.entries(result.order_connections_per_order)
        .map(([m, n]) => `${m} ${n}`)
        .join(", ")}.`,
      `What setting one up took (client → order / order → its dependencies, µs per connection): ${Object.entries(
        result.connect_us,
      )
        .map(([m, c]) => `${m} ${c.client} / ${c.order_service}`)
        .join(", ")}.`,
      "",
      `## Checker: ${result.passed ? "PASS" : "FAIL"}`,
      "",
      markdownTable(connectionChecksTable(result.checks)),
      "",
    ].join("\n"),
  );
  files.push(await writeSvg(connectionsPlot(result.rows), path.join(dir, "connections.svg")));
  return files;
}
