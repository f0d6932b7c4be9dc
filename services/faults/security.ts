// Security basics, checked on a running lab rather than promised: every socket the stacks listen
// on (services and native brokers, the management UI included) is bound to loopback; the only
// credentials in the tracked files are the documented local defaults (guest/guest), the rest
// comes from the environment; request bodies and `count` are bounded. One file per family of
// checks: security-sockets.ts, security-credentials.ts, security-requests.ts.
import path from "node:path";
import { down, serviceUrl, up, type RunningPart } from "../harness/run/lifecycle.js";
import { PART_IDS, PARTS, type PartId } from "../harness/run/parts.js";
import { freePort } from "../harness/run/ports.js";
import { countBy } from "../harness/run/stack.js";
import { verdictOf, type ScenarioOptions, type ScenarioResult } from "../harness/judge/verdict.js";
import { credentialCheck, credentialFindings } from "./security-credentials.js";
import { boundedRequests, requestChecks } from "./security-requests.js";
import { labSockets, socketChecks } from "./security-sockets.js";

/** A part on ports of its own, native brokers, a fresh data dir. */
async function upOnFreePorts(part: PartId, opts: ScenarioOptions): Promise<RunningPart> {
  const ports: Record<string, number> = {};
  for (const name of Object.keys(PARTS[part].defaultPorts)) ports[name] = await freePort();
  return up(part, {
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

export async function securityBasics(opts: ScenarioOptions): Promise<ScenarioResult> {
  const running: Partial<Record<PartId, RunningPart>> = {};
  try {
    for (const part of PART_IDS) running[part] = await upOnFreePorts(part, opts);
    const sockets = labSockets(opts.home);
    const { listeners } = sockets;
    opts.log(
      `${listeners.length} listening sockets of ${sockets.pids.length} lab processes: ${[...new Set(listeners.map((l) => `${l.address}`))].join(", ")}`,
    );
    const creds = credentialFindings();
    opts.log(
      `${creds.files} tracked files scanned: ${creds.defaults} local defaults, ${creds.findings.length} other credentials`,
    );
    const requests = await boundedRequests((part, name) => serviceUrl(running[part]!, name), opts.log);
    const probes = [...requests.bodies, ...requests.counts];
    return verdictOf({
      scenario: "security-basics",
      part: "all",
      seed: opts.seed,
      orders_sent: probes.length,
      orders_acknowledged: probes.filter((b) => typeof b.status === "number" && b.status < 300).length,
      final_states: { ...countBy(probes, (b) => `HTTP ${b.status}`) },
      lost: 0,
      duplicated_effects: 0,
      invariants: [...socketChecks(sockets), credentialCheck(creds), ...requestChecks(requests)],
      details: {
        probes: listeners.length + probes.length,
        listeners,
        credential_findings: creds.findings.slice(0, 20),
        ...requests,
      },
    });
  } finally {
    for (const part of PART_IDS) if (running[part]) await down(part, { home: opts.home, keepBrokers: true });
  }
}
