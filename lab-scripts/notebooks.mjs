#!/usr/bin/env zx
// JupyterLab on notebooks/, from the project's own .venv/ with the tslab kernel (set up first if
// missing). `--no-browser`, `--port`, `--ip` and whatever follows a bare `--` go to `jupyter lab`.
//   npx zx lab-scripts/notebooks.mjs [--quick] [--no-browser] [--port 8888] [--ip ADDR] [-- other jupyter lab options]
import { spawn } from "node:child_process";
import { lab, main, parseFlags } from "./lib.mjs";

const { values: argv, rest } = parseFlags({
  summary:
    "JupyterLab on notebooks/, from the project's own .venv/ with the tslab kernel (set up first if missing). Stop with Ctrl-C.",
  usage: "npx zx lab-scripts/notebooks.mjs [--quick] [--no-browser] [--port 8888] [--ip 127.0.0.1]",
  options: {
    quick: { type: "boolean", help: "small figures (LAB_MODE=quick)" },
    "no-browser": { type: "boolean", help: "do not open a browser (passed to jupyter lab)" },
    port: {
      type: "string",
      value: "N",
      help: "JupyterLab's port (passed to jupyter lab)",
      defaultText: "jupyter's, 8888",
    },
    ip: {
      type: "string",
      value: "ADDR",
      help: "the address JupyterLab listens on (passed to jupyter lab)",
      defaultText: "jupyter's, localhost",
    },
  },
  rest: true,
  epilog: "Anything after a bare -- goes to `jupyter lab` unchanged.",
});

await main(async () => {
  if (!lab.harness.jupyterReady()) await lab.harness.ensureJupyter({ log: (line) => console.log(`  ${line}`) });
  const mode = argv.quick ? "quick" : (process.env.LAB_MODE ?? "full");
  const passOn = [
    ...(argv["no-browser"] ? ["--no-browser"] : []),
    ...(argv.port ? [`--port=${argv.port}`] : []),
    ...(argv.ip ? [`--ip=${argv.ip}`] : []),
    ...rest,
  ];
  if (process.getuid?.() === 0 && !passOn.includes("--allow-root")) passOn.push("--allow-root");
  console.log(chalk.bold(`JupyterLab on notebooks/ (${mode} mode) — start with 01-sync-rest.ipynb; stop with Ctrl-C`));
  const child = spawn(lab.harness.venvBin("jupyter"), ["lab", "--notebook-dir", lab.harness.notebooksDir, ...passOn], {
    stdio: "inherit",
    env: lab.harness.jupyterEnv({ LAB_MODE: mode }),
  });
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
  const code = await new Promise((resolve) => child.on("close", resolve));
  if (code) process.exitCode = code;
});
