#!/usr/bin/env zx
// What runs: brokers and services, their ports, health, and where their logs are.
import { lab, main } from "./lib.mjs";

await main(async () => {
  const { services, brokers } = await lab.status();
  const state = (alive, healthy) => (!alive ? chalk.red("dead") : healthy ? chalk.green("healthy") : chalk.yellow("not answering"));
  console.log(chalk.bold("Brokers"));
  for (const b of brokers) {
    const where = b.running ? `${b.mode ?? ""} ${b.endpoint ?? ""}` : b.detail ?? "";
    console.log(`  ${b.id.padEnd(10)} ${b.running ? chalk.green("running") : chalk.dim("stopped")}  ${where}${b.log ? chalk.dim(`  log: ${b.log}`) : ""}`);
  }
  console.log(chalk.bold("Services"));
  if (services.length === 0) console.log(chalk.dim("  none running"));
  for (const s of services) {
    console.log(`  ${s.name.padEnd(22)} ${state(s.alive, s.healthy).padEnd(24)} port ${String(s.port ?? "").padEnd(6)} pid ${String(s.pid).padEnd(8)} ${chalk.dim(`log: ${s.log}`)}`);
  }
});
