#!/usr/bin/env zx
// What runs: brokers and services, their ports, health, and where their logs are.
import { lab, main, parseFlags } from "./lib.mjs";

parseFlags({
  summary: "What runs: the lab's brokers and services, their ports, health, and where their logs are.",
  usage: "npx zx lab-scripts/status.mjs",
  options: {},
});

await main(async () => {
  const { services, brokers } = await lab.status();
  const state = (alive, healthy) =>
    !alive ? chalk.red("dead") : healthy ? chalk.green("healthy") : chalk.yellow("not answering");
  console.log(chalk.bold("Brokers"));
  for (const b of brokers) {
    // A broker with a pid that does not serve was killed or crashed: say so, in red.
    const state = b.running ? chalk.green("running") : b.pid ? chalk.red("down   ") : chalk.dim("stopped");
    const ports = b.ports
      ? ` ports ${Object.entries(b.ports)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")}`
      : "";
    const what = b.running
      ? `${b.mode} ${b.endpoint ?? ""}${b.pid ? ` pid ${b.pid}` : ""}${ports}`
      : `${b.detail ?? ""}`;
    console.log(`  ${b.id.padEnd(10)} ${state}  ${what}${b.log ? chalk.dim(`  log: ${b.log}`) : ""}`);
  }
  console.log(chalk.bold("Services"));
  if (services.length === 0) console.log(chalk.dim("  none running"));
  for (const s of services) {
    console.log(
      `  ${s.name.padEnd(22)} ${state(s.alive, s.healthy).padEnd(24)} port ${String(s.port ?? "").padEnd(6)} pid ${String(s.pid).padEnd(8)} ${chalk.dim(`log: ${s.log}`)}`,
    );
  }
});
