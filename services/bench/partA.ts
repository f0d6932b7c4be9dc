// Part A benchmarks: the lab's order chain against a minimal node:http chain doing the same two
// hops with keep-alive, in the same run. Latency at one connection on a fixed schedule, and
// throughput at 32 connections (autocannon).
import http from "node:http";
import path from "node:path";
import autocannon from "autocannon";
import { down, up } from "../lab/lab.js";
import { distDir } from "../lab/paths.js";
import { freePort } from "../lab/ports.js";
import { startProcess, stopProcess } from "../lab/processes.js";
import { answers, waitUntil } from "../lab/wait.js";
import { fixedRateLoad, type FixedRateResult } from "./fixed-rate.js";
import { peakRssMb } from "./machine.js";
import { postJson } from "./raw-http.js";
import { ratioOf, type Figure } from "./report.js";

export interface ChainUnderTest {
  name: string;
  orderUrl: string;
  pids: Record<string, number>;
  stop: () => Promise<void>;
}

/** The lab's Part A, on free ports, in a private lab folder. */
export async function startLabChain(home: string): Promise<ChainUnderTest> {
  const ports = { order: await freePort(), inventory: await freePort(), notification: await freePort() };
  const part = await up("partA", { home, ports });
  return {
    name: "lab chain (Fastify + axios)",
    orderUrl: part.services.order.url,
    pids: Object.fromEntries(Object.values(part.services).map((s) => [s.name, s.pid])),
    stop: async () => void (await down("partA", { home })),
  };
}

/** Three node:http processes doing the same hops: the baseline. */
export async function startBaselineChain(home: string): Promise<ChainUnderTest> {
  const ports = { order: await freePort(), inventory: await freePort(), notification: await freePort() };
  const script = path.join(distDir, "bench", "baseline-chain.js");
  const pids: Record<string, number> = {};
  for (const role of ["inventory", "notification", "order"] as const) {
    const env = { PORT: String(ports[role]), INVENTORY_URL: `http://127.0.0.1:${ports.inventory}`, NOTIFICATION_URL: `http://127.0.0.1:${ports.notification}` };
    pids[role] = startProcess({ name: `bench-baseline-${role}`, command: process.execPath, args: [script, role], env }, home).pid;
    await waitUntil(() => answers(`http://127.0.0.1:${ports[role]}/health`), `baseline ${role}`, 10_000);
  }
  return {
    name: "node:http chain",
    orderUrl: `http://127.0.0.1:${ports.order}`,
    pids,
    stop: async () => {
      for (const role of Object.keys(pids)) await stopProcess(`bench-baseline-${role}`, home);
    },
  };
}

/** Sequential orders on one keep-alive connection, on a fixed schedule. */
export async function latencyAtOneConnection(chain: ChainUnderTest, count: number, rate: number, onProgress?: (done: number) => void): Promise<FixedRateResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const send = async (i: number) => (await postJson(`${chain.orderUrl}/order`, { order: `bench #${i}` }, agent)).status === 200;
  for (let i = 0; i < Math.min(200, count); i++) await send(i); // warm-up: JIT, connections
  const result = await fixedRateLoad({ rate, count, connections: 1, send, onProgress });
  agent.destroy();
  return result;
}

export async function throughputAt(chain: ChainUnderTest, connections: number, seconds: number): Promise<{ rps: number; p99_ms: number; errors: number; non2xx: number }> {
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
  const r = await run(seconds);
  return { rps: Math.round(r.requests.average), p99_ms: r.latency.p99, errors: r.errors, non2xx: r.non2xx };
}

export interface PartABenchOptions {
  home: string;
  quick: boolean;
  log: (line: string) => void;
}

export async function benchPartA(opts: PartABenchOptions): Promise<{ figures: Figure[]; details: Record<string, unknown> }> {
  const count = opts.quick ? 300 : 2000;
  const rate = 200;
  const seconds = opts.quick ? 3 : 10;
  const measured: Record<string, { latency: FixedRateResult; throughput: Awaited<ReturnType<typeof throughputAt>>; peakRss: Record<string, number | undefined> }> = {};
  for (const start of [startBaselineChain, startLabChain]) {
    const chain = await start(opts.home);
    try {
      opts.log(`${chain.name}: ${count} orders at 1 connection, ${rate}/s`);
      const latency = await latencyAtOneConnection(chain, count, rate);
      opts.log(`  p50 ${latency.p50_ms} ms, p99 ${latency.p99_ms} ms, errors ${latency.errors}`);
      opts.log(`${chain.name}: 32 connections for ${seconds} s (autocannon)`);
      const throughput = await throughputAt(chain, 32, seconds);
      opts.log(`  ${throughput.rps} orders/s, p99 ${throughput.p99_ms} ms, non-2xx ${throughput.non2xx}`);
      const peakRss = Object.fromEntries(Object.entries(chain.pids).map(([role, pid]) => [role, peakRssMb(pid)]));
      measured[chain.name] = { latency, throughput, peakRss };
    } finally {
      await chain.stop();
    }
  }
  const [base, lab] = [measured["node:http chain"], measured["lab chain (Fastify + axios)"]];
  const baseline = (value: number) => ({ name: "node:http chain", value });
  const figures: Figure[] = [
    {
      id: "A.latency.p50", part: "A", figure: `order latency p50, 1 connection, ${count} orders`, unit: "ms", better: "lower",
      value: lab.latency.p50_ms, baseline: baseline(base.latency.p50_ms), ratio: ratioOf(lab.latency.p50_ms, base.latency.p50_ms),
      target: "≤ 1.3 × baseline and ≤ 2 ms", met: lab.latency.p50_ms <= 1.3 * base.latency.p50_ms && lab.latency.p50_ms <= 2,
    },
    {
      id: "A.latency.p99", part: "A", figure: `order latency p99, 1 connection, ${count} orders`, unit: "ms", better: "lower",
      value: lab.latency.p99_ms, baseline: baseline(base.latency.p99_ms), ratio: ratioOf(lab.latency.p99_ms, base.latency.p99_ms),
      target: "reported", met: true,
    },
    {
      id: "A.throughput", part: "A", figure: "orders/s at 32 connections", unit: "orders/s", better: "higher",
      value: lab.throughput.rps, baseline: baseline(base.throughput.rps), ratio: ratioOf(lab.throughput.rps, base.throughput.rps),
      target: "≥ 0.6 × baseline", met: lab.throughput.rps >= 0.6 * base.throughput.rps && lab.throughput.non2xx === 0,
    },
    ...Object.entries(lab.peakRss).map(([role, mb]): Figure => ({
      id: `A.memory.${role}`, part: "A", figure: `peak memory, Part A ${role}`, unit: "MB", better: "lower",
      value: mb ?? NaN, target: "≤ 200 MB", met: (mb ?? Infinity) <= 200,
    })),
  ];
  return { figures, details: measured };
}
