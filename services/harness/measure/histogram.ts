// Latency percentiles from an HDR histogram: exact to 3 significant digits over any range,
// and cheap enough to record every request of a run.
import * as hdr from "hdr-histogram-js";

export interface Percentiles {
  count: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  p999_ms: number;
  max_ms: number;
  mean_ms: number;
}

/** Records microseconds; reports milliseconds. */
export class LatencyRecorder {
  private readonly h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
  });

  recordMs(ms: number): void {
    this.h.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  percentiles(): Percentiles {
    const at = (p: number) => round(this.h.getValueAtPercentile(p) / 1000);
    return {
      count: this.h.totalCount,
      p50_ms: at(50),
      p90_ms: at(90),
      p99_ms: at(99),
      p999_ms: at(99.9),
      max_ms: round(this.h.maxValue / 1000),
      mean_ms: round(this.h.mean / 1000),
    };
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;
