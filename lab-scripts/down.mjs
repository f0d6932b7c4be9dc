#!/usr/bin/env zx
// Stop a part's services (and the brokers the lab started for it); nothing is left behind.
//   npx zx lab-scripts/down.mjs partA|partB|partC|all
import { lab, main } from "./lib.mjs";

await main(async () => {
  const parts = lab.parsePartArg(argv._[0] ?? "all");
  for (const part of parts.reverse()) {
    const stopped = await lab.down(part, { log: (line) => console.log(`  ${line}`) });
    console.log(`${lab.PARTS[part].title}: ${stopped.length ? `stopped ${stopped.join(", ")}` : "nothing was running"}`);
  }
});
