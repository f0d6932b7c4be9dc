#!/usr/bin/env zx
// JupyterLab on notebooks/, from the project's own .venv/ with the tslab kernel (set up first if
// missing). Extra arguments go to `jupyter lab`, e.g. `npm run notebooks -- --no-browser`.
//   npx zx lab-scripts/notebooks.mjs [--quick] [jupyter lab options]
import { spawn } from "node:child_process";
import { lab, main } from "./lib.mjs";

await main(async () => {
  if (!lab.harness.jupyterReady()) await lab.harness.ensureJupyter({ log: (line) => console.log(`  ${line}`) });
  const mode = process.argv.includes("--quick") ? "quick" : process.env.LAB_MODE ?? "full";
  const passOn = process.argv.slice(3).filter((a) => a !== "--quick");
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
