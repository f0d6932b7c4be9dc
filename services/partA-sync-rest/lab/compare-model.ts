// Part A in the comparison: the answer to POST /order is the order's fate (200 confirmed, or an
// error). Inventory's delay is injected through the driver; an outage stops the inventory service.
import type { ComparisonModel } from "../../harness/measure/implementation.js";
import type { LabOptions, RunningPart } from "../../harness/run/lifecycle.js";
import { LAB_TARGET_FILE, loadTarget } from "../../harness/judge/target.js";
import { openPartA } from "./implementation.js";
import { inject, timeOrder } from "../experiments/latency.js";

export async function compareModel(running: RunningPart, opts: LabOptions): Promise<ComparisonModel> {
  // The part the comparison already runs: opening it again starts nothing, and closing stops nothing.
  const ports = Object.fromEntries(Object.values(running.services).map((s) => [s.name, s.port]));
  const impl = await openPartA(loadTarget(LAB_TARGET_FILE), { ...opts, ports });
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
    close: () => impl.close(),
  };
}
