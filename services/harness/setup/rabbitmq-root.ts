// RabbitMQ 4 on a machine whose apt offers an older one (Debian 12: 3.10): Debian 13's own
// rabbitmq-server (4.0.5, Erlang 27) in a minimal Debian 13 folder made once per machine with
// `debootstrap`, kept outside the clone, and run with `chroot` (so root is needed, as for apt).
// Measured on the 2-core reference machine: debootstrap 38–62 s + the package 28–36 s, 295 MB after
// `apt-get clean`; a warm start of the node ≈ 6 s.
import fs from "node:fs";
import path from "node:path";
import { aptInstall, canApt, forbidServiceStarts } from "./apt.js";
import { lastLines, run, which } from "../run/brokers/exec.js";
import { labCacheDir } from "../run/brokers/settings.js";

/** The suite debootstrap fetches, and the minor version its rabbitmq-server package has (checked after install). */
const SUITE = "trixie";
export const RABBITMQ_4_MINOR = "4.0";
const DEFAULT_MIRROR = "http://deb.debian.org/debian";
/** Where a node's own folder (LAB_HOME/rabbitmq) appears inside the root: one mount per node, each in its own namespace. */
export const ROOT_NODE_DIR = "/srv/campusfood";
/** Written last: a folder without it is a build that did not finish. */
const COMPLETE = ".campusfood-complete";

export const rabbitmq4RootDir = (): string => path.join(labCacheDir(), "rabbitmq-4", "root");

/** The version of the rabbitmq-server package inside a root (from its lib folder), or undefined. */
export function installedVersion(root: string): string | undefined {
  const lib = path.join(root, "usr/lib/rabbitmq/lib");
  const dir = fs.existsSync(lib) ? fs.readdirSync(lib).find((d) => d.startsWith("rabbitmq_server-")) : undefined;
  return dir?.slice("rabbitmq_server-".length);
}

export const rabbitmq4RootReady = (root = rabbitmq4RootDir()): boolean => fs.existsSync(path.join(root, COMPLETE));

/** The root folder, built first when it is missing (≈ 70 s, once per machine). */
export async function ensureRabbitmq4Root(log: (line: string) => void = () => {}): Promise<string> {
  const root = rabbitmq4RootDir();
  if (rabbitmq4RootReady(root)) return root;
  if (process.platform !== "linux" || process.getuid?.() !== 0) {
    throw new Error(
      "rabbitmq: LAB_RABBITMQ=4 runs Debian 13's RabbitMQ 4 in a chroot, which needs Linux and root (sudo); " +
        "use LAB_RABBITMQ=system (the machine's rabbitmq-server: Homebrew's is 4.x) or Docker (--broker-mode docker)",
    );
  }
  if (!(await which("debootstrap"))) {
    if (!(await canApt()))
      throw new Error("rabbitmq: LAB_RABBITMQ=4 needs debootstrap; install it (apt-get install debootstrap)");
    await aptInstall("debootstrap", log);
  }
  const started = Date.now();
  const mirror = process.env.DEBIAN_MIRROR || DEFAULT_MIRROR;
  fs.mkdirSync(path.dirname(root), { recursive: true });
  const work = fs.mkdtempSync(path.join(path.dirname(root), "build-"));
  try {
    const tmpRoot = path.join(work, "root");
    log(`rabbitmq 4: debootstrap ${SUITE} (minimal Debian 13, ≈ 40 s) from ${mirror} into ${tmpRoot}…`);
    await step("debootstrap", "debootstrap", ["--variant=minbase", SUITE, tmpRoot, mirror], 900_000);
    log(`rabbitmq 4: Debian 13 ready after ${seconds(started)} s; installing rabbitmq-server inside (≈ 30 s)…`);
    // No service of the package starts inside the root (it would be a broker on every interface).
    forbidServiceStarts(path.join(tmpRoot, "usr/sbin/policy-rc.d"));
    fs.mkdirSync(path.join(tmpRoot, ROOT_NODE_DIR.slice(1)), { recursive: true });
    const apt = "apt-get install -y -q --no-install-recommends rabbitmq-server && apt-get clean";
    await step(
      "apt-get install rabbitmq-server (in the root)",
      ...inRoot(tmpRoot, undefined, ["sh", "-c", apt]),
      900_000,
    );
    const version = installedVersion(tmpRoot);
    if (!version?.startsWith(`${RABBITMQ_4_MINOR}.`))
      throw new Error(
        `rabbitmq 4: Debian ${SUITE} installed rabbitmq-server ${version ?? "(none)"}, not ${RABBITMQ_4_MINOR}.x`,
      );
    fs.writeFileSync(path.join(tmpRoot, COMPLETE), `rabbitmq-server ${version} from ${mirror} ${SUITE}\n`);
    // Two set-ups may race: the first rename wins, and the other uses that root.
    try {
      fs.renameSync(tmpRoot, root);
    } catch {
      if (!rabbitmq4RootReady(root))
        throw new Error(`rabbitmq 4: ${root} is in the way; remove it and run the set-up again`);
    }
    log(`rabbitmq 4: rabbitmq-server ${version} ready in ${seconds(started)} s: ${root}`);
    return root;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function step(what: string, command: string, args: string[], timeoutMs: number): Promise<void> {
  const res = await run(command, args, { timeoutMs, env: { DEBIAN_FRONTEND: "noninteractive" } });
  if (res.code !== 0)
    throw new Error(
      `rabbitmq 4: ${what} failed (${res.timedOut ? "timed out" : `exit ${res.code}`}):\n${lastLines(res.output, 10)}`,
    );
}

const seconds = (since: number): number => Math.round((Date.now() - since) / 1000);

/**
 * The command and arguments that run `command` inside `root`, in a mount namespace of its own:
 * /proc mounted (the Erlang VM and apt read it) and, when given, `nodeDir` bind-mounted at
 * ROOT_NODE_DIR. The mounts vanish with the process, crash included: nothing to unmount, nothing
 * left in the shared root. `unshare` execs in place, so the pid is the broker's.
 */
export function inRoot(root: string, nodeDir: string | undefined, command: string[]): [string, string[]] {
  const script = [
    "set -e",
    'mount -t proc proc "$1/proc"',
    '[ -z "$2" ] || mount --bind "$2" "$1$3"',
    'root=$1; shift 3; exec chroot "$root" "$@"',
  ].join("; ");
  return [
    "unshare",
    ["--mount", "--propagation", "private", "sh", "-c", script, "sh", root, nodeDir ?? "", ROOT_NODE_DIR, ...command],
  ];
}
