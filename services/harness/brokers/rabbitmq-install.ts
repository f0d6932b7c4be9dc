// Getting RabbitMQ onto the machine for native mode: Debian's `rabbitmq-server` package, installed
// with apt when it is missing and we are root; otherwise one line saying the exact command.
import fs from "node:fs";
import { aptInstall, canApt } from "./apt.js";
import { run, which } from "./exec.js";

/** Debian's real start script; /usr/sbin/rabbitmq-server is a wrapper that switches to the rabbitmq user. */
const DEBIAN_SERVER_SCRIPT = "/usr/lib/rabbitmq/bin/rabbitmq-server";
export const RABBITMQ_INSTALL_COMMAND = "sudo apt-get install -y rabbitmq-server";

export async function findRabbitmqServer(): Promise<string | undefined> {
  if (process.env.RABBITMQ_SERVER_BIN) return process.env.RABBITMQ_SERVER_BIN;
  if (fs.existsSync(DEBIAN_SERVER_SCRIPT)) return DEBIAN_SERVER_SCRIPT;
  return which("rabbitmq-server"); // e.g. Homebrew's
}

/** The path of the rabbitmq-server start script, installing the package first when we can. */
export async function ensureRabbitmqInstalled(log: (line: string) => void = () => {}): Promise<string> {
  const found = await findRabbitmqServer();
  if (found) return found;
  if (!(await canApt())) {
    throw new Error(`rabbitmq: rabbitmq-server is not installed; install it with \`${RABBITMQ_INSTALL_COMMAND}\` (Homebrew: \`brew install rabbitmq\`), or run the lab with Docker (--mode docker)`);
  }
  await aptInstall("rabbitmq-server", log);
  await stopSystemService(log);
  const installed = await findRabbitmqServer();
  if (!installed) throw new Error("rabbitmq: apt installed rabbitmq-server but its start script was not found");
  return installed;
}

/**
 * The package starts a system-wide RabbitMQ on install where services may start. The lab runs its
 * own node in the project folder instead, so the system one must not hold the ports.
 */
async function stopSystemService(log: (line: string) => void): Promise<void> {
  if (await which("systemctl")) await run("systemctl", ["disable", "--now", "rabbitmq-server"], { timeoutMs: 60_000 });
  if (await which("service")) await run("service", ["rabbitmq-server", "stop"], { timeoutMs: 60_000 });
  log("stopped the system-wide rabbitmq-server service the package may have started (the lab runs its own node)");
}
