// The lab's own Jupyter: JupyterLab, nbconvert and nbclient in a virtualenv inside the project
// (.venv/), with the tslab TypeScript kernel registered into that virtualenv. Nothing depends on a
// Jupyter installed elsewhere on the machine, and a second set-up changes nothing.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { projectRoot } from "../../common/paths.js";

export const venvDir = path.join(projectRoot, ".venv");
export const notebooksDir = path.join(projectRoot, "notebooks");
export const venvBin = (name: string): string => path.join(venvDir, "bin", name);

/**
 * The lock: every package pinned with its hashes (made from requirements.in by `uv pip compile
 * --universal --generate-hashes`, see that file), installed with `--require-hashes`, so pip
 * installs exactly these files or nothing.
 */
const requirementsFile = path.join(notebooksDir, "requirements.txt");
/** What was last installed from requirements.txt: pip runs again only when that file changes. */
const installedStamp = path.join(venvDir, ".lab-requirements.txt");
const tslabBin = path.join(projectRoot, "node_modules", "tslab", "bin", "tslab");
const kernelsDir = path.join(venvDir, "share", "jupyter", "kernels");
const kernelJson = path.join(kernelsDir, "tslab", "kernel.json");

/**
 * The environment for every Jupyter process the lab starts: the virtualenv's kernels win over a
 * user's own (a tslab registered globally must not shadow the project's).
 */
export function jupyterEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    VIRTUAL_ENV: venvDir,
    PATH: `${path.join(venvDir, "bin")}${path.delimiter}${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}`,
    JUPYTER_PREFER_ENV_PATH: "1",
    JUPYTER_PATH: path.join(venvDir, "share", "jupyter"),
    PYDEVD_DISABLE_FILE_VALIDATION: "1",
    ...extra,
  };
}

export interface JupyterState {
  venv: boolean;
  packages: boolean;
  kernel: boolean;
}

export function jupyterState(): JupyterState {
  const venv = fs.existsSync(venvBin("python"));
  const packages =
    venv &&
    fs.existsSync(venvBin("jupyter-lab")) &&
    fs.existsSync(venvBin("jupyter-nbconvert")) &&
    readOr(installedStamp) === fs.readFileSync(requirementsFile, "utf8");
  return { venv, packages, kernel: venv && kernelPointsHere() };
}

export const jupyterReady = (): boolean => Object.values(jupyterState()).every(Boolean);

/** The registered kernel must start this project's tslab (the project may have moved). */
function kernelPointsHere(): boolean {
  try {
    return JSON.parse(fs.readFileSync(kernelJson, "utf8")).argv?.[0] === tslabBin;
  } catch {
    return false;
  }
}

/** A virtualenv's scripts name its absolute path: one copied or moved along with the project breaks. */
function venvIsHere(): boolean {
  const res = spawnSync(venvBin("python"), ["-c", "import sys; print(sys.prefix)"], { encoding: "utf8" });
  return res.status === 0 && res.stdout.trim() === venvDir;
}

const readOr = (file: string): string | undefined => {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
};

/** Create what is missing: the virtualenv, the locked packages, the kernel. Idempotent. */
export async function ensureJupyter(opts: { log?: (line: string) => void } = {}): Promise<JupyterState> {
  const log = opts.log ?? (() => {});
  let state = jupyterState();
  if (state.venv && !venvIsHere()) {
    log(".venv/ was made for another folder (the project moved): making it anew");
    fs.rmSync(venvDir, { recursive: true, force: true });
    state = jupyterState();
  }
  if (!state.venv) {
    const python = process.env.PYTHON ?? "python3";
    log(`creating the virtualenv .venv/ with ${python}`);
    await runChecked(python, ["-m", "venv", venvDir], "python3 -m venv (on Debian: apt-get install python3-venv)");
  } else log(".venv/ exists");
  state = jupyterState();
  if (!state.packages) {
    log(
      "installing the locked Jupyter packages from notebooks/requirements.txt, hashes checked (about a minute the first time)",
    );
    const requirements = fs.readFileSync(requirementsFile, "utf8");
    await runChecked(
      venvBin("python"),
      ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--require-hashes", "-r", requirementsFile],
      "pip install --require-hashes",
    );
    fs.writeFileSync(installedStamp, requirements);
  } else log("Jupyter packages match notebooks/requirements.txt");
  if (!kernelPointsHere()) {
    if (!fs.existsSync(tslabBin)) throw new Error("tslab is missing from node_modules: run `npm install` first");
    log("registering the tslab kernel in .venv/");
    await runChecked(
      process.execPath,
      [tslabBin, "install", `--python=${venvBin("python")}`, "--sys-prefix", `--binary=${tslabBin}`],
      "tslab install",
    );
  } else log("tslab kernel registered");
  fs.rmSync(path.join(kernelsDir, "jslab"), { recursive: true, force: true }); // tslab adds a JavaScript one; the lab is TypeScript
  const kernels = await runChecked(venvBin("jupyter"), ["kernelspec", "list", "--json"], "jupyter kernelspec list");
  const found = JSON.parse(kernels).kernelspecs?.tslab?.resource_dir;
  if (found !== path.dirname(kernelJson))
    throw new Error(`jupyter finds the tslab kernel at ${found ?? "nowhere"}, not in .venv/`);
  log(
    `JupyterLab ${(await runChecked(venvBin("jupyter"), ["lab", "--version"], "jupyter lab --version")).trim()}, kernel tslab`,
  );
  return jupyterState();
}

/** Run to completion; the output on success, an error with its last lines on failure. */
async function runChecked(command: string, args: string[], what: string): Promise<string> {
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
    let output = "";
    const child = spawn(command, args, { env: jupyterEnv(), stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    child.on("error", (err) => resolve({ code: null, output: err.message }));
    child.on("close", (code) => resolve({ code, output }));
  });
  if (code !== 0) throw new Error(`${what} failed:\n${output.trimEnd().split("\n").slice(-15).join("\n")}`);
  return output;
}
