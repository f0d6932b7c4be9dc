// Part A under hostile input: generated bodies that are not orders (broken JSON, any JSON, huge
// ones, the wrong content type) at each service's contract endpoint, and hostile values at each
// fault switch that takes its value in the query. Every answer must be a clear 4xx (or a success
// for input that happens to be valid) — never a 5xx, never a dropped connection — and afterwards
// every service still runs and a good order is confirmed. A service or switch the target does
// not name is skipped with the reason.
import { fuzzEndpoint, type FuzzResult, type FuzzTarget } from "../../harness/measure/fuzz.js";
import { hostileBody, hostileQuery } from "../../harness/measure/hostile.js";
import type { Experiment, ExperimentOptions, Run } from "../../harness/judge/experiment.js";
import { NotObservable } from "../../harness/judge/target-control.js";
import type { Row } from "../../common/table.js";
import type { PartAImplementation, PartAService } from "../lab/implementation.js";
import { inject } from "./latency.js";

export interface BadInputOptions extends ExperimentOptions {
  /** Hostile requests per endpoint (default: 60 quick, else 500). */
  runs?: number;
  /** The generator's seed: the same seed, the same requests. */
  seed?: number;
}

export interface BadInputRun extends Run<PartAImplementation, BadInputOptions> {
  results: FuzzResult[];
  good?: number;
  alive: Partial<Record<PartAService, boolean>>;
}

export interface BadInputData {
  per_endpoint: (Omit<FuzzResult, "by_status"> & { by_status: string })[];
}

/** Each service's contract endpoint and the fields a body of it has. */
const CONTRACT: { service: PartAService; path: string; fields: string[] }[] = [
  { service: "order", path: "/order", fields: ["order"] },
  { service: "inventory", path: "/reserve", fields: ["order_id", "order"] },
  { service: "notification", path: "/send", fields: ["order_id", "reservation_id"] },
];

/** `target()`'s endpoint fuzzed, unless the target cannot name it. */
async function fuzz(r: BadInputRun, name: string, target: () => FuzzTarget, reset = async () => {}): Promise<void> {
  await r.unless(`hostile input: ${name}`, async () => {
    const t = target();
    const result = await fuzzEndpoint(t, r.opts.runs ?? (r.opts.quick ? 60 : 500), r.opts.seed ?? 42);
    r.results.push(result);
    r.progress(`${t.name}: ${result.requests} hostile requests → ${JSON.stringify(result.by_status)}`);
    await reset(); // a hostile value may have been a valid one: leave no fault behind
  });
}

/** A switch's URL without its query, and the query parameter that carries the value (`…?delay-time={seconds}`). */
function switchTarget(url: string): { url: string; param: string } | undefined {
  const [base, query] = url.split("?");
  const param = [...new URLSearchParams(query ?? "")].find(([, v]) => /^\{[a-z_]+\}$/.test(v))?.[0];
  return param === undefined ? undefined : { url: base, param };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export const badInput: Experiment<PartAImplementation, BadInputOptions, BadInputRun, BadInputData> = {
  name: "bad-input",
  part: "partA",
  title: "Part A — hostile input",
  lesson: "A service answers input it cannot use with a clear 4xx, and goes on serving good requests.",
  needs: [],
  safeguards: [],
  begin: (run) => ({ ...run, results: [], alive: {} }),
  steps: [
    {
      name: "contract endpoints",
      run: async (r) => {
        for (const c of CONTRACT)
          await fuzz(r, `POST ${c.path}`, () => ({
            name: `POST ${c.path}`,
            method: "POST",
            url: `${r.impl.url(c.service)}${c.path}`,
            input: hostileBody(c.fields),
          }));
      },
    },
    {
      name: "fault switches",
      run: async (r) => {
        for (const [name, call] of Object.entries(r.impl.faultCalls)) {
          const t = (call.method ?? "GET") === "GET" ? switchTarget(call.url) : undefined;
          const label = t ? `GET ${new URL(t.url).pathname}` : `the switch ${name}`;
          const target = (): FuzzTarget => {
            if (!t) throw new NotObservable(`the switch ${name} does not take its value in a GET query`);
            return { name: label, method: "GET", url: t.url, input: hostileQuery(t.param) };
          };
          await fuzz(r, label, target, () => inject(r.impl));
        }
      },
    },
    {
      name: "afterwards",
      run: async (r) => {
        r.good = (await r.impl.placeOrder()).status;
        for (const s of CONTRACT.map((c) => c.service).filter((s) => r.impl.endpoints[s]))
          r.alive[s] = (await r.impl.health(s)).status === 200;
      },
    },
  ],
  cleanup: (r) => inject(r.impl),
  judge: (r) => {
    const failures = r.results.flatMap((x) => x.failures);
    const broken = failures.filter((f) => typeof f.status === "string" || f.status >= 500).length;
    const unclear = sum(r.results.map((x) => x.unclear));
    const states: Record<string, number> = {};
    for (const x of r.results)
      for (const [s, n] of Object.entries(x.by_status)) states[`HTTP ${s}`] = (states[`HTTP ${s}`] ?? 0) + n;
    const dead = Object.entries(r.alive).filter(([, up]) => !up);
    const sent = sum(r.results.map((x) => x.requests));
    return {
      params: { runs: r.opts.runs ?? (r.opts.quick ? 60 : 500), seed: r.opts.seed ?? 42 },
      checks: [
        { check: "no 5xx and no dropped connection", passed: broken === 0, observed: `${broken} of ${sent} answers` },
        { check: "every 4xx says what was wrong", passed: unclear === 0, observed: `${unclear} unclear` },
        {
          check: "every service still runs",
          passed: dead.length === 0,
          observed: dead.length ? `${dead.map(([s]) => s).join(", ")} not answering` : "all alive",
        },
        { check: "the next good order is confirmed", passed: r.good === 200, observed: `HTTP ${r.good}` },
      ],
      figures: { hostile_requests: sent, answered_5xx_or_dropped: broken, unclear_4xx: unclear },
      tally: {
        sent,
        acknowledged: sum(Object.entries(states).map(([s, n]) => (s.startsWith("HTTP 2") ? n : 0))),
        final_states: states,
        anomalies: { answered_5xx_or_dropped: broken, unclear_4xx: unclear },
      },
      data: {
        per_endpoint: r.results.map((x) => ({
          ...x,
          by_status: JSON.stringify(x.by_status),
          failures: x.failures.slice(0, 5),
        })),
      },
    };
  },
  files: (result) => ({
    data: { "endpoints.csv": result.data.per_endpoint.map(({ failures: _f, ...rest }) => rest as Row) },
  }),
};
