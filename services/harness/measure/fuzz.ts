// Throw generated hostile requests at an HTTP endpoint and record what came back. The invariant:
// every answer is a clear 4xx (or a success for input that happens to be valid) — never a 5xx,
// never a dropped connection — and the service still serves a good request afterwards.
import fc from "fast-check";
import axios from "axios";

export interface FuzzTarget {
  name: string;
  method: "GET" | "POST" | "PUT";
  url: string;
  /** For POST and PUT: a raw body. For GET: a query string, or with `inPath` a path segment after url. */
  input: fc.Arbitrary<{ text: string; contentType: string }> | fc.Arbitrary<string>;
  inPath?: boolean;
  /** Statuses a correct service may answer with for *some* generated input. */
  allowed?: number[];
}

export interface FuzzResult {
  target: string;
  requests: number;
  by_status: Record<string, number>;
  /** 5xx answers and broken connections, with the input that caused them (replayable). */
  failures: { status: number | string; input: string; body: string }[];
  unclear: number;
}

const http = axios.create({
  validateStatus: () => true,
  timeout: 15_000,
  maxBodyLength: Infinity,
  maxContentLength: Infinity,
  transformRequest: [(d) => d],
});

export async function fuzzEndpoint(target: FuzzTarget, runs: number, seed: number): Promise<FuzzResult> {
  const result: FuzzResult = { target: target.name, requests: 0, by_status: {}, failures: [], unclear: 0 };
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- needed: without it fc.sample infers its type from one member of the union and rejects the other
  const samples = fc.sample(target.input as fc.Arbitrary<unknown>, { numRuns: runs, seed });
  for (const input of samples) {
    result.requests++;
    try {
      const res =
        target.method === "GET"
          ? await http.get(target.inPath ? `${target.url}/${input as string}` : `${target.url}?${input as string}`)
          : await http.request({
              method: target.method,
              url: target.url,
              data: (input as { text: string }).text,
              headers: { "content-type": (input as { contentType: string }).contentType },
            });
      result.by_status[res.status] = (result.by_status[res.status] ?? 0) + 1;
      if (res.status >= 500 || (target.allowed && !target.allowed.includes(res.status))) {
        result.failures.push({ status: res.status, input: preview(input), body: preview(res.data) });
      } else if (res.status >= 400 && !(res.data && typeof res.data.error === "string" && res.data.message)) {
        result.unclear++; // a 4xx must say what was wrong
        result.failures.push({
          status: res.status,
          input: preview(input),
          body: `unclear error body: ${preview(res.data)}`,
        });
      }
    } catch (err) {
      result.by_status.error = (result.by_status.error ?? 0) + 1;
      result.failures.push({
        status: (err as { code?: string }).code ?? "error",
        input: preview(input),
        body: String(err),
      });
    }
  }
  return result;
}

const preview = (v: unknown) => {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return s && s.length > 300 ? `${s.slice(0, 300)}… (${s.length} chars)` : (s ?? String(v));
};
