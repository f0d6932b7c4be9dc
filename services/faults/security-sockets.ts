// Security basics, first family: every socket the lab's processes listen on (services and native
// brokers, the management UI included) is bound to loopback. Read from /proc, not from the
// configs: what is checked is what actually listens.
import fs from "node:fs";
import path from "node:path";
import type { Check } from "../harness/judge/check.js";
import { listRecords } from "../harness/run/processes.js";

export interface Listener {
  pid: number;
  command: string;
  address: string;
  port: number;
}

/** "0100007F:1F90" (IPv4, little-endian words) or 32 hex digits (IPv6) → printable address and port. */
function decodeAddress(hex: string): { address: string; port: number } {
  const [ip, port] = hex.split(":");
  const words = ip.match(/.{8}/g)!.map((w) => w.match(/../g)!.reverse().join(""));
  if (ip.length === 8)
    return {
      address: words[0]
        .match(/../g)!
        .map((b) => parseInt(b, 16))
        .join("."),
      port: parseInt(port, 16),
    };
  const groups = words
    .join("")
    .match(/.{4}/g)!
    .map((g) => parseInt(g, 16).toString(16));
  const v4mapped = groups.slice(0, 5).every((g) => g === "0") && groups[5] === "ffff";
  if (v4mapped)
    return {
      address: `::ffff:${[groups[6], groups[7]].map((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 255].join(".")).join(".")}`,
      port: parseInt(port, 16),
    };
  return { address: groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::"), port: parseInt(port, 16) };
}

export const isLoopback = (address: string): boolean =>
  address.startsWith("127.") || address === "::1" || address.startsWith("::ffff:127.");

/** Every listening TCP socket owned by one of these processes. */
export function listenersOf(pids: number[]): Listener[] {
  const byInode = new Map<string, { address: string; port: number }>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, "utf8").trim().split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === "0A") byInode.set(cols[9], decodeAddress(cols[1])); // 0A = LISTEN
    }
  }
  const out: Listener[] = [];
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    const command = fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    for (const fd of fds) {
      const inode = /^socket:\[(\d+)\]$/.exec(safeReadlink(`/proc/${pid}/fd/${fd}`))?.[1];
      const l = inode ? byInode.get(inode) : undefined;
      if (l) out.push({ pid, command, ...l });
    }
  }
  return out;
}

const safeReadlink = (p: string): string => {
  try {
    return fs.readlinkSync(p);
  } catch {
    return "";
  }
};

/** A process and everything in its process group (the lab starts each in a group of its own). */
export function processGroup(leader: number): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const pgrp = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
      if (pgrp === leader || Number(entry) === leader) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

export interface LabSockets {
  pids: number[];
  listeners: Listener[];
  /** The listeners on the RabbitMQ management port, and the config the broker was started with. */
  management: Listener[];
  rabbitConf: string;
}

/** The listening sockets of every lab process (services, brokers, epmd) recorded in `home`. */
export function labSockets(home: string): LabSockets {
  const records = listRecords(home);
  const pids = [...new Set(records.flatMap((r) => processGroup(r.pid)))];
  const listeners = listenersOf(pids);
  const rabbit = records.find((r) => r.name === "rabbitmq")?.meta?.settings as
    { ports: { management: number }; dir: string } | undefined;
  return {
    pids,
    listeners,
    management: listeners.filter((l) => l.port === rabbit?.ports.management),
    rabbitConf: rabbit ? fs.readFileSync(path.join(rabbit.dir, "rabbitmq.conf"), "utf8") : "",
  };
}

export function socketChecks({ listeners, management, rabbitConf }: LabSockets): Check[] {
  const exposed = listeners.filter((l) => !isLoopback(l.address));
  return [
    {
      check: "every listening socket of the lab is on loopback",
      passed: listeners.length > 0 && exposed.length === 0,
      observed: exposed.length
        ? exposed.map((l) => `${l.command} ${l.address}:${l.port}`).join(", ")
        : `${listeners.length} sockets (${[...new Set(listeners.map((l) => l.command))].join(", ")}), all on ${[...new Set(listeners.map((l) => l.address))].join("/")}`,
    },
    {
      check: "the RabbitMQ management UI listens on loopback only",
      passed:
        management.length > 0 &&
        management.every((l) => isLoopback(l.address)) &&
        /management\.tcp\.ip = 127\.0\.0\.1/.test(rabbitConf),
      observed: management.map((l) => `${l.address}:${l.port}`).join(", ") || "not found",
    },
  ];
}
