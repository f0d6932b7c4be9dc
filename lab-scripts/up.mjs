#!/usr/bin/env zx
// Start a part of the lab in the background and return once everything answers; or only the
// lab's brokers, for a team that brings its own services (see lab-scripts/targets/README.md).
//   npx zx lab-scripts/up.mjs partA|partB|partC|all|brokers|rabbitmq|kafka [--broker-mode docker|native]
import { lab, main, parseFlags } from "./lib.mjs";

const { values: argv, positionals } = parseFlags({
  summary:
    "Start a part of the lab in the background (its brokers first) and return once every service is ready; `brokers` (or `rabbitmq`, `kafka`) starts only the lab's brokers, with Part C's topics, for a team that brings its own services.",
  usage: "npx zx lab-scripts/up.mjs partA|partB|partC|all|brokers|rabbitmq|kafka [--broker-mode docker|native]",
  options: {
    "broker-mode": {
      type: "string",
      value: "MODE",
      help: "how brokers run: in Docker containers, or as native processes of the lab",
      defaultText: "LAB_BROKER_MODE, else docker where it works, else native",
    },
  },
  // --mode means the size of a run (report.mjs, run-lab.mjs): the broker mode has its own name.
  renamed: { mode: "broker-mode" },
  positionals: [{ name: "part", help: "partA | partB | partC | all | brokers | rabbitmq | kafka" }],
});

const showBroker = (b) =>
  console.log(`  ${chalk.green("✔")} ${b.id.padEnd(14)} ${b.endpoint} ${chalk.dim(`(${b.mode}, log: ${b.log})`)}`);

await main(async () => {
  const brokers = lab.harness.parseBrokerArg(positionals[0]);
  if (brokers) {
    console.log(chalk.bold("The lab's brokers (no services)"));
    const log = (line) => console.log(`  ${line}`);
    for (const b of await lab.harness.upBrokers(brokers, { mode: argv["broker-mode"], log })) showBroker(b);
    console.log(chalk.dim(`\nStop with: npx zx lab-scripts/down.mjs ${positionals[0]}`));
    return;
  }
  const parts = lab.parsePartArg(positionals[0]);
  for (const part of parts) {
    console.log(chalk.bold(lab.PARTS[part].title));
    const running = await lab.up(part, { mode: argv["broker-mode"], log: (line) => console.log(`  ${line}`) });
    for (const b of running.brokers) showBroker(b);
    for (const s of Object.values(running.services)) console.log(`  ${chalk.green("✔")} ${s.name.padEnd(14)} ${s.url}`);
  }
  console.log(chalk.dim("\nStop with: npx zx lab-scripts/down.mjs " + (positionals[0] ?? "")));
});
