// Docker or native? A reachable Docker engine means the compose files; anything else (no Docker,
// only a client, an engine that is stopped) means native processes. Either can be forced.
import { run } from "./exec.js";
import type { BrokerMode } from "./types.js";

const MODES: BrokerMode[] = ["docker", "native"];

/** Does `docker info` reach an engine within a few seconds? */
export async function dockerEngineReachable(): Promise<boolean> {
  const res = await run("docker", ["info", "--format", "{{.ServerVersion}}"], { timeoutMs: 8_000 });
  return res.code === 0 && res.output.trim() !== "";
}

/** The forced mode (--broker-mode, or LAB_BROKER_MODE), else docker when an engine answers, else native. */
export async function chooseMode(forced?: string): Promise<BrokerMode> {
  const wanted = forced ?? process.env.LAB_BROKER_MODE;
  if (wanted) {
    if (!(MODES as string[]).includes(wanted))
      throw new Error(
        `unknown broker mode ${JSON.stringify(wanted)}: use --broker-mode docker or --broker-mode native`,
      );
    if (wanted === "docker" && !(await dockerEngineReachable())) {
      throw new Error(
        "--broker-mode docker: no Docker engine answers `docker info`; start Docker, or use --broker-mode native",
      );
    }
    return wanted as BrokerMode;
  }
  return (await dockerEngineReachable()) ? "docker" : "native";
}
