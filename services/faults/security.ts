// Security basics, checked on a running lab rather than promised: every socket the stacks listen
// on (services and native brokers, the management UI included) is bound to loopback; the only
// credentials in the tracked files are the documented local defaults (guest/guest), the rest
// comes from the environment; request bodies and `count` are bounded.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { request as httpRequest } from "node:http";
import path from "node:path";
import axios from "axios";
import { down, up, type RunningPart } from "../harness/run/lifecycle.js";
import { PART_IDS, PARTS, type PartId } from "../harness/run/parts.js";
import { projectRoot } from "../common/paths.js";
import { freePort } from "../harness/run/ports.js";
import { listRecords } from "../harness/run/processes.js";
import { MAX_LOAD_COUNT } from "../partC-kafka/produce-orders.js";
import type { ScenarioOptions } from "../harness/judge/verdict.js";
import { countBy } from "../harness/run/stack.js";
import type { Check } from "../harness/judge/check.js";
import { verdictOf, type ScenarioResult } from "../harness/judge/verdict.js";

// ---- An oversized body ----

/**
 * Send a body past the services' limit and read the answer. A server that refuses it early (413)
 * may close the connection while the body is still being written: the client's write then fails
 * with EPIPE, although the answer has already arrived. The answer counts, not the broken write.
 */
function sendOversized(
  method: string,
  url: string,
  body: string,
): Promise<{ status: number | string; error?: string }> {
  return new Promise((resolve) => {
    let answered = false;
    const req = httpRequest(
      url,
      {
        method,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        timeout: 30_000,
      },
      (res) => {
        answered = true;
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, error: errorOf(text) }));
        res.on("error", () => resolve({ status: res.statusCode ?? 0, error: errorOf(text) }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("no answer within 30 s")));
    req.on("error", (err) => {
      if (!answered) resolve({ status: err.message });
    });
    req.end(body);
  });
}

function errorOf(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { error?: string }).error;
  } catch {
    return undefined;
  }
}

// ---- Listening sockets, from /proc ----

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

// ---- Credentials in the tracked files ----

export interface CredentialFinding {
  file: string;
  line: number;
  text: string;
}

/** The documented local defaults (RabbitMQ's guest account, loopback-only) and placeholders are allowed. */
const placeholder = (v: string) => /^(\*+|\$\{[^}]+\}|<[^>]+>)$/.test(v);
const SECRET_PATTERNS: { re: RegExp; allowed: (m: RegExpMatchArray) => boolean }[] = [
  // user:password@ in a URL
  {
    re: /\b[a-z][a-z0-9+.-]*:\/\/([^\s:/@'"`]+):([^\s@/'"`]+)@/gi,
    allowed: (m) => (m[1] === "guest" && m[2] === "guest") || placeholder(m[2]),
  },
  // a password, secret or key assigned a string literal
  {
    re: /\b(password|passwd|pwd|secret|api[_-]?key|access[_-]?token)\b["']?\s*[:=]\s*["']([^"'\s]{3,})["']/gi,
    allowed: (m) => m[2] === "guest" || placeholder(m[2]),
  },
  { re: /-----BEGIN [A-Z ]*PRIVATE KEY-----/g, allowed: () => false },
  { re: /\bAKIA[0-9A-Z]{16}\b/g, allowed: () => false }, // AWS access key id
  { re: /\bgh[pousr]_[A-Za-z0-9]{30,}\b/g, allowed: () => false }, // GitHub token
];

export function credentialFindings(root = projectRoot): {
  files: number;
  findings: CredentialFinding[];
  defaults: number;
} {
  const files = execFileSync("git", ["ls-files", "-z"], { cwd: root }).toString("utf8").split("\0").filter(Boolean);
  const findings: CredentialFinding[] = [];
  let defaults = 0;
  for (const f of files) {
    let buf: Buffer;
    try {
      buf = fs.readFileSync(path.join(root, f));
    } catch {
      continue; // deleted in the working tree
    }
    if (buf.includes(0)) continue; // binary
    buf
      .toString("utf8")
      .split("\n")
      .forEach((line, i) => {
        for (const { re, allowed } of SECRET_PATTERNS) {
          for (const m of line.matchAll(re)) {
            if (allowed(m)) defaults++;
            else findings.push({ file: f, line: i + 1, text: line.trim().slice(0, 160) });
          }
        }
      });
  }
  return { files: files.length, findings, defaults };
}

// ---- The scenario ----

const http = axios.create({
  validateStatus: () => true,
  timeout: 30_000,
  maxBodyLength: Infinity,
  transformRequest: [(d) => d],
});

export async function securityBasics(opts: ScenarioOptions): Promise<ScenarioResult> {
  const running: Partial<Record<PartId, RunningPart>> = {};
  try {
    for (const part of PART_IDS) {
      const ports: Record<string, number> = {};
      for (const name of Object.keys(PARTS[part].defaultPorts)) ports[name] = await freePort();
      running[part] = await up(part, {
        home: opts.home,
        ports,
        mode: "native",
        healthTimeoutMs: 60_000,
        env: {
          DATA_DIR: path.join(opts.home, "data", `security-${Date.now()}`),
          RESULTS_DIR: path.join(opts.home, "results"),
        },
      });
    }

    // 1. Listening sockets of every lab process: services, brokers, epmd.
    const records = listRecords(opts.home);
    const pids = [...new Set(records.flatMap((r) => processGroup(r.pid)))];
    const listeners = listenersOf(pids);
    const exposed = listeners.filter((l) => !isLoopback(l.address));
    const rabbit = records.find((r) => r.name === "rabbitmq")?.meta?.settings as
      { ports: { management: number }; dir: string } | undefined;
    const management = listeners.filter((l) => l.port === rabbit?.ports.management);
    const conf = rabbit ? fs.readFileSync(path.join(rabbit.dir, "rabbitmq.conf"), "utf8") : "";
    opts.log(
      `${listeners.length} listening sockets of ${pids.length} lab processes: ${[...new Set(listeners.map((l) => `${l.address}`))].join(", ")}`,
    );

    // 2. Credentials in the repository.
    const creds = credentialFindings();
    opts.log(
      `${creds.files} tracked files scanned: ${creds.defaults} local defaults, ${creds.findings.length} other credentials`,
    );

    // 3. Bounded requests: a 2 MB body on every POST/PUT endpoint, and counts past their limits.
    const huge = JSON.stringify({ padding: "x".repeat(2 * 1024 * 1024) });
    const s = (part: PartId, name: string) => running[part]!.services[name].url;
    const writes: [string, string, string][] = [
      ["POST", "A order /order", `${s("partA", "order")}/order`],
      ["POST", "A inventory /reserve", `${s("partA", "inventory")}/reserve`],
      ["POST", "A notification /send", `${s("partA", "notification")}/send`],
      ["POST", "B order /order", `${s("partB", "order")}/order`],
      ["PUT", "B inventory /stock", `${s("partB", "inventory")}/stock`],
      ["POST", "C producer /produce", `${s("partC", "producer")}/produce`],
      ["POST", "C producer /load-test", `${s("partC", "producer")}/load-test`],
      ["POST", "C analytics /replay", `${s("partC", "analytics")}/replay`],
      ["POST", "C analytics /report", `${s("partC", "analytics")}/report`],
    ];
    const bodies = [];
    for (const [method, name, url] of writes) {
      const res = await sendOversized(method, url, huge);
      bodies.push({ name, status: res.status, error: res.error });
    }
    const tooBig = bodies.filter((b) => !(typeof b.status === "number" && b.status >= 400 && b.status < 500));
    const counts = [];
    for (const count of [MAX_LOAD_COUNT + 1, 1e9, 1e308]) {
      const res = await http.post(`${s("partC", "producer")}/load-test`, JSON.stringify({ count }), {
        headers: { "content-type": "application/json" },
      });
      counts.push({ count, status: res.status });
    }
    const limit = await http.get(`${s("partB", "order")}/orders`, { params: { limit: 1e9 } });
    counts.push({ count: "GET /orders?limit=1e9", status: limit.status });
    const unbounded = counts.filter((c) => c.status !== 400);
    opts.log(
      `2 MB bodies: ${JSON.stringify(countBy(bodies, (b) => String(b.status)))}; counts past the limit: ${JSON.stringify(countBy(counts, (c) => String(c.status)))}`,
    );

    const invariants: Check[] = [
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
          /management\.tcp\.ip = 127\.0\.0\.1/.test(conf),
        observed: management.map((l) => `${l.address}:${l.port}`).join(", ") || "not found",
      },
      {
        check: "no credentials in the tracked files but the local defaults (guest/guest); the rest from env",
        passed: creds.findings.length === 0,
        observed: creds.findings.length
          ? creds.findings
              .slice(0, 5)
              .map((f) => `${f.file}:${f.line}`)
              .join(", ")
          : `${creds.files} files, ${creds.defaults} mentions of the local defaults`,
      },
      {
        check: "a 2 MB body gets a 4xx on every POST/PUT endpoint",
        passed: tooBig.length === 0,
        observed: tooBig.length
          ? JSON.stringify(tooBig)
          : `${bodies.length} endpoints: ${JSON.stringify(countBy(bodies, (b) => `${b.status} ${b.error}`))}`,
      },
      {
        check: `count is bounded (load-test ≤ ${MAX_LOAD_COUNT}, list limit ≤ 100000)`,
        passed: unbounded.length === 0,
        observed: counts.map((c) => `${c.count} → ${c.status}`).join(", "),
      },
    ];
    const probes = listeners.length + bodies.length + counts.length;
    return verdictOf({
      scenario: "security-basics",
      part: "all",
      seed: opts.seed,
      orders_sent: bodies.length + counts.length,
      orders_acknowledged: [...bodies, ...counts].filter((b) => typeof b.status === "number" && b.status < 300).length,
      final_states: { ...countBy([...bodies, ...counts], (b) => `HTTP ${b.status}`) },
      lost: 0,
      duplicated_effects: 0,
      invariants,
      details: { probes, listeners, credential_findings: creds.findings.slice(0, 20), bodies, counts },
    });
  } finally {
    for (const part of PART_IDS) if (running[part]) await down(part, { home: opts.home, keepBrokers: true });
  }
}
