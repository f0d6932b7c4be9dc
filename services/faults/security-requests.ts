// Security basics, third family: request bodies and `count` are bounded. A 2 MB body on every
// POST/PUT endpoint, and counts past their limits, must each get a 4xx.
import { request as httpRequest } from "node:http";
import axios from "axios";
import type { Check } from "../harness/judge/check.js";
import type { PartId } from "../harness/run/parts.js";
import { countBy } from "../harness/run/stack.js";
import { MAX_LOAD_COUNT } from "../partC-kafka/produce-orders.js";

/**
 * Send a body past the services' limit and read the answer. A server that refuses it early (413)
 * may close the connection while the body is still being written: the client's write then fails
 * with EPIPE, although the answer has already arrived. The answer counts, not the broken write.
 */
function sendOversized(
  method: string,
  url: string,
  body: string,
): Promise<{ status: number | string; error?: string }> {
  return new Promise((resolve) => {
    let answered = false;
    const req = httpRequest(
      url,
      {
        method,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        timeout: 30_000,
      },
      (res) => {
        answered = true;
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, error: errorOf(text) }));
        res.on("error", () => resolve({ status: res.statusCode ?? 0, error: errorOf(text) }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("no answer within 30 s")));
    req.on("error", (err) => {
      if (!answered) resolve({ status: err.message });
    });
    req.end(body);
  });
}

function errorOf(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { error?: string }).error;
  } catch {
    return undefined;
  }
}

const http = axios.create({
  validateStatus: () => true,
  timeout: 30_000,
  maxBodyLength: Infinity,
  transformRequest: [(d) => d],
});

export interface Probe {
  status: number | string;
}

export interface BoundedRequests {
  bodies: (Probe & { name: string; error?: string })[];
  counts: (Probe & { count: number | string })[];
}

/** The services' URLs, by part and short name. */
export type ServiceUrl = (part: PartId, name: string) => string;

/** A 2 MB body on every POST/PUT endpoint, one after the other. */
async function oversizedBodies(s: ServiceUrl): Promise<BoundedRequests["bodies"]> {
  const huge = JSON.stringify({ padding: "x".repeat(2 * 1024 * 1024) });
  const writes: [string, string, string][] = [
    ["POST", "A order /order", `${s("partA", "order")}/order`],
    ["POST", "A inventory /reserve", `${s("partA", "inventory")}/reserve`],
    ["POST", "A notification /send", `${s("partA", "notification")}/send`],
    ["POST", "B order /order", `${s("partB", "order")}/order`],
    ["PUT", "B inventory /stock", `${s("partB", "inventory")}/stock`],
    ["POST", "C producer /produce", `${s("partC", "producer")}/produce`],
    ["POST", "C producer /load-test", `${s("partC", "producer")}/load-test`],
    ["POST", "C analytics /replay", `${s("partC", "analytics")}/replay`],
    ["POST", "C analytics /report", `${s("partC", "analytics")}/report`],
  ];
  const bodies = [];
  for (const [method, name, url] of writes) {
    const res = await sendOversized(method, url, huge);
    bodies.push({ name, status: res.status, error: res.error });
  }
  return bodies;
}

/** Counts past their limits: the load test's, and the order list's. */
async function countsPastTheLimit(s: ServiceUrl): Promise<BoundedRequests["counts"]> {
  const counts: BoundedRequests["counts"] = [];
  for (const count of [MAX_LOAD_COUNT + 1, 1e9, 1e308]) {
    const res = await http.post(`${s("partC", "producer")}/load-test`, JSON.stringify({ count }), {
      headers: { "content-type": "application/json" },
    });
    counts.push({ count, status: res.status });
  }
  const limit = await http.get(`${s("partB", "order")}/orders`, { params: { limit: 1e9 } });
  counts.push({ count: "GET /orders?limit=1e9", status: limit.status });
  return counts;
}

export async function boundedRequests(s: ServiceUrl, log: (line: string) => void): Promise<BoundedRequests> {
  const bodies = await oversizedBodies(s);
  const counts = await countsPastTheLimit(s);
  log(
    `2 MB bodies: ${JSON.stringify(countBy(bodies, (b) => String(b.status)))}; counts past the limit: ${JSON.stringify(countBy(counts, (c) => String(c.status)))}`,
  );
  return { bodies, counts };
}

export function requestChecks({ bodies, counts }: BoundedRequests): Check[] {
  const tooBig = bodies.filter((b) => !(typeof b.status === "number" && b.status >= 400 && b.status < 500));
  const unbounded = counts.filter((c) => c.status !== 400);
  return [
    {
      check: "a 2 MB body gets a 4xx on every POST/PUT endpoint",
      passed: tooBig.length === 0,
      observed: tooBig.length
        ? JSON.stringify(tooBig)
        : `${bodies.length} endpoints: ${JSON.stringify(countBy(bodies, (b) => `${b.status} ${b.error}`))}`,
    },
    {
      check: `count is bounded (load-test ≤ ${MAX_LOAD_COUNT}, list limit ≤ 100000)`,
      passed: unbounded.length === 0,
      observed: counts.map((c) => `${c.count} → ${c.status}`).join(", "),
    },
  ];
}
