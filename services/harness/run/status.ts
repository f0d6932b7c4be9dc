// What runs (status.mjs), and the lab's brokers alone, without a service of any part (up.mjs and
// down.mjs with `brokers`, `rabbitmq` or `kafka`: for a team that brings only its services).
import { BROKERS, type BrokerMode, type BrokerStatus } from "./brokers/index.js";
import { labHome } from "../../common/paths.js";
import { answers } from "../../common/wait.js";
import { PARTS, type BrokerId, type PartId } from "./parts.js";
import { isAlive, listRecords } from "./processes.js";

export interface ServiceStatus {
  name: string;
  part: string;
  pid: number;
  port?: number;
  alive: boolean;
  healthy: boolean;
  log: string;
}

export async function status(
  opts: { home?: string } = {},
): Promise<{ services: ServiceStatus[]; brokers: BrokerStatus[] }> {
  const home = opts.home ?? labHome();
  const services = await Promise.all(
    listRecords(home)
      .filter((r) => r.meta?.part)
      .map(async (r) => ({
        name: r.name,
        part: String(r.meta?.part),
        pid: r.pid,
        port: r.meta?.port as number | undefined,
        alive: isAlive(r.pid),
        healthy: typeof r.meta?.health === "string" ? await answers(r.meta.health) : false,
        log: r.log,
      })),
  );
  const brokers = await Promise.all(Object.values(BROKERS).map((b) => b.status({ home })));
  return { services, brokers };
}

/** `brokers` (both), `rabbitmq` or `kafka`: the lab's brokers alone, for a team that brings only its services. */
export function parseBrokerArg(arg: string | undefined): BrokerId[] | undefined {
  if (arg === "brokers") return ["rabbitmq", "kafka"];
  if (arg === "rabbitmq" || arg === "kafka") return [arg];
  return undefined;
}

/** Start the lab's brokers alone (Kafka with Part C's topics declared), no service of any part. */
export async function upBrokers(
  ids: BrokerId[],
  opts: { home?: string; mode?: BrokerMode; log?: (line: string) => void } = {},
): Promise<BrokerStatus[]> {
  const home = opts.home ?? labHome();
  const out: BrokerStatus[] = [];
  for (const id of ids) out.push(await BROKERS[id].up({ home, mode: opts.mode, log: opts.log }));
  return out;
}

/** Stop the lab's brokers, except one a running part of the lab still uses (said in the log). */
export async function downBrokers(
  ids: BrokerId[],
  opts: { home?: string; log?: (line: string) => void } = {},
): Promise<BrokerId[]> {
  const home = opts.home ?? labHome();
  const stopped: BrokerId[] = [];
  for (const id of ids) {
    const users = listRecords(home).filter(
      (r) => r.meta?.part && PARTS[r.meta.part as PartId]?.brokers.includes(id) && isAlive(r.pid),
    );
    if (users.length) {
      opts.log?.(`${id} kept: ${users.map((r) => r.name).join(", ")} still use it (down.mjs PART first)`);
      continue;
    }
    if (!(await BROKERS[id].status({ home })).running) continue;
    await BROKERS[id].down({ home, log: opts.log });
    stopped.push(id);
  }
  return stopped;
}
