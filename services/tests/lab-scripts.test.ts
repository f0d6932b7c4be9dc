// The lab scripts' command lines: every script parses its flags strictly (lab-scripts/flags.mjs),
// answers --help with what it does and each flag — before the lab is built — and refuses a
// misspelt flag, or a flag given twice that is not repeatable, with exit code 2 before it starts
// anything. Every usage line works as printed, and docs/cli.md is the scripts' help. Fast: nothing
// here brings a stack up (every run that could start something has --help or a refused flag).
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import * as lab from "../lab/index.js";
import { projectRoot } from "../common/paths.js";
import { runLabScript } from "./support.js";
import {
  RUN_TIMEOUT_MS,
  asTyped,
  flagsOf,
  inTurns,
  labScripts,
  scriptsDir,
  shell,
  usageLines,
} from "./lab-scripts-help.js";

const scripts = labScripts();
const experiments = scripts.filter((s) => /^part[ABC]-/.test(s));
const run = (script: string, args: string[]) => runLabScript(script, args, {}, RUN_TIMEOUT_MS);
const zx = path.join(projectRoot, "node_modules", "zx", "build", "cli.js");

/** Each script's --help, read once. */
const helps = new Map<string, string>();
before(async () => {
  await inTurns(scripts, async (script) => {
    const { code, stdout, stderr } = await run(script, ["--help"]);
    assert.equal(code, 0, `${script} --help: exit ${code}\n${stderr}`);
    helps.set(script, stdout);
  });
});

describe("lab scripts: arguments", () => {
  test("every script parses its flags with parseFlags and reads nothing from zx's argv", () => {
    assert.ok(scripts.length >= 19, scripts.join(", "));
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
    for (const script of experiments) {
      const alias = script.replace(/^(part[ABC])-(.*)\.mjs$/, "$1:$2");
      assert.equal(aliases[alias], `zx lab-scripts/${script}`, `npm run ${alias}`);
    }
  });

  test("--help: what it does, usage as npx zx, each flag with its default; no line past 100 columns", () => {
    for (const [script, help] of helps) {
      assert.match(help, /--help\s+print this help/, script);
      for (const usage of usageLines(help)) assert.ok(usage.startsWith(`npx zx lab-scripts/${script}`), usage);
      const wide = help.split("\n").filter((l) => l.length > 100);
      assert.deepEqual(wide, [], `${script}: lines past 100 columns`);
    }
    const latency = helps.get("partA-latency.mjs")!;
    assert.match(latency, /--requests N\s+.*\(default: 10, or 3 with --quick\)/);
    assert.ok(flagsOf(latency).find((f) => f.name === "scenario" && f.value === "SCENARIO")?.repeatable);
  });

  test("every usage line, typed as printed with --help appended, exits 0", async () => {
    const commands = [...helps.values()].flatMap((help) =>
      usageLines(help).flatMap((u) => [asTyped(u, true), asTyped(u, false)]),
    );
    assert.ok(commands.some((c) => c.includes("--target FILE")));
    const ran = await inTurns(commands, (c) => shell(`${c} --help`));
    commands.forEach((c, i) => {
      assert.equal(ran[i].code, 0, `${c} --help: exit ${ran[i].code}\n${ran[i].stderr}`);
      assert.match(ran[i].stdout, /^usage: npx zx /m, c);
    });
  });

  test("the scripts that take --target show it in their usage", () => {
    for (const [script, help] of helps)
      if (flagsOf(help).some((f) => f.name === "target"))
        assert.ok(
          usageLines(help).some((u) => u.includes("[--target FILE]")),
          `${script}: --target is missing from its usage`,
        );
  });

  test("a flag given twice that is not repeatable is refused: exit 2, nothing started", async () => {
    const cases = scripts.flatMap((script) => {
      const flag = flagsOf(helps.get(script)!).find((f) => !f.repeatable && f.name !== "help");
      return flag ? [{ script, args: [`--${flag.name}`, ...(flag.value ? ["1"] : [])] }] : [];
    });
    assert.ok(cases.length >= 17, `${cases.length} scripts with a flag`);
    const ran = await inTurns(cases, ({ script, args }) => run(script, [...args, ...args]));
    cases.forEach(({ script, args }, i) => {
      assert.equal(ran[i].code, 2, `${script} ${args.join(" ")} twice: exit ${ran[i].code}\n${ran[i].stderr}`);
      assert.match(ran[i].stderr, new RegExp(`${args[0]} given more than once`), script);
      assert.equal(ran[i].stdout, "", `${script} printed (started?) something`);
    });
  });

  test("--only accumulates where it is repeatable: report and run-lab run every notebook named", async () => {
    for (const script of ["report.mjs", "run-lab.mjs", "bench.mjs", "faults.mjs", "safeguards.mjs"])
      assert.ok(flagsOf(helps.get(script)!).find((f) => f.name === "only")?.repeatable, `${script} --only`);
    const { parseFlags } = (await import(pathToFileURL(path.join(scriptsDir, "flags.mjs")).href)) as {
      parseFlags: (spec: object, args: string[]) => { values: Record<string, unknown> };
    };
    const spec = {
      summary: "",
      usage: "",
      options: {
        only: { type: "string", multiple: true },
        quick: { type: "boolean" },
        count: { type: "string", default: "10", quick: "3" },
      },
    };
    assert.deepEqual(parseFlags(spec, ["--only", "01", "--only", "04,02"]).values, {
      only: ["01", "04", "02"],
      count: "10",
    });
    assert.equal(parseFlags(spec, ["--quick"]).values.count, "3");
    assert.equal(parseFlags(spec, ["--quick", "--count", "7"]).values.count, "7");
  });

  test("--quick on every experiment script: a known flag (given twice it is refused as such)", async () => {
    assert.equal(experiments.length, 9);
    const ran = await inTurns(experiments, (script) => run(script, ["--quick", "--help"]));
    experiments.forEach((script, i) => {
      assert.match(helps.get(script)!, /^ {2}--quick\s+the small sizes the tests use/m, script);
      assert.equal(ran[i].code, 0, script);
      assert.equal(ran[i].stdout, helps.get(script), script);
    });
    // --help answers whatever else is on the line; alone, a flag given twice says whether it is known.
    const twice = await inTurns(experiments, (script) => run(script, ["--quick", "--quick"]));
    experiments.forEach((script, i) => {
      assert.equal(twice[i].code, 2, script);
      assert.match(twice[i].stderr, /--quick given more than once/, script);
    });
  });

  test("one meaning per flag name: the same placeholder everywhere; up.mjs --mode is --broker-mode", async () => {
    const seen = new Map<string, { value?: string; script: string }>();
    for (const [script, help] of helps)
      for (const f of flagsOf(help)) {
        const first = seen.get(f.name) ?? { value: f.value, script };
        seen.set(f.name, first);
        // --only names what it picks (PART, SCENARIO, SAFEGUARD, NOTEBOOK).
        if (f.name !== "only")
          assert.equal(f.value, first.value, `--${f.name}: ${f.value} in ${script}, ${first.value} in ${first.script}`);
      }
    assert.equal(seen.get("mode")?.value, "MODE");
    assert.match(helps.get("run-lab.mjs")!, /--mode MODE\s+the size of the run: quick \| full/);
    const old = await run("up.mjs", ["partB", "--mode", "native"]);
    assert.equal(old.code, 2);
    assert.match(old.stderr, /--mode is now --broker-mode/);
  });

  test("the help names what the library runs: Part A's scenarios, each experiment's safeguards", () => {
    const listed = (script: string, flag: string) => {
      const text = flagsOf(helps.get(script)!).find((f) => f.name === flag)!.text;
      return /: ([\w-]+(?: \| [\w-]+)*)/.exec(text)![1].split(" | ");
    };
    assert.deepEqual(listed("partA-latency.mjs", "scenario"), [...lab.partA.LATENCY_SCENARIOS]);
    const shows: Record<string, readonly string[]> = {
      "partA-latency.mjs": lab.partA.latency.safeguards,
      "partB-dlq.mjs": lab.partB.PARTB_EXPERIMENTS.dlq.safeguards,
      "partB-idempotency.mjs": lab.partB.PARTB_EXPERIMENTS.idempotency.safeguards,
      "partC-replay.mjs": lab.partC.replayExperiment.safeguards,
    };
    for (const [script, safeguards] of Object.entries(shows))
      assert.deepEqual(listed(script, "without"), [...safeguards], `${script} --without`);
    assert.match(helps.get("partA-latency.mjs")!, /--without SAFEGUARD/);
  });

  test("before the build: --help answers the same, a bad flag exits 2, a run says to build first", async () => {
    // The scripts alone in a folder of their own: no dist/ beside them.
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), "lab-scripts-unbuilt-"));
    try {
      fs.cpSync(scriptsDir, path.join(copy, "lab-scripts"), { recursive: true });
      const node = (script: string, args: string) =>
        shell(`"${process.execPath}" "${zx}" lab-scripts/${script} ${args}`, copy);
      const ran = await inTurns(scripts, (script) => node(script, "--help"));
      scripts.forEach((script, i) => {
        assert.equal(ran[i].code, 0, `${script} --help without dist/: exit ${ran[i].code}\n${ran[i].stderr}`);
        assert.equal(ran[i].stdout, helps.get(script), `${script}: another help without dist/`);
      });
      const bad = await node("status.mjs", "--verbose");
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /unknown flag --verbose/);
      const unbuilt = await node("status.mjs", "");
      assert.equal(unbuilt.code, 1);
      assert.match(unbuilt.stderr, /The lab is not built yet: run `npm install`/);
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });

  test("docs/cli.md is every script's --help, up to date (npx zx lab-scripts/cli-docs.mjs writes it)", async () => {
    const { code, stderr } = await run("cli-docs.mjs", ["--check"]);
    assert.equal(code, 0, stderr);
    const page = fs.readFileSync(path.join(projectRoot, "docs", "cli.md"), "utf8");
    for (const [script, help] of helps) assert.ok(page.includes(`### ${script}\n\n\`\`\`text\n${help}`), script);
  });

  test("a misspelt or unknown flag is an error that names the valid ones: exit 2, no stack trace", async () => {
    const cases: [string, string[], RegExp][] = [
      ["partA-latency.mjs", ["--request", "10"], /unknown flag --request \(did you mean --requests\?\)/],
      ["partB-backlog.mjs", ["--quick", "--kil"], /unknown flag --kil \(did you mean --kill\?\)/],
      ["run-lab.mjs", ["--quik"], /unknown flag --quik \(did you mean --quick\?\)/],
      ["up.mjs", ["partB", "--broker-mod", "native"], /unknown flag --broker-mod \(did you mean --broker-mode\?\)/],
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
