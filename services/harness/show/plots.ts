// vega-lite specs rendered to SVG in Node (no canvas, no browser): the same picture in a
// notebook cell, an exported HTML report (which drops vega-lite bundles) and results/.
import fs from "node:fs";
import path from "node:path";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

export type { TopLevelSpec };

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function writeSvg(spec: TopLevelSpec, file: string): Promise<string> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, await renderSvg(spec));
  return file;
}

export const specBase = {
  $schema: "https://vega.github.io/schema/vega-lite/v5.json",
  background: "white",
  config: { font: "sans-serif" },
} as const;

/** Latency per scenario: a strip of every request over a box plot, so outliers stay visible. */
export function latencyDistributionSpec(
  rows: { scenario: string; latency_ms: number; ok: boolean }[],
  title: string,
): TopLevelSpec {
  return {
    ...specBase,
    title,
    data: { values: rows },
    width: 520,
    height: { step: 46 },
    layer: [
      {
        mark: { type: "boxplot", extent: "min-max", opacity: 0.35, size: 26 },
        encoding: {
          y: { field: "scenario", type: "nominal", title: null },
          x: {
            field: "latency_ms",
            type: "quantitative",
            title: "latency (ms, log scale)",
            scale: { type: "log" },
            axis: { values: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 60000], format: "~s" },
          },
        },
      },
      {
        mark: { type: "tick", thickness: 2, size: 22 },
        encoding: {
          y: { field: "scenario", type: "nominal" },
          x: { field: "latency_ms", type: "quantitative" },
          color: {
            field: "ok",
            type: "nominal",
            title: "succeeded",
            scale: { domain: [true, false], range: ["#1f77b4", "#d62728"] },
          },
        },
      },
    ],
  };
}

/** One or more series over time, with optional shaded intervals (an outage, a throttled phase). */
export function timeSeriesSpec(opts: {
  rows: { t_s: number; value: number; series: string }[];
  title: string;
  yTitle: string;
  marks?: { from_s: number; to_s: number; label: string }[];
  /** Instants (a message published, a restart): a vertical rule each, labels stacked from the top. */
  events?: { t_s: number; label: string }[];
}): TopLevelSpec {
  const layers: any[] = [];
  if (opts.events?.length) {
    const events = opts.events.map((e, i) => ({ ...e, y_px: 4 + 13 * i }));
    layers.push(
      {
        data: { values: events },
        mark: { type: "rule", color: "#6a51a3", strokeDash: [4, 3] },
        encoding: { x: { field: "t_s", type: "quantitative" } },
      },
      {
        data: { values: events },
        mark: { type: "text", align: "left", dx: 3, baseline: "top", color: "#6a51a3" },
        encoding: {
          x: { field: "t_s", type: "quantitative" },
          y: { field: "y_px", type: "quantitative", scale: null },
          text: { field: "label" },
        },
      },
    );
  }
  if (opts.marks?.length) {
    layers.push(
      {
        data: { values: opts.marks },
        mark: { type: "rect", color: "#f4a582", opacity: 0.3 },
        encoding: { x: { field: "from_s", type: "quantitative" }, x2: { field: "to_s" } },
      },
      {
        data: { values: opts.marks },
        mark: { type: "text", align: "left", dx: 4, dy: 8, baseline: "top", color: "#b2182b" },
        encoding: { x: { field: "from_s", type: "quantitative" }, y: { value: 0 }, text: { field: "label" } },
      },
    );
  }
  layers.push({
    data: { values: opts.rows },
    mark: { type: "line", interpolate: "step-after" },
    encoding: {
      x: { field: "t_s", type: "quantitative", title: "time (s)" },
      y: { field: "value", type: "quantitative", title: opts.yTitle },
      color: { field: "series", type: "nominal", title: null, legend: { labelLimit: 360 } },
    },
  });
  return { ...specBase, title: opts.title, width: 560, height: 240, layer: layers };
}

/** Grouped bars: e.g. metrics before and after a replay, or one figure across the three models. */
export function groupedBarSpec(
  rows: { group: string; series: string; value: number }[],
  title: string,
  yTitle: string,
): TopLevelSpec {
  return {
    ...specBase,
    title,
    data: { values: rows },
    width: { step: 28 },
    height: 220,
    mark: "bar",
    encoding: {
      x: { field: "group", type: "nominal", title: null },
      xOffset: { field: "series" },
      y: { field: "value", type: "quantitative", title: yTitle },
      color: { field: "series", type: "nominal", title: null },
    },
  };
}

/** A histogram of one set of values (e.g. the latencies of one scenario). */
export function histogramSpec(values: number[], title: string, xTitle: string): TopLevelSpec {
  return {
    ...specBase,
    title,
    data: { values: values.map((v) => ({ v })) },
    width: 480,
    height: 200,
    mark: { type: "bar", color: "#1f77b4" },
    encoding: {
      x: { field: "v", type: "quantitative", bin: { maxbins: 30 }, title: xTitle },
      y: { aggregate: "count", type: "quantitative", title: "requests", axis: { tickMinStep: 1, format: "d" } },
    },
  };
}
