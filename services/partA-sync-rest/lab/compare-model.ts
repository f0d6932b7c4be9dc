// Part A in the comparison: the answer to POST /order is the order's fate (200 confirmed, or an
// error). Inventory's delay is injected over HTTP; an outage stops the inventory service.
import type { ComparisonModel } from "../../harness/implementation.js";
import { down, up, type LabOptions, type RunningPart } from "../../harness/lifecycle.js";
import { inject, timeOrder } from "./latency.js";

export async function compareModel(running: RunningPart, opts: LabOptions): Promise<ComparisonModel> {
  const order = running.services.order.url;
  const inv = running.services.inventory.url;
  let delay = 0;
  return {
    place: async (seq) => {
      const sentAt = Date.now();
      const r = await timeOrder(order, `compare #${seq}`);
      return { http_status: r.http_status, accepted: r.ok, response_ms: r.latency_ms, sentAt, outcome: r.ok ? "confirmed" : "failed", confirmed_ms: r.ok ? r.latency_ms : undefined };
    },
    prepare: async () => {},
    answers: async () => new Map(),
    setDelay: async (s) => {
      delay = s;
      await inject(inv, s, 0);
    },
    stopInventory: () => down("partA", { ...opts, only: ["inventory"] }).then(() => {}),
    startInventory: async () => {
      await up("partA", { ...opts, only: ["inventory"] });
      await inject(inv, delay, 0);
    },
    close: async () => {},
  };
}
