#!/usr/bin/env zx
// The lab's own set-up: installs what is missing, idempotently, and says what it did.
//   npx zx lab-scripts/setup.mjs [--brokers] [--jupyter] [--chromium] [--all]
// Each step checks first and does nothing when its part is already there.
import { lab, main, parseFlags } from "./lib.mjs";

const { values: argv } = parseFlags({
  summary:
    "The lab's own set-up: installs what is missing, idempotently, and says what it did. Without flags: brokers and Jupyter.",
  usage: "npx zx lab-scripts/setup.mjs [--brokers] [--jupyter] [--chromium] [--all]",
  options: {
    brokers: { type: "boolean", help: "native brokers: RabbitMQ (apt, as root), Java 17, the Kafka jars" },
    jupyter: { type: "boolean", help: "JupyterLab and nbconvert in .venv/, with the tslab kernel" },
    chromium: { type: "boolean", help: "headless Chromium, for the tests and `npm run report -- --pdf`" },
    all: { type: "boolean", help: "every step above" },
  },
});

const steps = {
  // Filled in by the parts that need them (brokers, Jupyter).
  // Native brokers: Debian's rabbitmq-server (apt, as root), Java 17, the Kafka jars (Maven, once).
  brokers: ({ log, lab }) => lab.harness.setupNativeBrokers({ log }),
  // JupyterLab + nbconvert in the project's .venv/, with the tslab kernel registered into it.
  jupyter: ({ log, lab }) => lab.harness.ensureJupyter({ log }),
  // Headless Chromium: the tests look at a report page as a student would; report --pdf prints it.
  chromium: async ({ log }) => {
    if (!argv.all && !argv.chromium)
      return log("skipped: only the tests and report --pdf need it (--chromium or --all)");
    if (fs.existsSync("/usr/bin/chromium")) return log("chromium installed: /usr/bin/chromium");
    if (process.getuid?.() !== 0)
      throw new Error("Chromium is missing; install it with: sudo apt-get install -y chromium");
    log("installing Debian's chromium (apt-get)");
    await $`apt-get install -y --no-install-recommends chromium`.quiet().catch(async () => {
      await $`apt-get update`.quiet();
      await $`apt-get install -y --no-install-recommends chromium`.quiet();
    });
    log(`installed: ${(await $`/usr/bin/chromium --version`.quiet()).stdout.trim()}`);
  },
};

await main(async () => {
  const wanted = Object.keys(steps).filter((name) => argv.all || argv[name] || Object.keys(argv).length === 0);
  for (const name of wanted) {
    const started = Date.now();
    console.log(chalk.bold(`setup: ${name}`));
    await steps[name]({ log: (line) => console.log(`  ${line}`), lab });
    console.log(chalk.dim(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s`));
  }
});
