// The epmd Debian's RabbitMQ package leaves behind: its CLI tools (the init script's
// `rabbitmqctl status` / `stop`) start `epmd -daemon` as the rabbitmq user, listening on every
// interface, and it outlives them. The set-up finds it by its owner (never the lab's own epmd,
// which runs as the lab's user on loopback) and stops it. Here one is started the same way, on a
// free port, recognised, and stopped by its pid alone (the machine's own is left alone).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import { promisify } from "node:util";
import { systemEpmdPids } from "../harness/setup/rabbitmq-install.js";
import { freePort } from "../harness/run/ports.js";
import { waitUntil } from "../common/wait.js";

const RABBITMQCTL = "/usr/lib/rabbitmq/bin/rabbitmqctl";
const hasRabbitmqUser = () =>
  fs
    .readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .some((l) => l.startsWith("rabbitmq:"));

/** The pid of the process listening on a TCP port, from /proc (no ss needed). */
function listener(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[3] === "0A" && parseInt(f[1].split(":").pop()!, 16) === port) inodes.add(f[9]);
    }
  }
  for (const pid of fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    try {
      for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1])) return Number(pid);
      }
    } catch {
      // gone, or not ours to read
    }
  }
  return undefined;
}

test("an epmd started by the package's CLI as the rabbitmq user is recognised as the system's, the lab's own is not", async (t) => {
  if (process.getuid?.() !== 0 || !fs.existsSync(RABBITMQCTL) || !hasRabbitmqUser())
    return t.skip("needs root and Debian's rabbitmq-server package");
  const port = await freePort();
  // What the set-up's `service rabbitmq-server stop` did: the init script asks rabbitmqctl first.
  await promisify(execFile)(
    "su",
    [
      "rabbitmq",
      "-s",
      "/bin/sh",
      "-c",
      `cd /var/lib/rabbitmq; ERL_EPMD_PORT=${port} ${RABBITMQCTL} -n nobody@localhost status`,
    ],
    { timeout: 60_000 },
  ).catch(() => {});
  let pid: number | undefined;
  await waitUntil(async () => (pid = listener(port)) !== undefined, `an epmd on port ${port}`, 10_000, 100);
  try {
    assert.equal(fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim(), "epmd");
    const tcp = fs.readFileSync("/proc/net/tcp", "utf8");
    assert.match(
      tcp,
      new RegExp(`^\\s*\\d+: 00000000:${port.toString(16).toUpperCase().padStart(4, "0")} `, "m"),
      "it listens on 0.0.0.0: what the set-up must not leave behind",
    );
    const found = await systemEpmdPids();
    assert.ok(found.includes(pid!), `${pid} among ${found.join(", ")}`);
    for (const p of found)
      assert.notEqual(
        Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${p}/status`, "utf8"))?.[1]),
        process.getuid(),
        "never one of the lab's own",
      );
  } finally {
    if (pid) process.kill(pid, "SIGTERM");
  }
  await waitUntil(async () => listener(port) === undefined, "the epmd to stop", 5_000, 100);
});
