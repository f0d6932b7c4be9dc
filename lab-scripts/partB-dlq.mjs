#!/usr/bin/env zx
// Part B poison messages: malformed JSON and a wrong-shape event land in order.placed.dlq with
// their reason, and a normal order placed right after is still confirmed.
//   npx zx lab-scripts/partB-dlq.mjs [--without dead-letter]
// --without dead-letter: inventory requeues what it cannot read; the poison loops. Results in results/partB/dlq/
// (a foreign --target: results/targets/<name>/partB/dlq/, judged from outside).
import { lab, main, parseFlags, refuseWithout, targetFlag, targetOf } from "./lib.mjs";

const { values: argv } = parseFlags({
  summary:
    "Part B poison messages: malformed JSON and a wrong-shape event land in order.placed.dlq with their reason; a normal order placed right after is still confirmed. Results in results/partB/dlq/.",
  usage: "npx zx lab-scripts/partB-dlq.mjs [--without dead-letter] [--target FILE]",
  options: {
    without: {
      type: "string",
      value: "NAME",
      help: "run Part B with this safeguard off to see what it prevents: dead-letter (Part B must not be up already)",
    },
    target: targetFlag,
  },
});

await main(async () => {
  const env = lab.partB.withoutSafeguard(argv.without, ["dead-letter"]);
  const target = targetOf(argv);
  refuseWithout(argv.without, target);
  console.log(
    chalk.bold(
      `Part B dead-letter queue: two poison messages, then a normal order${env ? ` — WITHOUT ${argv.without}` : ""}`,
    ),
  );
  const result = await lab.partB.runDlqThrough(target, {
    env,
    log: (line) => console.log(chalk.dim(`  ${line}`)),
    onProgress: (line) => console.log(`  ${line}`),
  });
  if (result.kind === "lab")
    console.log(
      `\n${lab.markdownTable(result.poison.map((p) => ({ message: p.name, reason: p.reason ?? "", "x-death": (p.x_death ?? []).map((d) => `${d.reason} from ${d.queue}`).join("; ") })))}\n`,
    );
  console.log(lab.markdownTable(lab.harness.checksRows(result.checks)));
  for (const line of lab.partB.outsideSections(result)) console.log(line);
  const files = await lab.partB.writeDlqRun(result, lab.harness.targetResultsDir(target, "partB"));
  console.log(chalk.dim(`\nwrote ${files.map((f) => path.relative(process.cwd(), f)).join(", ")}`));
  if (env && !result.passed)
    console.log(
      chalk.yellow(
        `\nwithout ${argv.without}: the poison never reached the dead-letter queue; inventory requeued it again and again until Part B stopped (the queue was left with it: see results/partB/dlq/)`,
      ),
    );
  else if (env) throw new Error(`without ${argv.without} this run showed nothing the safeguard prevents (see above)`);
  else if (!result.passed) throw new Error("the checker found something that did not behave as expected (see above)");
});
