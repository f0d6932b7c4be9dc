// The harness: its lifecycle rule (an experiment starts what of a part is missing, brokers
// included, and stops exactly what it started — never what the student had running), its one
// check type and its one result-file helper.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { BROKERS, isolatedBrokerEnv, useEnv } from "../harness/run/brokers/index.js";
import { down, openPart, processName, up, usePart } from "../harness/run/lifecycle.js";
import { isAlive, readRecord } from "../harness/run/processes.js";
import { check, checksRows, summaryMarkdown } from "../harness/judge/check.js";
import { ResultFiles, writeResultFiles } from "../harness/show/results.js";
import { freePortsFor } from "./support.js";

let home: string;
let restoreEnv: () => void;
let ports: Record<string, number>;

before(async () => {
  const env = await isolatedBrokerEnv("harness-test");
  home = env.LAB_HOME;
  restoreEnv = useEnv({ ...env, LAB_BROKER_MODE: "native" });
  ports = await freePortsFor("partB");
});

after(async () => {
  await down("partB", { home });
  restoreEnv();
  fs.rmSync(home, { recursive: true, force: true });
});

const alive = (service: string) => {
  const r = readRecord(processName("partB", service), home);
  return r !== undefined && isAlive(r.pid);
};
const brokerRunning = async () => (await BROKERS.rabbitmq.status({ home })).running;

test("openPart on nothing: starts the broker and every service, and close stops them all", async () => {
  const open = await openPart("partB", { home, ports });
  assert.deepEqual(open.running.started.brokers, ["rabbitmq"]);
  assert.deepEqual([...open.running.started.services].sort(), ["inventory", "notification", "order"]);
  assert.ok(await brokerRunning());
  await open.close();
  for (const s of ["inventory", "notification", "order"]) assert.equal(alive(s), false, `${s} stopped`);
  assert.equal(await brokerRunning(), false, "the broker it started is stopped");
});

test("usePart with the broker and one service already up: starts the rest, stops only those", async () => {
  const mine = await up("partB", { home, ports });
  await down("partB", { home, only: ["notification", "order"] });
  assert.deepEqual(mine.started.brokers, ["rabbitmq"]);
  const started = await usePart("partB", { home, ports }, async (running) => {
    assert.deepEqual(running.started.brokers, []);
    return [...running.started.services].sort();
  });
  assert.deepEqual(started, ["notification", "order"]);
  assert.ok(alive("inventory"), "the service that was running still runs");
  assert.equal(alive("order"), false);
  assert.ok(await brokerRunning(), "the broker that was running still runs");
});

test("one check type: rows with the scenario only where checks have one, and summary.md ending with the verdict", () => {
  const plain = [check("a held", true, "1/1"), check("b broke", false, "0/1")];
  assert.deepEqual(checksRows(plain)[1], { verdict: "✖", check: "b broke", observed: "0/1" });
  assert.deepEqual(checksRows([{ ...plain[0], scenario: "A healthy" }])[0], {
    verdict: "✔",
    scenario: "A healthy",
    check: "a held",
    observed: "1/1",
  });
  const md = summaryMarkdown(
    "Title",
    ["a paragraph", { heading: "Figures", rows: [{ figure: "x", value: 1 }] }],
    plain,
  );
  assert.match(md, /^# Title\n\na paragraph\n\n## Figures\n\n\| figure \| value \|/);
  assert.match(md, /## Checker: FAIL\n\n\| verdict \| check +\| observed +\|/);
});

test("one result-file helper: data, plots and summary.md in the experiment's folder, each file listed", async () => {
  const dir = path.join(home, "results-test");
  const files = await writeResultFiles(dir, {
    data: { "rows.csv": "a,b\n1,2\n" },
    plots: {
      "plot.svg": {
        $schema: "https://vega.github.io/schema/vega-lite/v5.json",
        data: { values: [{ x: 1, y: 2 }] },
        mark: "point",
        encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } },
      },
    },
    summary: { title: "T", sections: [], checks: [check("ok", true, "yes")] },
  });
  assert.deepEqual(
    files.map((f) => path.basename(f)),
    ["rows.csv", "plot.svg", "summary.md"],
  );
  for (const f of files) assert.ok(fs.statSync(f).size > 0, f);
  assert.match(fs.readFileSync(path.join(dir, "summary.md"), "utf8"), /## Checker: PASS/);
  const more = ResultFiles.for("partX", "exp", path.join(dir, "more"));
  more.write("sub/x.txt", "x");
  assert.deepEqual(more.files, [path.join(dir, "more", "sub", "x.txt")]);
});
