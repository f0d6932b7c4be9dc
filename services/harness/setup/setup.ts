// What native mode needs installed, for lab-scripts/setup.mjs (and CI): rabbitmq-server from
// apt, Java 17, the Kafka jars from Maven Central. Each step checks first; a second run does nothing.
import { aptInstall, canApt } from "./apt.js";
import { which } from "../run/brokers/exec.js";
import { ensureJava, ensureKafkaJars } from "./kafka-install.js";
import { ensureRabbitmqInstalled, stopSystemEpmd } from "./rabbitmq-install.js";
import { kafkaSettings } from "../run/brokers/settings.js";

export async function setupNativeBrokers(opts: { log?: (line: string) => void } = {}): Promise<void> {
  const log = opts.log ?? (() => {});
  log(`rabbitmq-server: ${await ensureRabbitmqInstalled(log)}`);
  // An earlier set-up (or the package's CLI tools) may have left the system's epmd listening on
  // every interface; the lab runs its own on loopback.
  if (process.getuid?.() === 0) await stopSystemEpmd(log);
  if (!(await which("java")) && !process.env.JAVA_HOME && (await canApt()))
    await aptInstall("openjdk-17-jre-headless", log);
  log(`java: ${await ensureJava()}`);
  if (!(await which("mvn")) && (await canApt())) await aptInstall("maven", log);
  const jars = await ensureKafkaJars(kafkaSettings().libsDir, log);
  log(`kafka ${jars.version} jars (${jars.source}): ${jars.libs}`);
}
