// The analytics metrics report (the assignment's "metrics file or printed report"): the same
// numbers as GET /metrics, as JSON for programs and as a short markdown page for people.
import fs from "node:fs";
import path from "node:path";
import { markdownTable } from "../common/table.js";
import type { Metrics } from "./metrics.js";

export function metricsMarkdown(metrics: Metrics, title = "Analytics metrics report"): string {
  const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
  const summary = [
    { metric: "total orders", value: metrics.total_orders },
    { metric: "total reservations (reserved + failed)", value: metrics.total_reservations },
    { metric: "reserved", value: metrics.reserved },
    { metric: "failed reservations", value: metrics.failed_reservations },
    { metric: "failure rate", value: pct(metrics.failure_rate) },
    { metric: "average orders per minute (minutes with orders)", value: metrics.average_orders_per_minute.toFixed(2) },
    { metric: "first / last order", value: `${metrics.first_order_at ?? "-"} / ${metrics.last_order_at ?? "-"}` },
    {
      metric: "duplicates skipped / unreadable skipped",
      value: `${metrics.duplicates_skipped} / ${metrics.unreadable_skipped}`,
    },
  ];
  const minutes = Object.entries(metrics.orders_per_minute).map(([minute, orders]) => ({
    "minute (UTC)": minute,
    orders,
  }));
  return [
    `# ${title}`,
    "",
    "Computed from the events' own timestamps; an eventId is counted once.",
    "",
    markdownTable(summary),
    "",
    "## Orders by minute",
    "",
    minutes.length ? markdownTable(minutes) : "(no orders)",
    "",
  ].join("\n");
}

/** Write `metrics-<label>-<time>.json` and `.md` into `dir`; returns both paths. */
export function writeMetricsReport(
  metrics: Metrics,
  dir: string,
  label = "report",
): { json: string; markdown: string } {
  fs.mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const base = path.join(dir, `metrics-${label.replace(/[^\w-]/g, "_")}-${stamp}`);
  fs.writeFileSync(`${base}.json`, JSON.stringify(metrics, null, 2) + "\n");
  fs.writeFileSync(`${base}.md`, metricsMarkdown(metrics));
  return { json: `${base}.json`, markdown: `${base}.md` };
}
