// A benchmark as a list of measures run in order on one stack: each says what it measures,
// measures it (and its baseline) into the run's record, and says what it found; the figures are
// read off the record at the end. Each part's bench declares its stack, measures and figures;
// this runs them, samples the services' peak memory after every measure, and stops the stack.
import { memoryFigures, type BenchOptions, type BenchResult, type Figure } from "../show/bench-report.js";
import { CpuMeter, type PeakMemory } from "./machine.js";

/** One measurement: the progress line before it, then the work, which answers what it found. */
export interface Measure<S, M> {
  says: (s: S, m: M) => string;
  run: (s: S, m: M) => Promise<string>;
}

/** What a benchmark runs on: its size, the services whose peak memory counts, how to stop it. */
export interface BenchStack<Size> {
  size: Size;
  memory: PeakMemory;
  /** The services as they run now (a restarted one is a new process). */
  services(): Record<string, { pid: number }>;
  /** What it ran, for the machine table (the broker's version). */
  versions?: Record<string, string>;
  close(): Promise<void>;
}

/** The record of a run, written as its details: each measure fills its fields. */
export interface BenchRecord {
  /** Peak memory of each service under the figures' loads; all the run's when no measure sets it. */
  peak_rss_mb?: Record<string, number>;
}

export interface Bench<Size, S extends BenchStack<Size>, M extends BenchRecord> {
  part: "A" | "B" | "C";
  sizes: { quick: Size; full: Size };
  open(opts: BenchOptions, size: Size): Promise<S>;
  /** In order: a measure may read what an earlier one put in the record. */
  measures: Measure<S, M>[];
  /** The figures beside their baselines, read off the record once every measure has run. */
  figures(m: M, s: S): Figure[];
  /** What the details hold beside the record. */
  details?(m: M, s: S): Record<string, unknown>;
}

/** Open the stack, run every measure, and hand back the figures (each service's memory too) and the record. */
export async function runBench<Size, S extends BenchStack<Size>, M extends BenchRecord>(
  bench: Bench<Size, S, M>,
  opts: BenchOptions,
): Promise<BenchResult> {
  const s = await bench.open(opts, opts.quick ? bench.sizes.quick : bench.sizes.full);
  const m = {} as M; // filled measure by measure
  try {
    for (const measure of bench.measures) {
      opts.log(measure.says(s, m));
      opts.log(`  ${await measure.run(s, m)}`);
      s.memory.sample(s.services());
    }
    const peaks = (m.peak_rss_mb ??= s.memory.byRole());
    const memory = memoryFigures(bench.part, peaks, "under the loads above");
    return {
      figures: [...bench.figures(m, s), ...memory],
      details: { ...m, ...bench.details?.(m, s) },
      versions: s.versions,
    };
  } finally {
    s.memory.sample(s.services());
    await s.close();
  }
}

type Processes = ConstructorParameters<typeof CpuMeter>[0];

/** `work`, and the CPU each of `processes` (and this one, "client") spent on it per unit of work done. */
export async function metered<T>(
  processes: Processes,
  work: () => Promise<T>,
  units: number | ((result: T) => number),
): Promise<[T, Record<string, number>]> {
  const meter = new CpuMeter(processes).start();
  const result = await work();
  return [result, meter.perUnit(typeof units === "number" ? units : units(result))];
}

/** A broker's process group, for the CPU meter (none when its pid is unknown). */
export const brokerGroup = (id: string, pid: number | undefined): Processes =>
  pid ? { [id]: { pid, group: true } } : {};

export const round2 = (x: number): number => Math.round(x * 100) / 100;
/** 10,000 */
export const n = (x: number): string => x.toLocaleString("en-US");
