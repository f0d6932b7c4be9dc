#!/usr/bin/env zx
// The lab's own set-up: installs what is missing, idempotently, and says what it did.
//   npx zx lab-scripts/setup.mjs [--brokers] [--jupyter] [--all]
// Each step checks first and does nothing when its part is already there.
import { lab, main } from "./lib.mjs";

const steps = {
  // Filled in by the parts that need them (brokers, Jupyter).
  // Native brokers: Debian's rabbitmq-server (apt, as root), Java 17, the Kafka jars (Maven, once).
  brokers: ({ log, lab }) => lab.setupNativeBrokers({ log }),
};

await main(async () => {
  const wanted = Object.keys(steps).filter((name) => argv.all || argv[name] || Object.keys(argv).length === 1);
  for (const name of wanted) {
    const started = Date.now();
    console.log(chalk.bold(`setup: ${name}`));
    await steps[name]({ log: (line) => console.log(`  ${line}`), lab });
    console.log(chalk.dim(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s`));
  }
});
