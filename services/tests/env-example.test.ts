// .env.example cannot drift: every setting a service's config schema declares, and every
// variable the lab reads from process.env, is listed there, with the code's default.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { projectRoot } from "../common/paths.js";
import { PARTS, type PartId } from "../harness/run/parts.js";

const sourceRoot = path.join(projectRoot, "services");
/** Read from the environment, but not settings: the shell's own. */
const NOT_SETTINGS = new Set(["PATH", "HOME", "USER"]);

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith(".ts") ? [p] : [];
  });
}

/** name → the literal defaults found for it (a schema's `default: 42` or `default: "x"`). */
function settingsInCode(): Map<string, { files: Set<string>; defaults: Set<string> }> {
  const found = new Map<string, { files: Set<string>; defaults: Set<string> }>();
  const add = (name: string, file: string, dflt?: string) => {
    if (NOT_SETTINGS.has(name)) return;
    const entry = found.get(name) ?? { files: new Set(), defaults: new Set() };
    entry.files.add(path.relative(projectRoot, file));
    if (dflt !== undefined) entry.defaults.add(dflt);
    found.set(name, entry);
  };
  for (const file of [
    ...sources(sourceRoot),
    ...fs
      .readdirSync(path.join(projectRoot, "lab-scripts"))
      .filter((f) => f.endsWith(".mjs"))
      .map((f) => path.join(projectRoot, "lab-scripts", f)),
  ]) {
    const text = fs.readFileSync(file, "utf8");
    // The tests read a few variables themselves (CI), but declare no schemas of their own.
    if (file.includes(`${path.sep}tests${path.sep}`) && !/process\.env\.CI\b/.test(text)) continue;
    // A config schema's entry: `  NAME: Type.Integer({ default: 3000, ... })`.
    for (const m of text.matchAll(/^\s*([A-Z][A-Z0-9_]+): Type\.\w+\((.*)$/gm)) {
      const literal = /default: (-?[\d_.]+|"[^"]*")\s*[,}]/.exec(m[2])?.[1];
      add(
        m[1],
        file,
        literal === undefined
          ? undefined
          : literal.startsWith('"')
            ? JSON.parse(literal)
            : String(Number(literal.replaceAll("_", ""))),
      );
    }
    for (const m of text.matchAll(
      /process\.env\.([A-Z][A-Z0-9_]+)|process\.env\["([A-Z][A-Z0-9_]+)"\]|envPort\("([A-Z][A-Z0-9_]+)", (\d+)?/g,
    )) {
      add(m[1] ?? m[2] ?? m[3], file, m[4]);
    }
  }
  // Ports per part and service: PART<X>_<NAME>_PORT (parts.ts builds the name).
  for (const part of Object.keys(PARTS) as PartId[]) {
    for (const [name, port] of Object.entries(PARTS[part].defaultPorts))
      add(`${part.toUpperCase()}_${name.toUpperCase()}_PORT`, "services/harness/run/parts.ts", String(port));
  }
  return found;
}

/** name → values shown in .env.example (`NAME=value` or `# NAME=value`). */
function settingsInExample(): Map<string, Set<string>> {
  const listed = new Map<string, Set<string>>();
  for (const line of fs.readFileSync(path.join(projectRoot, ".env.example"), "utf8").split("\n")) {
    const m = /^#? ?([A-Z][A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    const values = listed.get(m[1]) ?? new Set<string>();
    values.add(m[2].trim());
    listed.set(m[1], values);
  }
  return listed;
}

describe(".env.example", () => {
  test("the scan finds the settings it should (the test itself works)", () => {
    const code = settingsInCode();
    for (const name of [
      "PORT",
      "HOST",
      "INVENTORY_TIMEOUT_MS",
      "AMQP_URL",
      "PREFETCH",
      "KAFKA_BROKERS",
      "CONSUMER_THROTTLE_MS",
      "LAB_HOME",
      "RABBITMQ_PORT",
      "PARTB_ORDER_PORT",
    ]) {
      assert.ok(code.has(name), name);
    }
    assert.ok(code.size >= 50, `${code.size} settings found`);
  });

  test("lists every setting the services and the lab read", () => {
    const listed = settingsInExample();
    const missing = [...settingsInCode()]
      .filter(([name]) => !listed.has(name))
      .map(([name, e]) => `${name} (${[...e.files].join(", ")})`);
    assert.deepEqual(
      missing,
      [],
      `add these to .env.example with their default and what they do:\n  ${missing.join("\n  ")}`,
    );
  });

  test("shows the code's default where the code has a literal one", () => {
    const listed = settingsInExample();
    const wrong: string[] = [];
    for (const [name, e] of settingsInCode()) {
      // Every service has its own PORT; PART<X>_<NAME>_PORT lines show each default.
      if (name === "PORT") continue;
      for (const dflt of e.defaults)
        if (listed.has(name) && !listed.get(name)!.has(dflt))
          wrong.push(`${name}: code ${dflt}, .env.example ${[...listed.get(name)!].join(" / ")}`);
    }
    assert.deepEqual(wrong, []);
  });

  test("lists nothing the code no longer reads", () => {
    const code = settingsInCode();
    const stale = [...settingsInExample().keys()].filter((name) => !code.has(name));
    assert.deepEqual(stale, []);
  });
});
