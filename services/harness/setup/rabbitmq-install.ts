// Getting RabbitMQ onto the machine for native mode: Debian's `rabbitmq-server` package, installed
// with apt when it is missing and we are root; otherwise one line saying the exact command.
import fs from "node:fs";
import { aptInstall, canApt } from "./apt.js";
import { run, which } from "../run/brokers/exec.js";

/** Debian's real start script; /usr/sbin/rabbitmq-server is a wrapper that switches to the rabbitmq user. */
export const DEBIAN_SERVER_SCRIPT = "/usr/lib/rabbitmq/bin/rabbitmq-server";
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
    throw new Error(
      `rabbitmq: rabbitmq-server is not installed; install it with \`${RABBITMQ_INSTALL_COMMAND}\` (Homebrew: \`brew install rabbitmq\`), or run the lab with Docker (--broker-mode docker)`,
    );
  }
  // Installed without starting its services (policy-rc.d): no system-wide broker, no epmd on
  // every interface. Whatever started anyway (a policy that allows it) is stopped after.
  await aptInstall("rabbitmq-server", log, { startServices: false });
  await stopSystemService(log);
  await stopSystemEpmd(log);
  const installed = await findRabbitmqServer();
  if (!installed) throw new Error("rabbitmq: apt installed rabbitmq-server but its start script was not found");
  return installed;
}

/**
 * The package starts a system-wide RabbitMQ on install where services may start. The lab runs its
 * own node in the project folder instead, so the system one must not hold the ports. Only when one
 * runs: the init script's stop asks `rabbitmqctl status` first, and that Erlang CLI starts an epmd
 * daemon (as the rabbitmq user, on every interface) when none is there.
 */
async function stopSystemService(log: (line: string) => void): Promise<void> {
  // systemd running (not in a container): the units, and epmd's socket activation, off for good.
  if (fs.existsSync("/run/systemd/system") && (await which("systemctl"))) {
    await run("systemctl", ["disable", "--now", "rabbitmq-server.service", "epmd.service", "epmd.socket"], {
      timeoutMs: 60_000,
    });
  }
  if ((await systemProcesses("beam.smp")).length === 0) return;
  if (await which("service")) await run("service", ["rabbitmq-server", "stop"], { timeoutMs: 60_000 });
  log("stopped the system-wide rabbitmq-server service the package started (the lab runs its own node)");
}

/** Accounts of Debian's packages: the system-wide broker runs as rabbitmq, erlang-base's epmd.service as epmd. */
const SYSTEM_USERS = ["rabbitmq", "epmd"];

/** Pids of processes named `name` that run as one of the packages' accounts (never the lab's own). */
async function systemProcesses(name: string): Promise<number[]> {
  const uids = new Set<number>();
  for (const line of fs.readFileSync("/etc/passwd", "utf8").split("\n")) {
    const [user, , uid] = line.split(":");
    if (SYSTEM_USERS.includes(user)) uids.add(Number(uid));
  }
  if (uids.size === 0) return [];
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, "utf8").trim() !== name) continue;
      const uid = Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${entry}/status`, "utf8"))?.[1]);
      if (uids.has(uid)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/**
 * An epmd the package left behind: started by its install scripts or its CLI tools as the rabbitmq
 * (or epmd) user, listening on 0.0.0.0:4369, and outliving the broker. The lab's own epmd runs as
 * the lab's user on loopback. Left alone while a system-wide node still runs (it needs it).
 */
export async function systemEpmdPids(): Promise<number[]> {
  if (!fs.existsSync("/proc") || (await systemProcesses("beam.smp")).length > 0) return [];
  return systemProcesses("epmd");
}

export async function stopSystemEpmd(log: (line: string) => void): Promise<void> {
  const pids = await systemEpmdPids();
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  if (pids.length)
    log(`stopped the system-wide epmd the package started (pid ${pids.join(", ")}; it listened on every interface)`);
}
