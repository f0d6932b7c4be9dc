// compose/ serves students who have Docker. No engine runs here, so the files are checked by what
// can run: `docker compose config` where the compose tool is installed (in CI always: the set-up
// builds it, and a missing tool fails there instead of skipping), and always the structure.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { distDir, projectRoot } from "../common/paths.js";
import { KAFKA_SERVICE_MEMORY, PARTS } from "../harness/run/parts.js";

const composeDir = path.join(projectRoot, "compose");
const files = fs.readdirSync(composeDir).filter((f) => f.endsWith(".yml"));
const read = (f: string) => YAML.parse(fs.readFileSync(path.join(composeDir, f), "utf8"), { merge: true });

const composeTool = (() => {
  try {
    execFileSync("docker", ["compose", "version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

const installIt = "`npx zx lab-scripts/setup.mjs --compose` builds and installs it";
for (const f of files) {
  const skip = composeTool || process.env.CI ? false : `the docker compose tool is not installed here (${installIt})`;
  test(`${f}: docker compose config accepts it`, { skip }, () => {
    assert.ok(composeTool, `the docker compose tool is missing: ${installIt}`);
    execFileSync("docker", ["compose", "-f", path.join(composeDir, f), "config", "-q"], { stdio: "pipe" });
  });
}

test("every lab service in compose runs a compiled entry point of this tree, published on loopback only", () => {
  for (const f of files.filter((f) => f !== "all.yml")) {
    for (const [name, svc] of Object.entries<any>(read(f).services ?? {})) {
      for (const p of svc.ports ?? [])
        assert.match(String(p), /^127\.0\.0\.1:/, `${f} ${name} publishes ${p} beyond localhost`);
      if (!svc.build) continue;
      assert.equal(svc.build.dockerfile, "compose/Dockerfile", `${f} ${name}`);
      const script = svc.command?.[1];
      assert.ok(script && fs.existsSync(path.join(distDir, "..", script)), `${f} ${name} runs ${script}`);
    }
  }
});

test("all.yml includes every part, and the service names do not collide", () => {
  const all = read("all.yml");
  assert.deepEqual([...all.include].sort(), ["async-rabbitmq.yml", "streaming-kafka.yml", "sync-rest.yml"]);
  const names = all.include.flatMap((f: string) => Object.keys(read(f).services));
  assert.equal(new Set(names).size, names.length, `duplicates in ${names.join(", ")}`);
});

test("sync-rest.yml runs Part A's entry points on the contract's ports", () => {
  const { services } = read("sync-rest.yml");
  for (const svc of PARTS.partA.services(PARTS.partA.defaultPorts)) {
    const c = services[`sync-${svc.name}`];
    assert.ok(c, `sync-${svc.name}`);
    assert.deepEqual(c.command, ["node", `dist/${svc.script}`]);
    assert.equal(c.environment.PORT, String(svc.port));
    assert.deepEqual(c.ports, [`127.0.0.1:${svc.port}:${svc.port}`]);
  }
  assert.equal(services["sync-order"].environment.INVENTORY_URL, "http://sync-inventory:8081");
});

test("streaming-kafka.yml runs Part C's entry points on their ports, with the lab's heap budget", () => {
  const { services } = read("streaming-kafka.yml");
  for (const svc of PARTS.partC.services(PARTS.partC.defaultPorts)) {
    const c = services[svc.name];
    assert.ok(c, svc.name);
    assert.deepEqual(c.command, ["node", `dist/${svc.script}`]);
    assert.equal(c.environment.PORT, String(svc.port));
    assert.equal(
      c.environment.NODE_OPTIONS,
      KAFKA_SERVICE_MEMORY.join(" "),
      `${svc.name}: the heap budget native mode uses`,
    );
  }
});
