// Part A in the comparison: the answer to POST /order is the order's fate (200 confirmed, or an
// error). Inventory's delay is injected over HTTP; an outage stops the inventory service.
import type { ComparisonModel } from "../../harness/implementation.js";
import type { LabOptions, RunningPart } from "../../harness/lifecycle.js";
import { labImplementation } from "./implementation.js";
import { inject, timeOrder } from "./latency.js";

export async function compareModel(running: RunningPart, opts: LabOptions): Promise<ComparisonModel> {
  const impl = labImplementation(running, opts);
  let delay = 0;
  return {
    place: async (seq) => {
      const sentAt = Date.now();
      const r = await timeOrder(impl, `compare #${seq}`);
      return {
        http_status: r.http_status,
        accepted: r.ok,
        response_ms: r.latency_ms,
        sentAt,
        outcome: r.ok ? "confirmed" : "failed",
        confirmed_ms: r.ok ? r.latency_ms : undefined,
      };
    },
    prepare: async () => {},
    answers: async () => new Map(),
    setDelay: async (s) => {
      delay = s;
      await inject(impl, s, 0);
    },
    stopInventory: () => impl.stopService("inventory"),
    startInventory: async () => {
      await impl.startService("inventory");
      await inject(impl, delay, 0);
    },
    close: async () => {},
  };
}
