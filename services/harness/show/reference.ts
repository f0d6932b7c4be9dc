// A reference run kept with the docs: `run-lab.mjs --reference` copies what the run wrote (each
// experiment's summary.md and plots) to docs/reference/, and says under which conditions it ran:
// date, machine, versions, load. The chapters link to these files instead of quoting numbers, so
// every figure a reader sees was measured by the run it comes with.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { projectRoot, resultsDir } from "../../common/paths.js";
import { markdownTable } from "../../common/table.js";
import { machineInfo } from "../measure/machine.js";
import { KAFKA_VERSION, type BrokerStatus } from "../run/brokers/index.js";
import { rabbitVersion } from "../run/brokers/rabbitmq.js";
import { runState, type NotebookRun } from "./report-pages.js";

export const referenceDir = (): string => path.join(projectRoot, "docs", "reference");

export interface ReferenceRun {
  /** quick | full */
  mode: string;
  /** When the run started (ms since the epoch): only files written since are the run's. */
  started: number;
  /** The 1-minute load average when it started: other work on the machine shows in the figures. */
  loadAtStart: number;
  runs: NotebookRun[];
  /** The lab's brokers as they ran, read before they are stopped. */
  brokers: BrokerStatus[];
}

/** Results of other commands (the report's pages, targets, benchmarks, campaigns) are not the lab run's. */
const OTHER_COMMANDS = new Set(["reports", "targets", "bench", "faults", "safeguards"]);
const KEPT = /^summary\.md$|\.svg$/;

/** Copy the run's summaries and plots, write README.md beside them; answers the README's path. */
export async function writeReference(run: ReferenceRun, outDir = referenceDir()): Promise<string> {
  fs.rmSync(outDir, { recursive: true, force: true });
  const copied = copyWrittenSince(resultsDir(), outDir, run.started, OTHER_COMMANDS);
  const file = path.join(outDir, "README.md");
  fs.writeFileSync(file, await referenceReadme(run, copied));
  return file;
}

function copyWrittenSince(from: string, to: string, since: number, skip = new Set<string>()): string[] {
  const copied: string[] = [];
  for (const entry of fs.readdirSync(from, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const source = path.join(from, entry.name);
    if (entry.isDirectory() && !skip.has(entry.name)) {
      const inside = copyWrittenSince(source, path.join(to, entry.name), since);
      copied.push(...inside.map((f) => `${entry.name}/${f}`));
    } else if (entry.isFile() && KEPT.test(entry.name) && fs.statSync(source).mtimeMs >= since) {
      fs.mkdirSync(to, { recursive: true });
      fs.copyFileSync(source, path.join(to, entry.name));
      copied.push(entry.name);
    }
  }
  return copied;
}

async function brokerLine(b: BrokerStatus): Promise<string> {
  if (!b.running) return `${b.id}: not running at the end of the run`;
  const version =
    b.id === "rabbitmq" && b.ports?.management ? await rabbitVersion({ management: b.ports.management }) : "";
  const name = b.id === "kafka" ? `Kafka ${KAFKA_VERSION}` : `RabbitMQ ${version}`;
  return `${name} (${b.mode})`;
}

async function referenceReadme(run: ReferenceRun, copied: string[]): Promise<string> {
  const m = machineInfo();
  const conditions = [
    { "": "date", value: `${new Date(run.started).toISOString().slice(0, 16).replace("T", " ")} UTC` },
    { "": "command", value: `npx zx lab-scripts/run-lab.mjs --reference${run.mode === "quick" ? " --quick" : ""}` },
    { "": "took", value: `${Math.round((Date.now() - run.started) / 1000)} s` },
    { "": "machine", value: `${m.cores} cores (${m.cpu}), ${m.memory_gib} GiB, ${m.os}` },
    { "": "Node", value: m.node },
    { "": "brokers", value: (await Promise.all(run.brokers.map(brokerLine))).join("; ") },
    { "": "load average (1 min), start → end", value: `${run.loadAtStart.toFixed(2)} → ${os.loadavg()[0].toFixed(2)}` },
  ];
  const verdicts = run.runs.map((r) => ({ notebook: r.title, verdict: runState(r), seconds: Math.round(r.seconds) }));
  const summaries = copied.filter((f) => f.endsWith("summary.md")).map((f) => `- [${path.dirname(f)}](${f})`);
  return [
    "# A reference run of the lab",
    "",
    "Written by the lab itself at the end of the run below; run it again rather than edit it. Your",
    "figures will differ with your machine and its load; the verdicts should not.",
    "",
    markdownTable(conditions),
    "",
    "## Verdicts",
    "",
    markdownTable(verdicts),
    "",
    "## Each experiment's summary (its checks, figures and plots)",
    "",
    ...summaries,
    "",
  ].join("\n");
}
