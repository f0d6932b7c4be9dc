// Running a benchmark and writing what it found: results/bench/<name>.json per run, then the
// plots and README.md over the latest run of every benchmark. lab-scripts/bench.mjs gives each
// a lab folder of its own.
import path from "node:path";
import { resultsDir } from "../common/paths.js";
import { benchRows, lessons, readBenchRuns, writeBenchReadme, writeBenchRun } from "../harness/show/bench-report.js";
import type { BenchOptions, BenchResult, BenchRun } from "../harness/show/bench-report.js";
import { writeSvg } from "../harness/show/plots.js";
import { benchPartA } from "../partA-sync-rest/bench/bench.js";
import { benchPartB } from "../partB-rabbitmq/bench/bench.js";
import { benchPartC } from "../partC-kafka/bench/bench.js";
import { benchMemorySpec, benchRatioSpec } from "./plots.js";

export const BENCHES: Record<string, (opts: BenchOptions) => Promise<BenchResult>> = {
  partA: benchPartA,
  partB: benchPartB,
  partC: benchPartC,
};

/** One benchmark on `opts.home`, written to results/bench/<name>.json with the machine it ran on. */
export const runBenchmark = async (name: string, opts: BenchOptions): Promise<BenchRun> =>
  writeBenchRun(name, opts.quick, await BENCHES[name](opts));

/** The pictures beside README.md, each from every figure of the latest runs. */
const PLOTS = { "ratios.svg": benchRatioSpec, "memory.svg": benchMemorySpec };

/** README.md and the plots over the latest run of every benchmark; the files written. */
export async function writeBenchSummary(dir = resultsDir("bench")): Promise<string[]> {
  const runs = readBenchRuns(dir);
  const rows = benchRows(runs);
  const plots = Object.entries(PLOTS).map(([file, spec]) => writeSvg(spec(rows), path.join(dir, file)));
  return [writeBenchReadme(runs, lessons(runs), dir), ...(await Promise.all(plots))];
}
