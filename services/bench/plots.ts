// The benchmarks as pictures: how far each figure is from its baseline, and each service's
// peak memory against its limit. In 04-compare.ipynb and beside results/bench/README.md.
import { specBase, type TopLevelSpec } from "../harness/show/plots.js";
import type { benchRows } from "../harness/show/bench-report.js";

type BenchRow = ReturnType<typeof benchRows>[number];

/**
 * Every figure that has a baseline, as "× the baseline's cost": value / baseline when lower is
 * better (latency), baseline / value when higher is better (throughput). 1 is as good as the
 * baseline; the black tick is where the target lies on the same scale.
 */
export function benchRatioSpec(rows: BenchRow[]): TopLevelSpec {
  const values = rows
    .filter((r) => r.baseline !== null && r.value > 0)
    .map((r) => {
      const cost = r.better === "lower" ? r.value / r.baseline! : r.baseline! / r.value;
      const t = r.target_ratio;
      return {
        figure: `${r.part} · ${r.figure}`,
        cost: Number(cost.toPrecision(3)),
        target: t === null ? null : Number((r.better === "lower" ? t : 1 / t).toPrecision(3)),
        verdict: r.met ? "target met" : "target missed",
      };
    });
  const y = { field: "figure", type: "nominal", title: null, sort: null, axis: { labelLimit: 420 } };
  return {
    ...specBase,
    title: {
      text: "Each figure against its baseline in the same run",
      subtitle: "× the baseline's cost (1 = as good as the baseline; tick = the target)",
    },
    data: { values },
    width: 420,
    layer: [
      { mark: { type: "rule", color: "#999", strokeDash: [4, 3] }, encoding: { x: { datum: 1 } } },
      {
        mark: { type: "point", filled: true, size: 140, opacity: 1 },
        encoding: {
          y,
          x: {
            field: "cost",
            type: "quantitative",
            scale: { type: "log", domainMin: 0.8 },
            title: "× the baseline's cost (log)",
          },
          color: {
            field: "verdict",
            type: "nominal",
            scale: { domain: ["target met", "target missed"], range: ["#2ca02c", "#d62728"] },
            title: null,
          },
        },
      },
      {
        transform: [{ filter: "datum.target !== null" }],
        mark: { type: "tick", color: "black", thickness: 2, size: 18 },
        encoding: { y, x: { field: "target", type: "quantitative" } },
      },
      {
        mark: { type: "text", align: "left", dx: 9 },
        encoding: {
          y,
          x: { field: "cost", type: "quantitative" },
          text: { field: "cost", type: "quantitative", format: ".2~f" },
        },
      },
    ],
  } as TopLevelSpec;
}

/** Peak memory of every service under its part's loads, against the 200 MB limit. */
export function benchMemorySpec(rows: BenchRow[], limitMb = 200): TopLevelSpec {
  const values = rows
    .filter((r) => r.id.includes(".memory."))
    .map((r) => ({ part: `Part ${r.part}`, service: `${r.part} ${r.id.split(".").pop()}`, mb: r.value }));
  return {
    ...specBase,
    title: `Peak memory of each service under load (limit ${limitMb} MB)`,
    data: { values },
    width: { step: 28 },
    height: 200,
    layer: [
      {
        mark: "bar",
        encoding: {
          x: { field: "service", type: "nominal", title: null, sort: null, axis: { labelAngle: -40 } },
          y: { field: "mb", type: "quantitative", title: "MB", scale: { domainMax: limitMb * 1.1 } },
          color: { field: "part", type: "nominal", title: null },
        },
      },
      { mark: { type: "rule", color: "#d62728", strokeDash: [4, 3] }, encoding: { y: { datum: limitMb } } },
    ],
  };
}
