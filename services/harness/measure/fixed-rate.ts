// Load at a fixed rate, with coordinated omission corrected: each request has an intended start
// time on the schedule, and its latency is measured from that time, not from when it was sent.
// A stall therefore shows up in the percentiles for every request it delayed, as a user would
// feel it, instead of silently lowering the request rate.
import { LatencyRecorder, type Percentiles } from "./histogram.js";

export interface FixedRateOptions {
  /** Requests per second, over all connections. */
  rate: number;
  /** How many requests; Infinity: until `stop()` of startFixedRateLoad. */
  count: number;
  /**
   * Concurrent senders; each takes the next slot of the shared schedule. Absent: no limit, each
   * request leaves at its time whatever is still in flight (a hung request never delays another).
   */
  connections?: number;
  /** `intendedMs`: the request's slot on the schedule, in ms since the load started. */
  send: (i: number, intendedMs: number) => Promise<boolean>;
  onProgress?: (done: number) => void;
}

export interface FixedRateResult extends Percentiles {
  rate: number;
  achieved_rate: number;
  errors: number;
  seconds: number;
}

export interface RunningLoad {
  /** Milliseconds since the load started (for a timeline). */
  now: () => number;
  /** Send no more; `done` resolves once the requests in flight are answered. */
  stop: () => void;
  done: Promise<FixedRateResult>;
}

export function startFixedRateLoad(opts: FixedRateOptions): RunningLoad {
  const recorder = new LatencyRecorder();
  const interval = 1000 / opts.rate;
  const start = performance.now() + 10;
  let next = 0;
  let errors = 0;
  let done = 0;
  let stopped = false;
  const progressEvery = Number.isFinite(opts.count) ? Math.max(1, Math.floor(opts.count / 10)) : Infinity;
  const one = async (i: number, intended: number) => {
    const ok = await opts.send(i, intended - start).catch(() => false);
    recorder.recordMs(performance.now() - intended);
    if (!ok) errors++;
    if (++done % progressEvery === 0) opts.onProgress?.(done);
  };
  const untilSlot = async (intended: number) => {
    const wait = intended - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  };
  const sender = async () => {
    for (let i = next++; i < opts.count && !stopped; i = next++) {
      const intended = start + i * interval;
      await untilSlot(intended);
      if (stopped) break;
      await one(i, intended);
    }
  };
  const open = async () => {
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; i < opts.count && !stopped; i++) {
      const intended = start + i * interval;
      await untilSlot(intended);
      if (stopped) break;
      const p = one(i, intended);
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
    await Promise.all([...inFlight]);
  };
  const finished = (
    opts.connections === undefined ? open() : Promise.all(Array.from({ length: opts.connections }, sender))
  ).then((): FixedRateResult => {
    const seconds = (performance.now() - start) / 1000;
    return {
      ...recorder.percentiles(),
      rate: opts.rate,
      achieved_rate: Math.round(done / seconds),
      errors,
      seconds: Math.round(seconds * 100) / 100,
    };
  });
  return {
    now: () => Math.max(0, Math.round(performance.now() - start)),
    stop: () => void (stopped = true),
    done: finished,
  };
}

export const fixedRateLoad = (opts: FixedRateOptions): Promise<FixedRateResult> => startFixedRateLoad(opts).done;
