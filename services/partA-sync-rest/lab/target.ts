// Part A's implementation under test built from a target file: a team's own services, in any
// language, reached only through what the file names — its URLs, its fault switches, its stop
// and start commands. Hands off: nothing else is started, stopped or changed. What the file does
// not give (a fault switch, a command, the lab's own call policy) is NotObservable, with the reason.
import { request } from "../../harness/implementation.js";
import type { RunningService } from "../../harness/lifecycle.js";
import { callTarget, controlService, NotObservable, type Target } from "../../harness/target.js";
import type { OrderAnswerBody, PartAEndpoints, PartAImplementation, PartAService } from "./implementation.js";

/** The order body when the target gives none: the seed's own test sends `{"order": "test #1"}`. */
const DEFAULT_ORDER = { order: "lab" };

/** A target's Part A, or an error that says the file has none. */
export function partAOf(target: Target): NonNullable<Target["partA"]> {
  if (!target.partA) throw new NotObservable(`the target ${target.name} has no partA`);
  return target.partA;
}

/** The endpoints a target gives; a service it leaves out is "" (its health is then not observable). */
export function targetEndpoints(target: Target): PartAEndpoints {
  const s = partAOf(target).services;
  return { order: s.order, inventory: s.inventory ?? "", notification: s.notification ?? "" };
}

export function targetImplementation(target: Target): PartAImplementation {
  const a = partAOf(target);
  const urls = targetEndpoints(target);
  const healthPath = a.health_path ?? "/health";
  const urlOf = (service: PartAService) => {
    if (!urls[service]) throw new NotObservable(`the target gives no URL for ${service} (partA.services.${service})`);
    return urls[service];
  };
  const fault = (name: "inventory_delay" | "inventory_fail_rate", key: string) => async (value: number) => {
    const call = a.faults?.[name];
    // Turning a fault off where it cannot be turned on is nothing to do.
    if (!call && value === 0) return;
    if (!call) throw new NotObservable(`the target has no way to set inventory's ${key} (partA.faults.${name})`);
    await callTarget(call, { [key]: value });
  };
  return {
    part: "partA",
    endpoints: urls,
    placeOrder: (body = a.place_order?.body ?? DEFAULT_ORDER) =>
      request<OrderAnswerBody>("post", `${urls.order}${a.place_order?.path ?? "/order"}`, body, { timeoutMs: 60_000 }),
    health: (service) => request("get", `${urlOf(service)}${healthPath}`),
    policy: () =>
      Promise.reject(
        new NotObservable(
          `${target.name} does not publish the lab's call policy (timeouts, retries) in /health: judged from outside`,
        ),
      ),
    stopService: (service, how = "graceful") =>
      controlService(target, service, a.control?.[service], how === "kill" ? "kill" : "stop", ""),
    startService: async (service, env = {}): Promise<RunningService> => {
      if (Object.keys(env).length)
        throw new NotObservable(
          `${target.name}'s ${service} is started by its own command: the lab cannot give it ${Object.keys(env).join(", ")}`,
        );
      const url = urlOf(service);
      await controlService(target, service, a.control?.[service], "start", `${url}${healthPath}`);
      return { name: service, port: Number(new URL(url).port) || 80, url, pid: 0, log: "" };
    },
    faults: {
      inventoryDelay: fault("inventory_delay", "seconds"),
      inventoryFailRate: fault("inventory_fail_rate", "rate"),
      inventoryFailAfterReserveRate: () =>
        Promise.reject(
          new NotObservable(
            "a target file has no switch for an inventory that reserves and then fails (the lab's own safeguard experiments use it)",
          ),
        ),
    },
  };
}
