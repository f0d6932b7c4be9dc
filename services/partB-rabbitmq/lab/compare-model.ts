// Part B in the comparison: orders through POST /order (202 at once); an order's fate is its
// record at the order service (CONFIRMED once the user is notified, or FAILED).
import type { ComparisonModel, Outcome } from "../../harness/measure/implementation.js";
import type { LabOptions, RunningPart } from "../../harness/run/lifecycle.js";
import { ensureStockFor, experimentOrder } from "../experiments/orders.js";
import { labImplementation } from "./implementation.js";

export async function compareModel(running: RunningPart, opts: LabOptions): Promise<ComparisonModel> {
  const impl = labImplementation(running, opts);
  return {
    prepare: (orders) => ensureStockFor(impl, orders),
    place: async (seq) => {
      const sentAt = Date.now();
      const r = await impl.placeOrder(experimentOrder(seq, "u-compare"));
      return { http_status: r.status, accepted: r.status === 202, response_ms: r.ms, id: r.body?.order_id, sentAt };
    },
    answers: async (ids) => {
      const out = new Map<string, { outcome: Outcome; at?: number }>();
      for (const [oid, rec] of await impl.orders(ids)) {
        if (rec?.status === "CONFIRMED")
          out.set(oid, { outcome: "confirmed", at: rec.notified_at ? Date.parse(rec.notified_at) : undefined });
        else if (rec?.status === "FAILED") out.set(oid, { outcome: "failed" });
      }
      return out;
    },
    setDelay: (s) => impl.faults.inventoryDelay(s),
    stopInventory: () => impl.stopInventory(),
    startInventory: () => impl.startInventory(),
    close: async () => {},
  };
}
