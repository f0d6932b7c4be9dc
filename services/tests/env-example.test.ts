// .env.example cannot drift: every setting a service's config schema declares, and every
// variable the lab reads from the environment — however it reads it (process.env.X,
// process.env["X"], a destructured process.env, an env parameter, an envPort("X", …) helper, a
// shell's ${X:-default}, Python's os.environ) and wherever (services, lab-scripts, .ci, compose
// files, notebooks) — is listed there, with the code's default.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { projectRoot } from "../common/paths.js";
import { PARTS, type PartId } from "../harness/run/parts.js";

/** Read from the environment, but not settings: the shell's own. */
const NOT_SETTINGS = new Set(["PATH", "HOME", "USER"]);

/** A variable read, and the literal default the reading code gives it, if any. */
interface Read {
  name: string;
  dflt?: string;
}

const NAME = "([A-Z][A-Z0-9_]*)";
const QUOTED = `\\\\?["'\`]${NAME}\\\\?["'\`]`; // "X", 'X', `X`, or \"X\" inside a notebook's JSON
/** The ways JavaScript, TypeScript and Python read a variable (a notebook's cells included). */
const CODE_READS = [
  // process.env.X, env.X, opts.env?.X: any name ending in env, then the variable.
  new RegExp(`\\b\\w*[eE]nv\\??\\.${NAME}\\b`, "g"),
  // process.env["X"], env?.["X"]
  new RegExp(`\\b\\w*[eE]nv\\??\\.?\\[\\s*${QUOTED}\\s*\\]`, "g"),
  // envPort("X", 8080), readEnv("X"): a helper whose name says env, with the variable first.
  new RegExp(`\\b\\w*[eE]nv\\w*\\(\\s*${QUOTED}(?:\\s*,\\s*(-?[\\d_.]+|"[^"]*"))?`, "g"),
  // os.environ["X"], os.environ.get("X"), os.getenv("X")
  new RegExp(`\\bos\\.(?:environ(?:\\.get)?|getenv)[[(]\\s*${QUOTED}`, "g"),
];
/** process.env.X or process.env["X"] alone. */
const PROCESS_ENV_READ = new RegExp(`process\\.env\\??\\.${NAME}\\b|process\\.env\\??\\.?\\[\\s*${QUOTED}`, "g");
/** const { X, Y: y, Z = 3 } = process.env (or = env). */
const DESTRUCTURED = /\{([^{}]*)\}\s*=\s*(?:process\.)?\w*[eE]nv\b/g;
/** A config schema's entry: `  NAME: Type.Integer({ default: 3000, ... })`. */
const SCHEMA_ENTRY = /^\s*([A-Z][A-Z0-9_]+): Type\.\w+\((.*)$/gm;
/** $X, ${X}, ${X:-default}, ${X-default}: the default is looked at, not taken, so a nested ${Y} is found too. */
const SHELL_READ = new RegExp(`\\$\\{?${NAME}(?=(?::?-([^}$]*)\\})?)`, "g");

/** "42", "1_000" or "\"x\"" as the value .env.example shows. */
const literal = (text: string | undefined): string | undefined =>
  text === undefined
    ? undefined
    : text.startsWith('"')
      ? (JSON.parse(text) as string)
      : String(Number(text.replaceAll("_", "")));

/** What a file of code reads from the environment. */
export function codeReads(text: string): Read[] {
  const reads: Read[] = [];
  for (const pattern of CODE_READS)
    for (const m of text.matchAll(pattern)) reads.push({ name: m[1], dflt: literal(m[2]) });
  for (const m of text.matchAll(DESTRUCTURED))
    for (const item of m[1].split(",")) {
      const d = /^\s*([A-Z][A-Z0-9_]*)\s*(?::\s*\w+\s*)?(?:=\s*(-?[\d_.]+|"[^"]*"))?\s*$/.exec(item);
      if (d) reads.push({ name: d[1], dflt: literal(d[2]) });
    }
  for (const m of text.matchAll(SCHEMA_ENTRY))
    reads.push({ name: m[1], dflt: literal(/default: (-?[\d_.]+|"[^"]*")\s*[,}]/.exec(m[2])?.[1]) });
  return reads;
}

/** What a shell script or a compose file reads; `defaults`: its ${X:-d} are the lab's defaults. */
export function shellReads(text: string, defaults: boolean): Read[] {
  return [...text.matchAll(SHELL_READ)].map((m) => ({ name: m[1], dflt: defaults ? m[2] : undefined }));
}

function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return filesUnder(p, keep);
    return keep(e.name) ? [p] : [];
  });
}

const under = (dir: string, keep: (name: string) => boolean) => filesUnder(path.join(projectRoot, dir), keep);

/** name → the files that read it and the literal defaults they give it. */
function settingsInCode(): Map<string, { files: Set<string>; defaults: Set<string> }> {
  const found = new Map<string, { files: Set<string>; defaults: Set<string> }>();
  const add = (file: string, reads: Read[]) => {
    for (const { name, dflt } of reads) {
      if (NOT_SETTINGS.has(name)) continue;
      const entry = found.get(name) ?? { files: new Set(), defaults: new Set() };
      entry.files.add(path.relative(projectRoot, file));
      if (dflt !== undefined) entry.defaults.add(dflt);
      found.set(name, entry);
    }
  };
  const read = (file: string) => fs.readFileSync(file, "utf8");
  const isTest = (file: string) => file.includes(`${path.sep}tests${path.sep}`);
  for (const file of [
    ...under("services", (n) => n.endsWith(".ts")),
    ...under("lab-scripts", (n) => /\.(mjs|py)$/.test(n)),
    ...under("notebooks", (n) => n.endsWith(".ipynb")),
  ])
    if (!isTest(file)) add(file, codeReads(read(file)));
  // The tests hand services env objects of their own (rabbit.env.X): only what a test reads from
  // its own process.env is a setting (CI, LAB_RABBITMQ). This file's samples are not.
  for (const file of under("services/tests", (n) => n.endsWith(".ts") && n !== "env-example.test.ts"))
    add(
      file,
      [...read(file).matchAll(PROCESS_ENV_READ)].map((m) => ({ name: m[1] ?? m[2] })),
    );
  // CI's own fallbacks (CI=true in .ci/run) are not the lab's defaults; a compose file's are.
  for (const file of [...under(".ci", () => true), ...under("lab-scripts", (n) => n.endsWith(".yml"))])
    add(file, shellReads(read(file), false));
  for (const file of under("compose", (n) => n.endsWith(".yml"))) add(file, shellReads(read(file), true));
  // Ports per part and service: PART<X>_<NAME>_PORT (parts.ts builds the name).
  for (const part of Object.keys(PARTS) as PartId[]) {
    for (const [name, port] of Object.entries(PARTS[part].defaultPorts))
      add("services/harness/run/parts.ts", [
        { name: `${part.toUpperCase()}_${name.toUpperCase()}_PORT`, dflt: String(port) },
      ]);
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
  test("the scan sees a variable however the code reads it (the test itself works)", () => {
    const js = [
      "const a = process.env.A_DOT;",
      'const b = process.env["B_BRACKET"];',
      "const c = opts.env?.C_OPTIONAL;",
      "const { D_ONE, D_TWO: two, D_THREE = 3 } = process.env;",
      "function f(env = process.env) { return env.E_PARAM; }",
      'const p = envPort("F_PORT", 8080);',
      'const n = readEnv("G_HELPER");',
      "  H_SCHEMA: Type.Integer({ default: 1_000, minimum: 1 }),",
      '"source": ["const x = process.env[\\"I_NOTEBOOK\\"];"]',
    ].join("\n");
    const found = new Map(codeReads(js).map((r) => [r.name, r.dflt]));
    for (const name of ["A_DOT", "B_BRACKET", "C_OPTIONAL", "D_ONE", "D_TWO", "E_PARAM", "G_HELPER", "I_NOTEBOOK"])
      assert.ok(found.has(name), name);
    assert.equal(found.get("D_THREE"), "3");
    assert.equal(found.get("F_PORT"), "8080");
    assert.equal(found.get("H_SCHEMA"), "1000");
    const py = codeReads('os.environ["J_PY"]; os.environ.get("K_PY", "x"); os.getenv("L_PY")').map((r) => r.name);
    assert.deepEqual([...new Set(py)].sort(), ["J_PY", "K_PY", "L_PY"]);
    const sh = shellReads('x="${M_SH:-${N_SH:-$HOME/.cache}}"; echo $O_SH; port: "${P_SH:-5672}"', true);
    assert.deepEqual(
      sh.map((r) => r.name),
      ["M_SH", "N_SH", "HOME", "O_SH", "P_SH"],
    );
    assert.equal(sh.find((r) => r.name === "P_SH")?.dflt, "5672");
    assert.deepEqual(
      codeReads("const env = { LAB_MODE: mode }; run({ env });").map((r) => r.name),
      [],
      "a variable set for a child process is not a read",
    );
  });

  test("the scan finds the settings it should", () => {
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
      "LAB_TARGET", // env.LAB_TARGET, through a parameter that defaults to process.env
      "RABBITMQ_PORT",
      "PARTB_ORDER_PORT",
      "CAMPUS_FOOD_LAB_CACHE", // .ci/node24.sh
      "XDG_CACHE_HOME", // nested in .ci/node24.sh's ${…:-${XDG_CACHE_HOME:-…}}
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
