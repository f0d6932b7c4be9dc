// Latency statistics the way the seed report tabulates them, plus p99.
import { max, mean, median, min, quantileSorted } from "simple-statistics";

export interface LatencySummary {
  n: number;
  min: number;
  mean: number;
  median: number;
  p95: number;
  p99: number;
  max: number;
}

export function summarize(values: number[]): LatencySummary {
  if (values.length === 0) return { n: 0, min: NaN, mean: NaN, median: NaN, p95: NaN, p99: NaN, max: NaN };
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: values.length,
    min: min(sorted),
    mean: mean(sorted),
    median: median(sorted),
    p95: quantileSorted(sorted, 0.95),
    p99: quantileSorted(sorted, 0.99),
    max: max(sorted),
  };
}
