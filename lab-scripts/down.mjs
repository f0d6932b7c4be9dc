#!/usr/bin/env zx
// Stop a part's services (and the brokers the lab started for it); nothing is left behind.
//   npx zx lab-scripts/down.mjs partA|partB|partC|all
import { lab, main, parseFlags } from "./lib.mjs";

const { positionals } = parseFlags({
  summary: "Stop a part's services and the brokers the lab started for it; nothing else is touched.",
  usage: "npx zx lab-scripts/down.mjs [partA|partB|partC|all]",
  options: {},
  positionals: [{ name: "part", help: "partA | partB | partC | all (default: all)" }],
});

await main(async () => {
  const parts = lab.parsePartArg(positionals[0] ?? "all");
  for (const part of parts.reverse()) {
    const stopped = await lab.down(part, { log: (line) => console.log(`  ${line}`) });
    console.log(
      `${lab.PARTS[part].title}: ${stopped.length ? `stopped ${stopped.join(", ")}` : "nothing was running"}`,
    );
  }
});
