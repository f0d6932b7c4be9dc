// A broker run by Docker Compose from compose/<file>.yml: `up -d --wait` the broker service alone
// (the lab runs the services itself), remembered in <LAB_HOME>/docker/<id>.json so that `down`
// stops only what the lab started.
import fs from "node:fs";
import path from "node:path";
import { ensureDir, projectRoot } from "../../../common/paths.js";
import type { BrokerId } from "../parts.js";
import { waitUntil } from "../../../common/wait.js";
import { lastLines, run } from "./exec.js";
import { assertPortsFree, type NamedPort } from "./native.js";
import type { Broker, BrokerOptions, BrokerStatus } from "./types.js";

export interface ComposeBrokerDef {
  id: BrokerId;
  /** File under compose/, e.g. async-rabbitmq.yml. */
  file: string;
  service: string;
  /** Host ports the compose file publishes (read from env now, as the compose file does). */
  ports(): (NamedPort & { key: string })[];
  endpoint(ports: Record<string, number>): string;
  clientEnv(ports: Record<string, number>): Record<string, string>;
  serves(ports: Record<string, number>): Promise<boolean>;
  /** What the lab declares once the broker serves (Kafka topics). */
  declare?(ports: Record<string, number>): Promise<void>;
}

interface Marker {
  file: string;
  service: string;
  ports: Record<string, number>;
  startedAt: string;
}

const markerFile = (home: string, id: BrokerId) => path.join(home, "docker", `${id}.json`);

export function dockerStarted(home: string, id: BrokerId): boolean {
  return fs.existsSync(markerFile(home, id));
}

function readMarker(home: string, id: BrokerId): Marker | undefined {
  try {
    return JSON.parse(fs.readFileSync(markerFile(home, id), "utf8")) as Marker;
  } catch {
    return undefined;
  }
}

const composeArgs = (file: string) => ["compose", "-f", path.join(projectRoot, "compose", file)];
const portsByName = (ports: (NamedPort & { key: string })[]): Record<string, number> =>
  Object.fromEntries(ports.map((p) => [p.key, p.port]));

const logsCommand = (def: ComposeBrokerDef) => `docker compose -f compose/${def.file} logs ${def.service}`;

export function composeBroker(def: ComposeBrokerDef): Broker {
  return {
    id: def.id,
    up: (opts) => composeUp(def, opts),
    down: (opts) => composeDown(def, opts),
    status: (opts) => composeStatus(def, opts),
  };
}

async function composeStatus(def: ComposeBrokerDef, opts: BrokerOptions): Promise<BrokerStatus> {
  const marker = readMarker(opts.home, def.id);
  if (!marker)
    return {
      id: def.id,
      running: false,
      mode: "docker",
      detail: "not started",
      env: def.clientEnv(portsByName(def.ports())),
    };
  const serves = await def.serves(marker.ports);
  return {
    id: def.id,
    running: serves,
    mode: "docker",
    endpoint: def.endpoint(marker.ports),
    ports: marker.ports,
    log: logsCommand(def),
    detail: serves ? undefined : `the ${def.service} container does not answer; see \`${logsCommand(def)}\``,
    env: def.clientEnv(marker.ports),
  };
}

async function composeUp(def: ComposeBrokerDef, opts: BrokerOptions): Promise<BrokerStatus> {
  const log = opts.log ?? (() => {});
  const marker = readMarker(opts.home, def.id);
  if (marker && (await def.serves(marker.ports))) {
    await def.declare?.(marker.ports);
    log(`${def.id} already running in Docker`);
    return composeStatus(def, opts);
  }
  const named = def.ports();
  const ports = portsByName(named);
  if (!marker) await assertPortsFree(def.id, named);
  log(`${def.id}: docker compose -f compose/${def.file} up -d --wait ${def.service}`);
  const res = await run("docker", [...composeArgs(def.file), "up", "-d", "--wait", def.service], {
    timeoutMs: 10 * 60_000,
  });
  if (res.code !== 0) {
    throw new Error(
      `${def.id}: \`docker compose -f compose/${def.file} up -d --wait ${def.service}\` failed (${res.timedOut ? "timed out" : `exit ${res.code}`}): ${lastLines(res.output, 3)}`,
    );
  }
  fs.writeFileSync(
    path.join(ensureDir(path.join(opts.home, "docker")), `${def.id}.json`),
    JSON.stringify({ file: def.file, service: def.service, ports, startedAt: new Date().toISOString() }, null, 2),
  );
  await waitUntil(() => def.serves(ports), `${def.id} in Docker to serve (see \`${logsCommand(def)}\`)`, 120_000, 500);
  await def.declare?.(ports);
  log(`${def.id} up in Docker (${def.endpoint(ports)})`);
  return composeStatus(def, opts);
}

async function composeDown(def: ComposeBrokerDef, opts: BrokerOptions): Promise<void> {
  const marker = readMarker(opts.home, def.id);
  if (!marker) return;
  // `stop`, not `down`: the container and its data stay for the next `up`.
  const res = await run("docker", [...composeArgs(marker.file), "stop", marker.service], { timeoutMs: 2 * 60_000 });
  if (res.code !== 0)
    throw new Error(
      `${def.id}: \`docker compose -f compose/${marker.file} stop ${marker.service}\` failed: ${lastLines(res.output, 3)}`,
    );
  fs.rmSync(markerFile(opts.home, def.id), { force: true });
  opts.log?.(`${def.id} stopped (Docker)`);
}
