#!/usr/bin/env zx
// The lab's own set-up: installs what is missing, idempotently, and says what it did.
//   npx zx lab-scripts/setup.mjs [--brokers] [--rabbitmq4] [--jupyter] [--chromium] [--compose] [--all]
// Each step checks first and does nothing when its part is already there.
import { library, main, parseFlags } from "./lib.mjs";

const COMPOSE_VERSION = "v2.40.3";
const COMPOSE_MODULE = "github.com/docker/compose/v2";
// Tools built or fetched once per machine live outside the clone (CI's fresh clones share them).
const cacheDir = () => install().labCacheDir();

const { values: argv } = parseFlags({
  summary:
    "The lab's own set-up: installs what is missing, idempotently, and says what it did. Without flags: brokers and Jupyter.",
  usage: "npx zx lab-scripts/setup.mjs [--brokers] [--rabbitmq4] [--jupyter] [--chromium] [--compose] [--all]",
  options: {
    brokers: { type: "boolean", help: "native brokers: RabbitMQ (apt, as root), Java 17, the Kafka jars" },
    rabbitmq4: {
      type: "boolean",
      help: "RabbitMQ 4 for LAB_RABBITMQ=4: Debian 13's rabbitmq-server in a folder made with debootstrap (≈ 70 s and 300 MB, once per machine; Linux, root)",
    },
    jupyter: { type: "boolean", help: "JupyterLab and nbconvert in .venv/, with the tslab kernel" },
    chromium: { type: "boolean", help: "headless Chromium, for the tests and `report.mjs --pdf`" },
    compose: {
      type: "boolean",
      help: `the docker compose tool ${COMPOSE_VERSION}, for the tests only: built from its Go module (6–12 min on 2 cores, once per machine; needs Go and the docker client)`,
    },
    all: {
      type: "boolean",
      help: "every step above; the compose tool only where CI is set (a student's `npm test` never starts the Go build), RabbitMQ 4 only where CI or LAB_RABBITMQ=4 is set",
    },
  },
  epilog:
    "What is built once per machine (RabbitMQ 4's folder, the compose tool) is kept in CAMPUS_FOOD_LAB_CACHE (default: ~/.cache/campus-food-lab), outside the clone.",
});

// The installers (services/harness/setup/), loaded once flags are parsed: --help needs no build.
const install = () => library("harness/setup");

const steps = {
  // Filled in by the parts that need them (brokers, Jupyter).
  // Native brokers: Debian's rabbitmq-server (apt, as root), Java 17, the Kafka jars (Maven, once).
  brokers: ({ log }) => install().setupNativeBrokers({ log }),
  // RabbitMQ 4 beside the machine's (CI tests Part B on both): built once per machine, outside the clone.
  rabbitmq4: async ({ log }) => {
    const asked = argv.rabbitmq4 || (argv.all && (Boolean(process.env.CI) || process.env.LAB_RABBITMQ === "4"));
    if (!asked && !install().rabbitmq4RootReady())
      return log(
        "skipped: only LAB_RABBITMQ=4 and CI need it (--rabbitmq4, or --all where CI or LAB_RABBITMQ=4 is set)",
      );
    const root = await install().ensureRabbitmq4Root(log);
    log(`rabbitmq-server ${install().installedVersion(root)}: ${root}`);
  },
  // JupyterLab + nbconvert in the project's .venv/, with the tslab kernel registered into it.
  jupyter: ({ log }) => install().ensureJupyter({ log }),
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
  // docker compose for the compose tests (`docker compose config` on every compose file): no engine is
  // needed, only the docker client and its compose plugin. Built from its Go module through the Go
  // module proxy (`go install` refuses it), once per machine, then linked as the client's plugin.
  compose: async ({ log }) => {
    const asked = argv.compose || (argv.all && Boolean(process.env.CI));
    const works = async () => (await $`docker compose version --short`.quiet().nothrow()).stdout.trim();
    if (!(await which("docker", { nothrow: true }))) {
      if (asked)
        throw new Error(
          "the docker client is missing: install it (Debian: docker.io or docker-ce-cli; no engine is needed)",
        );
      return log("skipped: no docker client here");
    }
    const present = await works();
    if (present) return log(`docker compose ${present}`);
    const binary = path.join(cacheDir(), `docker-compose-${COMPOSE_VERSION}`);
    if (!fs.existsSync(binary)) {
      if (!asked) return log("skipped: only the compose tests need it (--compose, or --all where CI is set)");
      if (!(await which("go", { nothrow: true })))
        throw new Error(`Go is missing: install Go 1.24 or later to build docker compose ${COMPOSE_VERSION}`);
      const started = Date.now();
      log(`building docker compose ${COMPOSE_VERSION} from its Go module (6–12 min on 2 cores, once per machine)`);
      const env = { ...process.env, GOFLAGS: "-mod=mod", CGO_ENABLED: "0" };
      const dl = JSON.parse(
        (await $({ env })`go mod download -json ${`${COMPOSE_MODULE}@${COMPOSE_VERSION}`}`.quiet()).stdout,
      );
      if (dl.Error || !dl.Dir)
        throw new Error(`go mod download ${COMPOSE_MODULE}@${COMPOSE_VERSION}: ${dl.Error ?? "no Dir"}`);
      fs.mkdirSync(cacheDir(), { recursive: true });
      const work = fs.mkdtempSync(path.join(cacheDir(), "compose-build-"));
      try {
        const src = path.join(work, "src");
        fs.cpSync(dl.Dir, src, { recursive: true }); // the module cache is read-only; the build updates go.sum
        await $`chmod -R u+w ${src}`;
        const ldflags = `-w -s -X ${COMPOSE_MODULE}/internal.Version=${COMPOSE_VERSION}`;
        await $({
          env,
          cwd: src,
        })`go build -trimpath -ldflags ${ldflags} -o ${path.join(work, "docker-compose")} ./cmd`.quiet();
        fs.renameSync(path.join(work, "docker-compose"), binary);
      } finally {
        fs.rmSync(work, { recursive: true, force: true });
      }
      log(`built in ${Math.round((Date.now() - started) / 1000)} s: ${binary}`);
    }
    const plugins = path.join(process.env.DOCKER_CONFIG ?? path.join(os.homedir(), ".docker"), "cli-plugins");
    const plugin = path.join(plugins, "docker-compose");
    const existing = fs.lstatSync(plugin, { throwIfNoEntry: false });
    if (existing && !(existing.isSymbolicLink() && fs.readlinkSync(plugin).startsWith(cacheDir())))
      throw new Error(
        `${plugin} is there but does not work as docker compose; remove it, and this step links ${binary} in its place`,
      );
    fs.mkdirSync(plugins, { recursive: true });
    fs.rmSync(plugin, { force: true });
    fs.symlinkSync(binary, plugin);
    const version = await works();
    if (!version) throw new Error(`docker does not find the compose plugin at ${plugin}`);
    log(`docker compose ${version}: ${plugin} → ${binary}`);
  },
};

await main(async () => {
  const wanted = Object.keys(steps).filter((name) => argv.all || argv[name] || Object.keys(argv).length === 0);
  for (const name of wanted) {
    const started = Date.now();
    console.log(chalk.bold(`setup: ${name}`));
    await steps[name]({ log: (line) => console.log(`  ${line}`) });
    console.log(chalk.dim(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s`));
  }
});
