// Part C load experiment: produce N events (10,000 by default) through POST /load-test and
// watch three counters climb — acknowledged by Kafka, orders counted by analytics, inventory
// answers counted by analytics — until analytics has seen every one of them.
import { resultsDir } from "../../common/paths.js";
import { timeSeriesSpec } from "../../harness/plots.js";
import { markdownTable, toCsv, type Row } from "../../common/table.js";
import type { LabOptions } from "../../harness/lifecycle.js";
import { sleep } from "../../common/wait.js";
import { allPassed, check, type Check } from "../../harness/check.js";
import { writeResultFiles } from "../../harness/results.js";
import type { AnalyticsMetrics, LoadResult } from "./client.js";
import { withPartC } from "./implementation.js";

/** One reading of one counter; each has its own time, since the services answer at their own pace. */
export interface LoadSample {
  t_s: number;
  series: "acknowledged by Kafka" | "orders counted by analytics" | "inventory answers counted by analytics";
  value: number;
}

export interface LoadExperimentResult {
  count: number;
  produce: LoadResult;
  /** From the start of the load test until analytics had counted every order / every answer. */
  orders_seen_after_s: number | null;
  answers_seen_after_s: number | null;
  before: AnalyticsMetrics;
  after: AnalyticsMetrics;
  samples: LoadSample[];
  report: { json: string; markdown: string };
  checks: Check[];
  passed: boolean;
}

export interface LoadExperimentOptions extends LabOptions {
  count: number;
  timeoutMs?: number;
  onSample?: (s: LoadSample) => void;
}

export async function runLoadExperiment(opts: LoadExperimentOptions): Promise<LoadExperimentResult> {
  return withPartC(opts, async (impl) => {
    const before = await impl.waitForQuiet();
    const producedBefore = (await impl.stats("producer")).produced as number;
    const samples: LoadSample[] = [];
    const t0 = performance.now();
    const elapsed = () => Math.round(performance.now() - t0) / 1000;
    const record = (series: LoadSample["series"], value: number) => {
      const sample = { t_s: elapsed(), series, value };
      samples.push(sample);
      opts.onSample?.(sample);
      return sample;
    };
    let ordersAt: number | null = null;
    let answersAt: number | null = null;
    let produce: LoadResult | undefined;
    let failure: Error | undefined;
    const loading = impl.loadTest(opts.count).then(
      (r) => void (produce = r),
      (err) => void (failure = err),
    );

    const deadline = Date.now() + (opts.timeoutMs ?? 300_000);
    let after = before;
    const watchProducer = (async () => {
      while (!produce && !failure) {
        record("acknowledged by Kafka", ((await impl.stats("producer")).produced as number) - producedBefore);
        await sleep(100);
      }
      record("acknowledged by Kafka", produce?.produced ?? 0);
    })();
    for (;;) {
      after = await impl.metrics();
      const orders = record("orders counted by analytics", after.total_orders - before.total_orders);
      const answers = record(
        "inventory answers counted by analytics",
        after.total_reservations - before.total_reservations,
      );
      if (ordersAt === null && orders.value >= opts.count) ordersAt = orders.t_s;
      if (answersAt === null && answers.value >= opts.count) answersAt = answers.t_s;
      if (failure) throw failure;
      if ((produce && ordersAt !== null && answersAt !== null) || Date.now() > deadline) break;
      await sleep(100);
    }
    await watchProducer;
    await loading;
    if (!produce) throw failure ?? new Error("the load test did not answer");
    const report = (await impl.report("load")).files;
    const checks = checkLoad(opts.count, produce, before, after, ordersAt, answersAt);
    return {
      count: opts.count,
      produce,
      orders_seen_after_s: ordersAt,
      answers_seen_after_s: answersAt,
      before,
      after,
      samples,
      report,
      checks,
      passed: allPassed(checks),
    };
  });
}

function checkLoad(
  count: number,
  produce: LoadResult,
  before: AnalyticsMetrics,
  after: AnalyticsMetrics,
  ordersAt: number | null,
  answersAt: number | null,
): Check[] {
  const orders = after.total_orders - before.total_orders;
  const answers = after.total_reservations - before.total_reservations;
  return [
    check(
      `the producer reports ${count} events acknowledged`,
      produce.produced === count,
      `produced ${produce.produced} in ${(produce.elapsed_ms / 1000).toFixed(2)} s`,
    ),
    check(
      "analytics counted every new order",
      orders >= count && ordersAt !== null,
      `+${orders} orders${ordersAt === null ? " (timed out)" : ` after ${ordersAt.toFixed(2)} s`}`,
    ),
    check(
      "inventory answered every order (reserved or failed), each counted once",
      answers >= count && answersAt !== null,
      `+${answers} answers${answersAt === null ? " (timed out)" : ` after ${answersAt.toFixed(2)} s`}`,
    ),
    check(
      "no order counted twice: total_reservations = total_orders",
      after.total_reservations === after.total_orders,
      `${after.total_reservations} answers for ${after.total_orders} orders (duplicates skipped: ${after.duplicates_skipped})`,
    ),
  ];
}

export function loadTable(r: LoadExperimentResult): Row[] {
  return [
    { measure: "events produced (acknowledged)", value: r.produce.produced },
    { measure: "batches × size", value: `${r.produce.batches} × ${r.produce.batch_size}` },
    { measure: "produce time (s)", value: (r.produce.elapsed_ms / 1000).toFixed(2) },
    { measure: "producer throughput (events/s)", value: r.produce.events_per_s },
    { measure: "analytics has counted every order after (s)", value: r.orders_seen_after_s?.toFixed(2) ?? "timed out" },
    {
      measure: "analytics has counted every inventory answer after (s)",
      value: r.answers_seen_after_s?.toFixed(2) ?? "timed out",
    },
    {
      measure: "total orders / answers / failure rate",
      value: `${r.after.total_orders} / ${r.after.total_reservations} / ${(r.after.failure_rate * 100).toFixed(2)} %`,
    },
  ];
}

export const loadPlot = (r: LoadExperimentResult) =>
  timeSeriesSpec({
    rows: r.samples,
    title: `Part C — ${r.count} events through the log`,
    yTitle: "events",
  });

/** load.json, load-samples.csv, load.svg and summary.md in results/partC/load/. */
export function writeLoadResults(r: LoadExperimentResult, dir = resultsDir("partC", "load")): Promise<string[]> {
  const { samples, ...rest } = r;
  return writeResultFiles(dir, {
    data: { "load.json": JSON.stringify(rest, null, 2) + "\n", "load-samples.csv": toCsv(samples as unknown as Row[]) },
    plots: { "load.svg": loadPlot(r) },
    summary: {
      title: `Part C — load test: ${r.count} events`,
      sections: [
        markdownTable(loadTable(r)),
        "The producer answers once Kafka has acknowledged every event (acks from all in-sync replicas). " +
          "Analytics counts orders from `orders` and answers from `inventory-events`; the gap between the curves is the pipeline's delay.",
        `Analytics metrics report: \`${r.report.markdown}\`.`,
      ],
      checks: r.checks,
    },
  });
}
