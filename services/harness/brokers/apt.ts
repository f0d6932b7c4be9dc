// Installing a Debian package when it is missing and we are root (as on CI); the caller says
// what to run by hand otherwise.
import { lastLines, run, which } from "./exec.js";

export const canApt = async (): Promise<boolean> => process.getuid?.() === 0 && (await which("apt-get")) !== undefined;

export async function aptInstall(pkg: string, log: (line: string) => void): Promise<void> {
  log(`installing ${pkg} with apt (once)…`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const policy = await run("apt-cache", ["policy", pkg], { timeoutMs: 60_000 });
  if (!/Candidate: (?!\(none\))/.test(policy.output)) await run("apt-get", ["update"], { env, timeoutMs: 300_000 });
  const res = await run("apt-get", ["install", "-y", "--no-install-recommends", pkg], { env, timeoutMs: 600_000 });
  if (res.code !== 0) {
    throw new Error(`\`apt-get install -y ${pkg}\` failed (${res.timedOut ? "timed out" : `exit ${res.code}`}); run it by hand to see why:\n${lastLines(res.output)}`);
  }
}
