// Security basics, second family: the only credentials in the tracked files are the documented
// local defaults (guest/guest); the rest comes from the environment.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { projectRoot } from "../common/paths.js";
import type { Check } from "../harness/judge/check.js";

export interface CredentialFinding {
  file: string;
  line: number;
  text: string;
}

export interface CredentialScan {
  files: number;
  findings: CredentialFinding[];
  defaults: number;
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

export function credentialFindings(root = projectRoot): CredentialScan {
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

export const credentialCheck = (creds: CredentialScan): Check => ({
  check: "no credentials in the tracked files but the local defaults (guest/guest); the rest from env",
  passed: creds.findings.length === 0,
  observed: creds.findings.length
    ? creds.findings
        .slice(0, 5)
        .map((f) => `${f.file}:${f.line}`)
        .join(", ")
    : `${creds.files} files, ${creds.defaults} mentions of the local defaults`,
});
