// Getting Kafka onto the machine for native mode: Java 17, and the broker's jars, either from a
// Kafka already installed (KAFKA_HOME, or `kafka-server-start` on PATH as Homebrew installs it)
// or fetched once from Maven Central with the small pom next to this file.
import fs from "node:fs";
import path from "node:path";
import { projectRoot } from "../../common/paths.js";
import { lastLines, run, which } from "../run/brokers/exec.js";

/** The pom that lists the jars; its <kafka.version> is the one version native and Docker use. */
export const KAFKA_POM = path.join(projectRoot, "services", "harness", "run", "brokers", "kafka", "pom.xml");
export const KAFKA_VERSION =
  /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(fs.readFileSync(KAFKA_POM, "utf8"))?.[1] ?? "unknown";
export const JAVA_INSTALL_COMMAND = "sudo apt-get install -y openjdk-17-jre-headless";
const MAVEN_INSTALL_COMMAND = "sudo apt-get install -y maven";

/** The java binary, checked to be Java 17 or newer. */
export async function ensureJava(): Promise<string> {
  const java = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, "bin", "java") : await which("java");
  const res = java ? await run(java, ["-version"], { timeoutMs: 30_000 }) : undefined;
  if (!java || !res || res.code !== 0) {
    throw new Error(
      `kafka: Java 17 is needed to run Kafka natively and none was found; install it with \`${JAVA_INSTALL_COMMAND}\` (or set JAVA_HOME), or run the lab with Docker (--broker-mode docker)`,
    );
  }
  const major = Number(/version "(?:1\.)?(\d+)/.exec(res.output)?.[1] ?? 0);
  if (major < 17) {
    throw new Error(
      `kafka: Java 17 or newer is needed, ${java} is Java ${major}; install it with \`${JAVA_INSTALL_COMMAND}\` or point JAVA_HOME at a newer one`,
    );
  }
  return java;
}

export interface KafkaJars {
  libs: string;
  version: string;
  source: "KAFKA_HOME" | "PATH" | "maven";
}

const versionOf = (libs: string): string | undefined =>
  fs
    .readdirSync(libs)
    .map((f) => /^kafka_2\.\d+-(\d[^-]*?)\.jar$/.exec(f)?.[1])
    .find(Boolean);

/** A Kafka installed on the machine, if any: its libs/ folder. */
async function installedKafka(): Promise<Omit<KafkaJars, "version"> | undefined> {
  if (process.env.KAFKA_HOME) return { libs: path.join(process.env.KAFKA_HOME, "libs"), source: "KAFKA_HOME" };
  const script = (await which("kafka-server-start")) ?? (await which("kafka-server-start.sh"));
  if (!script) return undefined;
  // Homebrew: bin/kafka-server-start runs libexec/bin/kafka-server-start.sh; a tarball: bin/ next to libs/.
  const bin = path.dirname(fs.realpathSync(script));
  const libs = [path.join(bin, "..", "libs"), path.join(bin, "..", "libexec", "libs")].find((d) => fs.existsSync(d));
  return libs ? { libs: path.resolve(libs), source: "PATH" } : undefined;
}

/**
 * The Kafka versions the lab runs natively: single-node KRaft with a static voter (3.3 made KRaft
 * production-ready), up to the newest kafkajs 2.2.4 was checked against. kafkajs speaks the
 * protocol versions 4.x kept (admin, idempotent and transactional producers, groups, commits,
 * seek and offsets were checked against 4.1.1 and 4.4.0, with 3.9.1 as the control).
 */
export const SUPPORTED_KAFKA = "3.3 – 4.4";
export function supportedKafka(version: string): boolean {
  const [major, minor] = version.split(".").map(Number);
  return (major === 3 && minor >= 3) || (major === 4 && minor <= 4);
}

/** The folder of Kafka jars to run the broker from, fetching them the first time. */
export async function ensureKafkaJars(libsDir: string, log: (line: string) => void = () => {}): Promise<KafkaJars> {
  const installed = await installedKafka();
  if (installed && fs.existsSync(installed.libs)) {
    const version = versionOf(installed.libs) ?? "unknown";
    if (supportedKafka(version)) return { ...installed, version };
    log(
      `the installed Kafka (${installed.libs}) is ${version}, outside what the lab supports (${SUPPORTED_KAFKA}); the lab uses Kafka ${KAFKA_VERSION} from Maven Central instead`,
    );
  }
  const marker = path.join(libsDir, `.fetched-${KAFKA_VERSION}`);
  if (!fs.existsSync(marker)) await fetchKafkaJars(libsDir, log);
  return { libs: libsDir, version: KAFKA_VERSION, source: "maven" };
}

/** mvn dependency:copy-dependencies into a temporary folder, renamed into place once complete. */
export async function fetchKafkaJars(libsDir: string, log: (line: string) => void = () => {}): Promise<void> {
  const mvn = await which("mvn");
  if (!mvn) {
    throw new Error(
      `kafka: Maven is needed once to fetch the Kafka ${KAFKA_VERSION} jars; install it with \`${MAVEN_INSTALL_COMMAND}\`, or set KAFKA_HOME to an installed Kafka ${SUPPORTED_KAFKA}, or run the lab with Docker (--broker-mode docker)`,
    );
  }
  log(`fetching Kafka ${KAFKA_VERSION} jars from Maven Central with Maven (once, ~60 MB) into ${libsDir}…`);
  const tmp = `${libsDir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const res = await run(
    mvn,
    ["-B", "-q", "-f", KAFKA_POM, "dependency:copy-dependencies", "-DincludeScope=runtime", `-DoutputDirectory=${tmp}`],
    {
      timeoutMs: 15 * 60_000,
    },
  );
  if (res.code !== 0 || !fs.existsSync(tmp) || !versionOf(tmp)) {
    fs.rmSync(tmp, { recursive: true, force: true });
    const why = res.timedOut ? "timed out after 15 min" : `exit ${res.code}`;
    // Maven's first [ERROR] line says what failed; the ones after it are advice about Maven itself.
    // eslint-disable-next-line no-control-regex -- strips ANSI colours, which start with ESC
    const output = res.output.replace(/\x1b\[[0-9;]*m/g, "");
    const last = (output.split("\n").find((l) => l.startsWith("[ERROR]")) ?? lastLines(output, 1)).slice(0, 400);
    throw new Error(
      `kafka: Maven could not fetch Kafka ${KAFKA_VERSION} from Maven Central (${why}: ${last}); check the network or the proxy in ~/.m2/settings.xml, or set KAFKA_HOME to an installed Kafka ${SUPPORTED_KAFKA}`,
    );
  }
  fs.writeFileSync(path.join(tmp, `.fetched-${KAFKA_VERSION}`), new Date().toISOString() + "\n");
  fs.rmSync(libsDir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(libsDir), { recursive: true });
  fs.renameSync(tmp, libsDir);
}
