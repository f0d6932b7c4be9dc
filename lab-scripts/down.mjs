#!/usr/bin/env zx
// Stop a part's services (and the brokers the lab started for it); nothing is left behind.
//   npx zx lab-scripts/down.mjs partA|partB|partC|all|brokers|rabbitmq|kafka
import { lab, main, parseFlags } from "./lib.mjs";

const { positionals } = parseFlags({
  summary: "Stop a part's services and the brokers the lab started for it; nothing else is touched.",
  usage: "npx zx lab-scripts/down.mjs [partA|partB|partC|all|brokers|rabbitmq|kafka]",
  options: {},
  positionals: [
    { name: "part", help: "partA | partB | partC | all (default: all); brokers | rabbitmq | kafka: only those" },
  ],
});

await main(async () => {
  const brokers = lab.harness.parseBrokerArg(positionals[0]);
  if (brokers) {
    const stopped = await lab.harness.downBrokers(brokers, { log: (line) => console.log(`  ${line}`) });
    console.log(`The lab's brokers: ${stopped.length ? `stopped ${stopped.join(", ")}` : "none stopped"}`);
    return;
  }
  const parts = lab.parsePartArg(positionals[0] ?? "all");
  for (const part of parts.reverse()) {
    const stopped = await lab.down(part, { log: (line) => console.log(`  ${line}`) });
    console.log(
      `${lab.PARTS[part].title}: ${stopped.length ? `stopped ${stopped.join(", ")}` : "nothing was running"}`,
    );
  }
});
