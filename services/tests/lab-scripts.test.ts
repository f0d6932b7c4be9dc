// The lab scripts' command lines: every script parses its flags strictly (lib.mjs parseFlags),
// answers --help with what it does and each flag, and refuses a misspelt flag with exit code 2,
// naming the valid ones, before it starts anything. Fast: nothing here brings a stack up.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { projectRoot } from "../common/paths.js";
import { runLabScript } from "./support.js";

const scriptsDir = path.join(projectRoot, "lab-scripts");
const scripts = fs
  .readdirSync(scriptsDir)
  .filter((f) => f.endsWith(".mjs") && f !== "lib.mjs")
  .sort();

const run = (script: string, args: string[]) => runLabScript(script, args, {}, 60_000);

describe("lab scripts: arguments", () => {
  test("every script parses its flags with parseFlags and reads nothing from zx's argv", () => {
    for (const script of scripts) {
      const source = fs.readFileSync(path.join(scriptsDir, script), "utf8");
      assert.match(source, /parseFlags\(/, `${script} does not call parseFlags`);
      assert.doesNotMatch(source, /process\.argv/, `${script} reads process.argv itself`);
      // zx's global argv is minimist: a script may only use the name for parseFlags' values.
      if (/\bargv\b/.test(source)) assert.match(source, /const \{ values: argv/, `${script} uses zx's argv`);
    }
  });

  test("every experiment script has an npm alias (npm run partB:backlog -- --quick)", () => {
    const aliases = JSON.parse(fs.readFileSync(path.join(projectRoot, "package.json"), "utf8")).scripts as Record<
      string,
      string
    >;
    for (const script of scripts.filter((s) => /^part[ABC]-/.test(s))) {
      const alias = script.replace(/^(part[ABC])-(.*)\.mjs$/, "$1:$2");
      assert.equal(aliases[alias], `zx lab-scripts/${script}`, `npm run ${alias}`);
    }
  });

  test("--help on every script: what it does and each flag with its default, exit 0", async () => {
    for (const script of scripts) {
      const { code, stdout, stderr } = await run(script, ["--help"]);
      assert.equal(code, 0, `${script} --help: exit ${code}\n${stderr}`);
      assert.match(stdout, /usage: /, script);
      assert.match(stdout, /--help\s+print this help/, script);
    }
    const { stdout } = await run("partA-latency.mjs", ["--help"]);
    assert.match(stdout, /--requests N\s+.*\(default: 10\)/);
    assert.match(stdout, /--scenario NAME\s+.*may be repeated/);
  });

  test("a misspelt or unknown flag is an error that names the valid ones: exit 2, no stack trace", async () => {
    const cases: [string, string[], RegExp][] = [
      ["partA-latency.mjs", ["--request", "10"], /unknown flag --request \(did you mean --requests\?\)/],
      ["partB-backlog.mjs", ["--quick", "--kil"], /unknown flag --kil \(did you mean --kill\?\)/],
      ["run-lab.mjs", ["--quik"], /unknown flag --quik \(did you mean --quick\?\)/],
      ["up.mjs", ["partB", "--mod", "native"], /unknown flag --mod/],
      ["status.mjs", ["--verbose"], /unknown flag --verbose/],
    ];
    for (const [script, args, message] of cases) {
      const { code, stdout, stderr } = await run(script, args);
      assert.equal(code, 2, `${script} ${args.join(" ")}: exit ${code}`);
      assert.match(stderr, message, script);
      assert.match(stderr, /valid flags: .*--help/, script);
      assert.doesNotMatch(stderr, /\n\s+at /, `${script}: a stack trace`);
      assert.equal(stdout, "", `${script} printed (started?) something: ${stdout}`);
    }
  });

  test("a flag without its value, and an argument a script does not take, are errors too", async () => {
    const missing = await run("partC-load.mjs", ["--count"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--count <value>' argument missing/);
    const extra = await run("down.mjs", ["partA", "partB"]);
    assert.equal(extra.code, 2);
    assert.match(extra.stderr, /unexpected argument 'partB'/);
  });
});
