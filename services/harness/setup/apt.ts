// Installing a Debian package when it is missing and we are root (as on CI); the caller says
// what to run by hand otherwise.
import fs from "node:fs";
import { lastLines, run, which } from "../run/brokers/exec.js";

/** Debian's hook that invoke-rc.d and deb-systemd-invoke ask before starting a service: 101 = no. */
const POLICY_RC_D = "/usr/sbin/policy-rc.d";

export const canApt = async (): Promise<boolean> => process.getuid?.() === 0 && (await which("apt-get")) !== undefined;

/**
 * `startServices: false`: the package's services are not started by its install scripts (a broker
 * package would otherwise start a system-wide broker, and its epmd, listening on every interface).
 */
export async function aptInstall(
  pkg: string,
  log: (line: string) => void,
  opts: { startServices?: boolean } = {},
): Promise<void> {
  log(`installing ${pkg} with apt (once)…`);
  const release = opts.startServices === false ? forbidServiceStarts() : () => {};
  try {
    await install(pkg);
  } finally {
    release();
  }
}

/** Put a policy-rc.d that refuses every start in place, unless one is there already; returns the undo. */
export function forbidServiceStarts(file = POLICY_RC_D): () => void {
  try {
    fs.writeFileSync(
      file,
      "#!/bin/sh\n# Written by the lab's set-up for the length of an apt install: start no service.\nexit 101\n",
      { mode: 0o755, flag: "wx" },
    );
  } catch {
    return () => {}; // one exists (Docker images ship one that says 101): leave it as it is
  }
  return () => fs.rmSync(file, { force: true });
}

async function install(pkg: string): Promise<void> {
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const policy = await run("apt-cache", ["policy", pkg], { timeoutMs: 60_000 });
  if (!/Candidate: (?!\(none\))/.test(policy.output)) await run("apt-get", ["update"], { env, timeoutMs: 300_000 });
  const res = await run("apt-get", ["install", "-y", "--no-install-recommends", pkg], { env, timeoutMs: 600_000 });
  if (res.code !== 0) {
    throw new Error(
      `\`apt-get install -y ${pkg}\` failed (${res.timedOut ? "timed out" : `exit ${res.code}`}); run it by hand to see why:\n${lastLines(res.output)}`,
    );
  }
}
