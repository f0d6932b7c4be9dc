#!/usr/bin/env zx
// Part B poison messages: malformed JSON and a wrong-shape event land in order.placed.dlq with
// their reason, and a normal order placed right after is still confirmed.
//   npx zx lab-scripts/partB-dlq.mjs
// Results in results/partB/dlq/.
import { lab, main, parseFlags } from "./lib.mjs";

parseFlags({
  summary:
    "Part B poison messages: malformed JSON and a wrong-shape event land in order.placed.dlq with their reason; a normal order placed right after is still confirmed. Results in results/partB/dlq/.",
  usage: "npx zx lab-scripts/partB-dlq.mjs",
  options: {},
});

await main(async () => {
  console.log(chalk.bold("Part B dead-letter queue: two poison messages, then a normal order"));
  const result = await lab.partB.runDlqExperiment({
    log: (line) => console.log(chalk.dim(`  ${line}`)),
    onProgress: (line) => console.log(`  ${line}`),
  });
  console.log(
    `\n${lab.markdownTable(result.poison.map((p) => ({ message: p.name, reason: p.reason ?? "", "x-death": (p.x_death ?? []).map((d) => `${d.reason} from ${d.queue}`).join("; ") })))}\n`,
  );
  console.log(lab.markdownTable(lab.harness.checksRows(result.checks)));
  const files = await lab.partB.writeDlqResults(result);
  console.log(chalk.dim(`\nwrote ${files.map((f) => path.relative(process.cwd(), f)).join(", ")}`));
  if (!result.passed) throw new Error("the checker found something that did not behave as expected (see above)");
});
