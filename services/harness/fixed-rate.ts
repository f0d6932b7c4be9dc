// Load at a fixed rate, with coordinated omission corrected: each request has an intended start
// time on the schedule, and its latency is measured from that time, not from when it was sent.
// A stall therefore shows up in the percentiles for every request it delayed, as a user would
// feel it, instead of silently lowering the request rate.
import { LatencyRecorder, type Percentiles } from "./histogram.js";

export interface FixedRateOptions {
  /** Requests per second, over all connections. */
  rate: number;
  count: number;
  /** Concurrent senders; each takes the next slot of the shared schedule. */
  connections: number;
  send: (i: number) => Promise<boolean>;
  onProgress?: (done: number) => void;
}

export interface FixedRateResult extends Percentiles {
  rate: number;
  achieved_rate: number;
  errors: number;
  seconds: number;
}

export async function fixedRateLoad(opts: FixedRateOptions): Promise<FixedRateResult> {
  const recorder = new LatencyRecorder();
  const interval = 1000 / opts.rate;
  const start = performance.now() + 10;
  let next = 0;
  let errors = 0;
  let done = 0;
  const sender = async () => {
    for (let i = next++; i < opts.count; i = next++) {
      const intended = start + i * interval;
      const wait = intended - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const ok = await opts.send(i).catch(() => false);
      recorder.recordMs(performance.now() - intended);
      if (!ok) errors++;
      if (++done % Math.max(1, Math.floor(opts.count / 10)) === 0) opts.onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: opts.connections }, sender));
  const seconds = (performance.now() - start) / 1000;
  return { ...recorder.percentiles(), rate: opts.rate, achieved_rate: Math.round(opts.count / seconds), errors, seconds: Math.round(seconds * 100) / 100 };
}
