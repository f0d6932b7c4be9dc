// Part A · in-flight-limit. A burst of orders, several times the limit, while inventory takes 2 s.
// With MAX_IN_FLIGHT the order service holds at most that many and answers the rest at once
// (503, retry-after); without it, it takes them all: every order waits on the slow inventory, and
// each holds the order service's memory and a socket to inventory until it is answered.
import { safeguardRun, type SafeguardExperiment, type SafeguardRun } from "../../harness/safeguards.js";
import type { Answer } from "../../harness/implementation.js";
import { burst } from "../faults/stack.js";
import type { PartAImplementation } from "../lab/implementation.js";
import { PARTA_SAFEGUARDS } from "../switches.js";
import { DEADLINE_SLACK_MS } from "./call-timeout.js";
import { onPartA, secs, waits } from "./on-part-a.js";

const NAME = "in-flight-limit";
const POLICY = { MAX_IN_FLIGHT: "32" };
const DELAY_S = 2;
/**
 * The full run's burst, kept under the listen backlog (Node's 511): a burst of 1000 at once had
 * connections wait for SYN retransmits (1 s, 3 s, 7 s) before the service saw them, and with the
 * limit on, 559 of the refusals reached the client after the deadline — the kernel's queue, not
 * the service's.
 */
const BURST_FULL = 400;

/** The order service's memory, sampled every 100 ms while `work` runs: the peak (MB). */
async function peakMemory<T>(
  impl: PartAImplementation,
  work: Promise<T>,
): Promise<{ result: T; rss: number; heap: number }> {
  const peak = { rss: 0, heap: 0 };
  let done = false;
  const sampling = (async () => {
    while (!done) {
      const { memory_mb } = (await impl.health("order")).body;
      if (memory_mb)
        [peak.rss, peak.heap] = [Math.max(peak.rss, memory_mb.rss), Math.max(peak.heap, memory_mb.heap_used)];
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const result = await work.finally(() => (done = true));
  await sampling;
  return { result, ...peak };
}

/**
 * The checker: orders held beyond the limit at the peak (each one waiting on the slow inventory
 * where the limit would have answered it at once), and orders answered past the deadline (+ slack)
 * or not at all.
 */
export function countPileUp(
  answers: Answer[],
  order: { policy: { max_in_flight: number; deadline_ms: number }; max_in_flight_seen: number },
  memory: { before: { rss: number; heap_used: number }; rss: number; heap: number },
): SafeguardRun {
  const { max_in_flight, deadline_ms } = order.policy;
  const bound = deadline_ms + DEADLINE_SLACK_MS;
  const counts = {
    orders: answers.length,
    max_in_flight,
    max_in_flight_seen: order.max_in_flight_seen,
    held_beyond_limit: Math.max(0, order.max_in_flight_seen - max_in_flight),
    answered_past_deadline: answers.filter((a) => a.status !== 0 && a.ms > bound).length,
    no_answer: answers.filter((a) => a.status === 0).length,
    refused_503: answers.filter((a) => a.status === 503).length,
    confirmed: answers.filter((a) => a.status === 200).length,
    ...waits(answers),
    rss_mb_before: memory.before.rss,
    rss_mb_peak: memory.rss,
    heap_mb_before: memory.before.heap_used,
    heap_mb_peak: memory.heap,
  };
  return safeguardRun(
    counts,
    ["held_beyond_limit", "answered_past_deadline", "no_answer"],
    `${counts.max_in_flight_seen} orders in flight at the peak (limit ${max_in_flight}), ${counts.answered_past_deadline + counts.no_answer} answered past the ${secs(deadline_ms)} deadline (+${secs(DEADLINE_SLACK_MS)}) or not at all, ${counts.refused_503} refused at once; the client waited ${secs(counts.wait_median_ms)} (median), up to ${secs(counts.wait_max_ms)}; order service RSS ${counts.rss_mb_before} → ${counts.rss_mb_peak} MB, heap ${counts.heap_mb_before} → ${counts.heap_mb_peak} MB`,
  );
}

export const inFlightLimit: SafeguardExperiment = {
  safeguard: NAME,
  part: "A",
  scenario: `a burst of many times MAX_IN_FLIGHT=${POLICY.MAX_IN_FLIGHT} orders at once while inventory takes ${DELAY_S} s`,
  prevents: PARTA_SAFEGUARDS[NAME].prevents,
  run: (opts, on) =>
    onPartA(opts, NAME, on, POLICY, async (impl) => {
      const before = (await impl.health("order")).body.memory_mb;
      await impl.faults.inventoryDelay(DELAY_S);
      const { result: answers, ...peak } = await peakMemory(impl, burst(impl, opts.quick ? 200 : BURST_FULL, "burst"));
      const { max_in_flight_seen } = (await impl.health("order")).body;
      return countPileUp(answers, { policy: await impl.policy(), max_in_flight_seen }, { before, ...peak });
    }),
};
