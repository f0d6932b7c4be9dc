// Part A's two chains under test, and what is measured on each: the lab's order chain (Fastify +
// axios, with its call policy) and a minimal node:http chain doing the same two hops with
// keep-alive. What one chain sustains on one connection, its latency there on a fixed schedule,
// its throughput at many connections (autocannon) with the CPU each process spends per order,
// and what one call costs its caller with node:http, with axios, and with the lab's call policy.
import http from "node:http";
import path from "node:path";
import autocannon from "autocannon";
import { callWithPolicy, createHttpClient, type CallPolicy } from "../../common/http.js";
import { answers, waitUntil } from "../../common/wait.js";
import { freePortsFor } from "../../harness/run/ports.js";
import { readRecord, startProcess, stopProcess } from "../../harness/run/processes.js";
import { LAB_TARGET_FILE, loadTarget } from "../../harness/judge/target.js";
import { metered } from "../../harness/measure/bench-runner.js";
import { fixedRateLoad, type FixedRateResult } from "../../harness/measure/fixed-rate.js";
import { postJson } from "../../harness/measure/raw-http.js";
import { openPartA, type PartAImplementation } from "../lab/implementation.js";

export interface ChainUnderTest {
  name: string;
  orderUrl: string;
  inventoryUrl: string;
  /** Its three processes, by role. */
  processes: Record<string, { pid: number }>;
  stop: () => Promise<void>;
}

const ROLES = ["inventory", "notification", "order"] as const;

/** The lab's Part A, on free ports, in a private lab folder, with its implementation handle. */
export async function startLabChain(
  home: string,
  nodeArgs?: string[],
): Promise<ChainUnderTest & { impl: PartAImplementation }> {
  const impl = await openPartA(loadTarget(LAB_TARGET_FILE), { home, ports: await freePortsFor("partA"), nodeArgs });
  const pid = (role: string) => readRecord(`partA-${role}`, home)?.pid ?? 0;
  return {
    name: "lab chain (Fastify + axios)",
    impl,
    orderUrl: impl.endpoints.order,
    inventoryUrl: impl.endpoints.inventory,
    processes: Object.fromEntries(ROLES.map((role) => [role, { pid: pid(role) }])),
    stop: () => impl.close(),
  };
}

/** Three node:http processes doing the same hops: the baseline. */
export async function startBaselineChain(home: string): Promise<ChainUnderTest> {
  const ports = await freePortsFor("partA");
  const url = (role: string) => `http://127.0.0.1:${ports[role]}`;
  const script = path.join(__dirname, "baseline-chain.js"); // compiled beside this file
  const processes: Record<string, { pid: number }> = {};
  for (const role of ROLES) {
    const env = { PORT: String(ports[role]), INVENTORY_URL: url("inventory"), NOTIFICATION_URL: url("notification") };
    const spec = { name: `bench-baseline-${role}`, command: process.execPath, args: [script, role], env };
    processes[role] = { pid: startProcess(spec, home).pid };
    await waitUntil(() => answers(`${url(role)}/health`), `baseline ${role}`, 10_000);
  }
  return {
    name: "node:http chain",
    orderUrl: url("order"),
    inventoryUrl: url("inventory"),
    processes,
    stop: async () => {
      for (const role of ROLES) await stopProcess(`bench-baseline-${role}`, home);
    },
  };
}

/** What a chain does on one keep-alive connection. */
export interface OneConnection {
  /** Orders/s sustained, orders back to back. */
  capacity_1conn: number;
  /** The rate latency was measured at: a fraction of capacity_1conn. */
  rate: number;
  latency: FixedRateResult;
}

/**
 * On one keep-alive connection: what the chain sustains with orders back to back, then its
 * latency at `fraction` of that, on a fixed schedule. The orders go through a raw node:http
 * agent, not the implementation's placeOrder: its axios call would add its own CPU to every
 * order measured, and the baseline chain is measured the same way.
 */
export async function atOneConnection(chain: ChainUnderTest, count: number, fraction: number): Promise<OneConnection> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const send = async (i: number) =>
    (await postJson(`${chain.orderUrl}/order`, { order: `bench #${i}` }, agent)).status === 200;
  const warmUp = async () => {
    for (let i = 0; i < Math.min(200, count); i++) await send(i); // JIT, connections
  };
  try {
    await warmUp();
    const started = performance.now();
    for (let i = 0; i < count; i++) await send(i);
    const capacity = Math.round(count / ((performance.now() - started) / 1000));
    const rate = Math.max(1, Math.round(fraction * capacity));
    await warmUp();
    return { capacity_1conn: capacity, rate, latency: await fixedRateLoad({ rate, count, connections: 1, send }) };
  } finally {
    agent.destroy();
  }
}

export interface Throughput {
  rps: number;
  p99_ms: number;
  errors: number;
  non2xx: number;
  /** CPU ms per order of each process of the chain, and of the load generator ("client"). */
  cpu_ms_per_order: Record<string, number>;
}

export async function throughputAt(chain: ChainUnderTest, connections: number, seconds: number): Promise<Throughput> {
  const run = (duration: number) =>
    autocannon({
      url: `${chain.orderUrl}/order`,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ order: "bench" }),
      connections,
      duration,
    });
  await run(1); // warm-up
  const measured = () => run(seconds);
  const [r, cpu] = await metered(chain.processes, measured, (x) => x.requests.total);
  return {
    rps: Math.round(r.requests.average),
    p99_ms: r.latency.p99,
    errors: r.errors,
    non2xx: r.non2xx,
    cpu_ms_per_order: cpu,
  };
}

/** CPU the caller spends on one hop, by the client it calls with. */
export interface ClientCost {
  node_http: number;
  axios: number;
  axios_with_policy: number;
}

/**
 * The CPU one small JSON POST costs the process that makes it (ms per call): with node:http as
 * the baseline's order service calls, with the lab's axios client, and with the whole call
 * policy (timeout, retries, deadline) as the lab's order service calls. The server's CPU is
 * not counted: it runs in another process.
 */
export async function clientCost(
  url: string,
  calls: number,
  policy: CallPolicy,
  deadlineMs: number,
  concurrency = 8,
): Promise<ClientCost> {
  const body = { order_id: "o-0123456789abcdef", order: { order: "bench" } };
  const agent = new http.Agent({ keepAlive: true, noDelay: true });
  const client = createHttpClient();
  const ways: Record<keyof ClientCost, () => Promise<unknown>> = {
    node_http: () => postJson(url, body, agent),
    axios: () => client.post(url, body),
    axios_with_policy: () =>
      callWithPolicy(client, { method: "POST", url, data: body }, policy, performance.now() + deadlineMs),
  };
  const repeat = async (call: () => Promise<unknown>, n: number) => {
    let started = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (started++ < n) await call();
      }),
    );
  };
  const cost = {} as ClientCost;
  for (const [way, call] of Object.entries(ways) as [keyof ClientCost, () => Promise<unknown>][]) {
    await repeat(call, Math.ceil(calls / 5)); // warm-up: JIT, connections
    const before = process.cpuUsage();
    await repeat(call, calls);
    const used = process.cpuUsage(before);
    cost[way] = Math.round((used.user + used.system) / calls) / 1000;
  }
  agent.destroy();
  return cost;
}
