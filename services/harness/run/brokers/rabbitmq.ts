// RabbitMQ run natively: Debian's rabbitmq-server started as the lab's own node, with its data,
// config, cookie and logs inside LAB_HOME, listening on loopback only, management UI on (its
// /api/overview says the node is ready; the lab's counters come from AMQP, see partB lab/client.ts).
// LAB_RABBITMQ picks the machine's server or RabbitMQ 4's root (rabbitmq-root.ts): same lifecycle.
import fs from "node:fs";
import path from "node:path";
import amqp from "amqplib";
import axios from "axios";
import { isAlive, readRecord, startProcess, stopProcess, type ProcessRecord } from "../processes.js";
import { portInUse } from "../ports.js";
import { waitUntil } from "../../../common/wait.js";
import { which } from "./exec.js";
import { assertPortsFree, waitServing } from "./native.js";
import { DEBIAN_SERVER_SCRIPT, ensureRabbitmqInstalled } from "../../setup/rabbitmq-install.js";
import { ensureRabbitmq4Root, inRoot, ROOT_NODE_DIR } from "../../setup/rabbitmq-root.js";
import { rabbitClientEnv, rabbitSettings, type RabbitSettings } from "./settings.js";
import type { Broker, BrokerOptions, BrokerStatus } from "./types.js";

const PROCESS = "rabbitmq";
/** Erlang's port mapper. Started by the lab (not as a daemon), so `down` can stop it too. */
const EPMD_PROCESS = "rabbitmq-epmd";
const START_TIMEOUT_MS = 120_000;

const overview = (management: number) =>
  axios.get(`http://127.0.0.1:${management}/api/overview`, {
    auth: { username: "guest", password: "guest" },
    timeout: 2_000,
    validateStatus: () => true,
  });

/** Can a client open an AMQP connection, and does the management API answer? */
export async function rabbitServes(ports: { amqp: number; management: number }): Promise<boolean> {
  try {
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${ports.amqp}`, { timeout: 2_000 });
    await conn.close();
    return (await overview(ports.management)).status === 200;
  } catch {
    return false;
  }
}

/**
 * The node's folder, config and env. `at` is where the folder appears to the server: itself for
 * the machine's rabbitmq-server, ROOT_NODE_DIR inside the RabbitMQ 4 root (bind-mounted there).
 */
/** The version a running node reports (management API), e.g. "4.0.5". */
export async function rabbitVersion(ports: { management: number }): Promise<string> {
  const res = await overview(ports.management).catch(() => undefined);
  return res?.status === 200 ? String(res.data?.rabbitmq_version ?? "?") : "?";
}

function writeConfig(s: RabbitSettings, at = s.dir): Record<string, string> {
  const dir = s.dir;
  fs.mkdirSync(path.join(dir, "mnesia"), { recursive: true });
  fs.mkdirSync(path.join(dir, "log"), { recursive: true });
  const file = (name: string, text: string) => {
    fs.writeFileSync(path.join(dir, name), text);
    return path.join(at, name);
  };
  const config = file(
    "rabbitmq.conf",
    [
      "# Written by the lab on every start; change ports with RABBITMQ_PORT / RABBITMQ_MANAGEMENT_PORT.",
      `listeners.tcp.default = 127.0.0.1:${s.ports.amqp}`,
      `management.tcp.ip = 127.0.0.1`,
      `management.tcp.port = ${s.ports.management}`,
      "# guest/guest works from this machine only (RabbitMQ's default, kept explicit).",
      "loopback_users.guest = true",
      "",
    ].join("\n"),
  );
  return {
    // The Erlang cookie is created in $HOME: keep it in the lab folder, not in the user's home.
    HOME: at,
    RABBITMQ_NODENAME: s.nodeName,
    RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
    RABBITMQ_NODE_PORT: String(s.ports.amqp),
    RABBITMQ_DIST_PORT: String(s.ports.distribution),
    ERL_EPMD_PORT: String(s.ports.epmd),
    RABBITMQ_CONFIG_FILE: config,
    RABBITMQ_ADVANCED_CONFIG_FILE: path.join(at, "advanced.config"),
    RABBITMQ_ENABLED_PLUGINS_FILE: file("enabled_plugins", "[rabbitmq_management].\n"),
    // Ignore the system-wide /etc/rabbitmq/rabbitmq-env.conf: this node is the lab's own.
    RABBITMQ_CONF_ENV_FILE: file("rabbitmq-env.conf", ""),
    RABBITMQ_MNESIA_BASE: path.join(at, "mnesia"),
    RABBITMQ_LOG_BASE: path.join(at, "log"),
    RABBITMQ_LOGS: "-", // to stdout, i.e. the lab's log file for this process
    RABBITMQ_PID_FILE: path.join(at, "rabbitmq.pid"),
    // No epmd daemon behind our back (it would outlive the broker); the lab starts its own.
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: "-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}",
  };
}

/** What runs the server and epmd: the machine's, or RabbitMQ 4's root (built first when missing). */
interface RabbitCommands {
  server: [string, string[]];
  epmd: () => Promise<[string, string[]]>;
  /** Where the node's folder appears to the server. */
  nodeDir: string;
}

async function rabbitCommands(s: RabbitSettings, log: (line: string) => void): Promise<RabbitCommands> {
  if (s.choice === "4") {
    const root = await ensureRabbitmq4Root(log);
    return {
      server: inRoot(root, s.dir, [DEBIAN_SERVER_SCRIPT]),
      epmd: async () => ["chroot", [root, "/usr/bin/epmd", ...epmdArgs(s)]],
      nodeDir: ROOT_NODE_DIR,
    };
  }
  return {
    server: [await ensureRabbitmqInstalled(log), []],
    epmd: async () => [(await which("epmd")) ?? "epmd", epmdArgs(s)],
    nodeDir: s.dir,
  };
}

const epmdArgs = (s: RabbitSettings): string[] => ["-port", String(s.ports.epmd), "-address", "127.0.0.1"];

async function ensureEpmd(s: RabbitSettings, commands: RabbitCommands, log: (line: string) => void): Promise<void> {
  if (await portInUse(s.ports.epmd)) return; // ours from before, or the system's: either serves
  const [command, args] = await commands.epmd();
  const record = startProcess(
    {
      name: EPMD_PROCESS,
      command,
      args,
      meta: { broker: "rabbitmq", port: s.ports.epmd },
    },
    s.home,
  );
  await waitServing("epmd", record, s.home, () => portInUse(s.ports.epmd), 10_000);
  log(`epmd up on port ${s.ports.epmd} (pid ${record.pid})`);
}

const recordedSettings = (r: ProcessRecord, fallback: RabbitSettings): RabbitSettings =>
  (r.meta?.settings as RabbitSettings | undefined) ?? fallback;

function describe(s: RabbitSettings, r: ProcessRecord, running: boolean, detail?: string): BrokerStatus {
  return {
    id: "rabbitmq",
    running,
    mode: "native",
    pid: r.pid,
    endpoint: `amqp://127.0.0.1:${s.ports.amqp} (management http://127.0.0.1:${s.ports.management}, guest/guest)`,
    ports: {
      amqp: s.ports.amqp,
      management: s.ports.management,
      distribution: s.ports.distribution,
      epmd: s.ports.epmd,
    },
    log: r.log,
    detail,
    env: rabbitClientEnv(s.ports),
  };
}

async function status(opts: BrokerOptions): Promise<BrokerStatus> {
  const s = rabbitSettings(opts.home);
  const record = readRecord(PROCESS, opts.home);
  if (!record)
    return { id: "rabbitmq", running: false, mode: "native", detail: "not started", env: rabbitClientEnv(s.ports) };
  const started = recordedSettings(record, s);
  if (!isAlive(record.pid)) {
    return describe(
      started,
      record,
      false,
      `process ${record.pid} is gone (killed or crashed); \`up\` starts it again`,
    );
  }
  const serves = await rabbitServes(started.ports);
  return describe(
    started,
    record,
    serves,
    serves ? undefined : `process ${record.pid} is alive but AMQP/management do not answer (still starting?)`,
  );
}

async function up(opts: BrokerOptions): Promise<BrokerStatus> {
  const log = opts.log ?? (() => {});
  const s = rabbitSettings(opts.home);
  const existing = readRecord(PROCESS, opts.home);
  if (existing && isAlive(existing.pid)) {
    const started = recordedSettings(existing, s);
    await waitServing("rabbitmq", existing, opts.home, () => rabbitServes(started.ports), START_TIMEOUT_MS);
    log(`rabbitmq already running (pid ${existing.pid}, AMQP ${started.ports.amqp})`);
    return status(opts);
  }
  if (existing) await down(opts); // a crashed one: clear what is left of it first

  const commands = await rabbitCommands(s, log);
  await assertPortsFree("rabbitmq", [
    { port: s.ports.amqp, what: "AMQP", envVar: "RABBITMQ_PORT" },
    { port: s.ports.management, what: "management UI", envVar: "RABBITMQ_MANAGEMENT_PORT" },
    { port: s.ports.distribution, what: "Erlang distribution", envVar: "RABBITMQ_DIST_PORT" },
  ]);
  await ensureEpmd(s, commands, log);
  const env = writeConfig(s, commands.nodeDir);
  const started = Date.now();
  const [command, args] = commands.server;
  const record = startProcess(
    { name: PROCESS, command, args, env, meta: { broker: "rabbitmq", settings: s } },
    opts.home,
  );
  log(
    `rabbitmq (${s.choice === "4" ? "RabbitMQ 4 root" : "the machine's rabbitmq-server"}) starting (node ${s.nodeName}, AMQP ${s.ports.amqp}, management ${s.ports.management}, log ${record.log})`,
  );
  await waitServing("rabbitmq", record, opts.home, () => rabbitServes(s.ports), START_TIMEOUT_MS);
  log(
    `rabbitmq ${await rabbitVersion(s.ports)} up in ${((Date.now() - started) / 1000).toFixed(1)} s (pid ${record.pid})`,
  );
  return status(opts);
}

async function down(opts: BrokerOptions): Promise<void> {
  const record = readRecord(PROCESS, opts.home);
  if (record) {
    await stopProcess(PROCESS, opts.home, 30_000);
    opts.log?.(`rabbitmq stopped (pid ${record.pid})`);
  }
  const epmd = readRecord(EPMD_PROCESS, opts.home);
  if (epmd) {
    await stopProcess(EPMD_PROCESS, opts.home);
    // Wait for the port to be released, so an `up` right after can start a fresh one.
    await waitUntil(async () => !(await portInUse(recordedEpmdPort(epmd))), "epmd to release its port", 5_000).catch(
      () => {},
    );
  }
}

const recordedEpmdPort = (r: ProcessRecord): number => Number(r.meta?.port);

export const nativeRabbitmq: Broker = { id: "rabbitmq", up, down, status };
