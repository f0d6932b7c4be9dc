#!/usr/bin/env zx
// Part A connection experiment: the same sequential orders with keep-alive connections, with a new
// TCP connection per call on every hop, and with names whose first address does not answer (or
// refuses); the wait on each hop, a plot and the checker's verdict in results/partA/connections/.
//   npx zx lab-scripts/partA-connections.mjs [--requests 50] [--stall-ms 1000] [--quick]   (quick: 20 orders, 250 ms)
import { lab, labServicesOnly, main, parseFlags, targetFlag, targetOf } from "./lib.mjs";

const { values: flags } = parseFlags({
  summary:
    "Part A connections: the same sequential orders with keep-alive connections, a new connection per call, and names whose first address does not answer (or refuses); the wait on each hop, a plot and the checker's verdict in results/partA/connections/.",
  usage: "npx zx lab-scripts/partA-connections.mjs [--requests 50] [--stall-ms 1000] [--quick]",
  options: {
    requests: { type: "string", value: "N", help: "orders per mode, 1 to 10000", defaultText: "50, quick: 20" },
    "stall-ms": {
      type: "string",
      value: "MS",
      help: "how long a connect attempt to the unanswered first address lasts",
      defaultText: "1000, quick: 250",
    },
    quick: { type: "boolean", help: "small figures: 20 orders, a 250 ms stall" },
    target: {
      ...targetFlag,
      help: "the lab's own services only: this experiment starts order services of its own (a foreign target is refused, with the reason)",
    },
  },
});

await main(async () => {
  labServicesOnly(
    targetOf(flags),
    "partA-connections measures connection set-up on order services the lab starts with its own agent and resolver settings",
  );
  const requests = Number(flags.requests ?? (flags.quick ? 20 : 50));
  if (!Number.isInteger(requests) || requests < 1 || requests > 10_000)
    throw new Error("--requests must be a whole number from 1 to 10000");
  const stallMs = Number(flags["stall-ms"] ?? (flags.quick ? 250 : 1000));
  if (!Number.isInteger(stallMs) || stallMs < 10 || stallMs > 60_000)
    throw new Error("--stall-ms must be a whole number of ms from 10 to 60000");

  console.log(
    chalk.bold(`${requests} orders per mode, the modes taking turns (first-address connect attempt ${stallMs} ms):`),
  );
  for (const m of lab.partA.CONNECTION_MODES) console.log(`  ${m}: ${lab.partA.MODE_TEXT[m]}`);
  const result = await lab.partA.runConnectionsExperiment({
    requests,
    stallMs,
    log: (line) => console.log(chalk.dim(`  ${line}`)),
    onRequest: (r) =>
      console.log(
        `  ${r.mode} ${r.request}/${requests}: ${(r.latency_ms / 1000).toFixed(3)} s (HTTP ${r.http_status}) — client ${r.client_ms} ms, reserve ${r.reserve_ms} ms, notify ${r.notify_ms} ms`,
      ),
  });

  console.log(`\n${lab.markdownTable(lab.partA.hopsTable(result.hops), 2)}\n`);
  console.log(lab.markdownTable(lab.partA.connectionChecksTable(result.checks)));
  const files = await lab.partA.writeConnectionsResults(result);
  console.log(chalk.dim(`\nwrote ${files.map((f) => path.relative(process.cwd(), f)).join(", ")}`));
  if (!result.passed) throw new Error("the checker found a mode that did not behave as expected (see above)");
});
