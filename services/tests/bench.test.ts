// The benchmarks as a smoke test: `npm run bench -- --quick` runs every benchmark beside its
// baseline and writes its results. No timing is asserted (the machine decides those); what is
// checked is that every figure is there with a real number, the README is written, and nothing
// the benchmark started is left running.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { projectRoot } from "../common/paths.js";
import { readBenchRuns } from "../harness/show/bench-report.js";

const run = promisify(execFile);

const EXPECTED = {
  partA: [
    "A.latency.p50",
    "A.latency.p99",
    "A.throughput",
    "A.memory.order",
    "A.memory.inventory",
    "A.memory.notification",
  ],
  partB: ["B.throughput", "B.accept.p99", "B.drain", "B.memory.order", "B.memory.inventory", "B.memory.notification"],
  partC: ["C.load", "C.catchup", "C.replay", "C.memory.producer", "C.memory.inventory", "C.memory.analytics"],
};

/** Processes whose command line or environment names this folder. */
function processesUsing(folder: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
      const env = fs.readFileSync(`/proc/${pid}/environ`, "utf8");
      if (cmd.includes(folder) || env.includes(folder)) found.push(`${pid} ${cmd.replace(/\0/g, " ").slice(0, 120)}`);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

test(
  "npm run bench -- --quick: every figure beside its baseline, the README, nothing left running",
  { timeout: 15 * 60_000 },
  async () => {
    const results = fs.mkdtempSync(path.join(os.tmpdir(), "bench-results-"));
    try {
      const zx = path.join(projectRoot, "node_modules", "zx", "build", "cli.js");
      const { stdout } = await run(process.execPath, [zx, "lab-scripts/bench.mjs", "--quick"], {
        cwd: projectRoot,
        env: { ...process.env, RESULTS_DIR: results, FORCE_COLOR: "0" },
        maxBuffer: 16 * 1024 * 1024,
        timeout: 14 * 60_000,
      });
      const home = /lab folder of this run \(brokers, services, logs\): (\S+)/.exec(stdout)?.[1];
      assert.ok(home, "the run names its lab folder");

      const runs = readBenchRuns(path.join(results, "bench"));
      assert.deepEqual(runs.map((r) => r.name).sort(), Object.keys(EXPECTED));
      for (const r of runs) {
        assert.equal(r.quick, true);
        assert.ok(r.machine.cores >= 1 && r.machine.node.startsWith("v"), `${r.name}: the machine is described`);
        const ids = r.figures.map((f) => f.id);
        assert.deepEqual(
          [...ids].sort(),
          [...EXPECTED[r.name as keyof typeof EXPECTED]].sort(),
          `${r.name}: its figures`,
        );
        for (const f of r.figures) {
          assert.ok(Number.isFinite(f.value) && f.value > 0, `${f.id}: value ${f.value}`);
          assert.equal(typeof f.met, "boolean", `${f.id}: met`);
          assert.ok(f.target.length > 0, `${f.id}: target`);
          if (f.target.includes("× baseline"))
            assert.ok(f.targetRatio! > 0, `${f.id}: the target as a ratio, for the plot`);
          if (f.baseline) {
            assert.ok(
              Number.isFinite(f.baseline.value) && f.baseline.value > 0,
              `${f.id}: baseline ${f.baseline.value}`,
            );
            assert.ok(Number.isFinite(f.ratio) && f.ratio! > 0, `${f.id}: ratio ${f.ratio}`);
          }
        }
      }
      assert.ok(runs.find((r) => r.name === "partB")!.machine.rabbitmq, "the RabbitMQ version is recorded");
      assert.ok(runs.find((r) => r.name === "partC")!.machine.kafka, "the Kafka version is recorded");

      const readme = fs.readFileSync(path.join(results, "bench", "README.md"), "utf8");
      for (const r of runs) for (const f of r.figures) assert.ok(readme.includes(f.figure), `README lists ${f.id}`);
      assert.match(readme, /## Machine/);
      assert.match(readme, /## What the numbers teach\n\n- .+/);
      // The two pictures the README shows (and 04-compare plots): every figure with a baseline, every service's memory.
      const ratios = fs.readFileSync(path.join(results, "bench", "ratios.svg"), "utf8");
      for (const f of runs.flatMap((r) => r.figures).filter((x) => x.baseline))
        assert.ok(ratios.includes(`${f.part} · ${f.figure}`.slice(0, 40)), `ratios.svg shows ${f.id}`);
      const memory = fs.readFileSync(path.join(results, "bench", "memory.svg"), "utf8");
      for (const f of runs.flatMap((r) => r.figures).filter((x) => x.id.includes(".memory.")))
        assert.ok(memory.includes(`${f.part} ${f.id.split(".").pop()}`), `memory.svg shows ${f.id}`);

      assert.deepEqual(processesUsing(home), [], "every broker and service the benchmark started is stopped");
      assert.equal(fs.existsSync(home), false, "its lab folder is removed");
    } finally {
      fs.rmSync(results, { recursive: true, force: true });
    }
  },
);
