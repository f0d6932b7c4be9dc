#!/usr/bin/env zx
// Part A connection experiment: the same sequential orders with keep-alive connections, with a new
// TCP connection per call on every hop, and with names whose first address does not answer (or
// refuses); the wait on each hop, a plot and the checker's verdict in results/partA/connections/.
//   npx zx lab-scripts/partA-connections.mjs [--quick] [--requests 50] [--stall-ms 1000]   (quick: 20 orders, 250 ms)
import { lab, main, parseFlags, reportExperiment, targetFlag, targetOf } from "./lib.mjs";

const { values: flags } = parseFlags({
  summary:
    "Part A connections: the same sequential orders with keep-alive connections, a new connection per call, and names whose first address does not answer (or refuses); the wait on each hop, a plot and the checker's verdict in results/partA/connections/. It starts order services of its own: a team's --target is not observable (with the reason).",
  usage: "npx zx lab-scripts/partA-connections.mjs [--quick] [--requests 50] [--stall-ms 1000] [--target FILE]",
  options: {
    quick: { type: "boolean", help: "the small sizes the tests use: 20 orders, a 250 ms stall" },
    requests: { type: "string", default: "50", quick: "20", value: "N", help: "orders per mode, 1 to 10000" },
    "stall-ms": {
      type: "string",
      default: "1000",
      quick: "250",
      value: "MS",
      help: "how long a connect attempt to the unanswered first address lasts",
    },
    target: {
      ...targetFlag,
      help: "the implementation under test; this experiment starts order services of its own, so a team's target is not observable (with the reason)",
    },
  },
});

await main(async () => {
  const requests = Number(flags.requests);
  if (!Number.isInteger(requests) || requests < 1 || requests > 10_000)
    throw new Error("--requests must be a whole number from 1 to 10000");
  const stallMs = Number(flags["stall-ms"]);
  if (!Number.isInteger(stallMs) || stallMs < 10 || stallMs > 60_000)
    throw new Error("--stall-ms must be a whole number of ms from 10 to 60000");

  console.log(
    chalk.bold(`${requests} orders per mode, the modes taking turns (first-address connect attempt ${stallMs} ms):`),
  );
  for (const m of lab.partA.CONNECTION_MODES) console.log(`  ${m}: ${lab.partA.MODE_TEXT[m]}`);
  const target = targetOf(flags);
  const log = (line) => console.log(chalk.dim(`  ${line}`));
  const result = await lab.partA.withPartA(target, { log }, (impl) =>
    lab.harness.runExperiment(lab.partA.connections, impl, {
      requests,
      stallMs,
      onProgress: log,
      onRequest: (r) =>
        console.log(
          `  ${r.mode} ${r.request}/${requests}: ${(r.latency_ms / 1000).toFixed(3)} s (HTTP ${r.http_status}) — client ${r.client_ms} ms, reserve ${r.reserve_ms} ms, notify ${r.notify_ms} ms`,
        ),
    }),
  );

  if (result.data.hops) console.log(`\n${lab.markdownTable(lab.partA.hopsTable(result.data.hops), 2)}\n`);
  await reportExperiment(lab.partA.connections, result, target);
});
