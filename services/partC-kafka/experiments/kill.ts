// The consumer crash of the lag experiment (its `kill` option): inventory, draining the backlog,
// is frozen and killed (kill -9) at a moment when it has sent answers it has not committed yet,
// then started again. The group resumes from the last commit, so those orders are answered again
// (the same eventId: copies, not new answers). Without commit-after-ack the commit comes first:
// the moment is "committed, not answered" (`uncommitted` < 0), and those orders are never answered.
import type { Admin } from "kafkajs";
import { sleep, waitUntil } from "../../common/wait.js";
import { signalGroup } from "../../harness/run/processes.js";
import { pidOf } from "../../harness/run/stack.js";
import { endOffsets, total, type PartCKafka } from "../lab/kafka-tap.js";
import type { PartC } from "../lab/implementation.js";

export interface Kill {
  /** Orders inventory had answered when it was killed. */
  answered: number;
  /** Of those, not yet committed (< 0: committed but not answered). */
  uncommitted: number;
  /** Freezes it took to find the moment. */
  tries: number;
}

/** Answers on the wire and orders committed: taken while inventory is stopped, counted from. */
export type KillBaseline = { answers: number; committed: number };

const answersNow = async (w: PartCKafka) => total(await endOffsets(w.kafka, w.topics.inventory_events));

/** Orders the inventory group has committed (next offsets summed over the partitions of `orders`). */
async function committedOrders(admin: Admin, w: PartCKafka): Promise<number> {
  const [t] = await admin.fetchOffsets({ groupId: w.groups.inventory!, topics: [w.topics.orders] });
  return t.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

export async function killBaseline(impl: PartC): Promise<KillBaseline> {
  const w = await impl.kafka();
  return { answers: await answersNow(w), committed: await committedOrders(w.admin, w) };
}

/**
 * Once a third of the backlog is answered, kill -9 at a moment when the consumer's answers and
 * its committed offset disagree: freeze it (SIGSTOP), look, and kill it if so, else let it run a
 * few milliseconds more and look again. That window (between the acknowledged send and the
 * commit) is what at-least-once is about; a kill at a random moment almost never lands in it.
 */
export async function killBetweenAnswerAndCommit(impl: PartC, from: KillBaseline, backlog: number): Promise<Kill> {
  const w = await impl.kafka();
  const pid = pidOf(impl.processes(), "inventory")!;
  const answered = async () => (await answersNow(w)) - from.answers;
  await waitUntil(
    async () => (await answered()) >= backlog / 3,
    "inventory to answer a third of the backlog",
    120_000,
    20,
  );
  const signal = (sig: NodeJS.Signals) => signalGroup(pid, sig);
  for (let tries = 1; ; tries++) {
    signal("SIGSTOP");
    const a = await answered();
    const uncommitted = a - ((await committedOrders(w.admin, w)) - from.committed);
    if (uncommitted !== 0 || tries === 500) {
      signal("SIGKILL");
      signal("SIGCONT");
      return { answered: a, uncommitted, tries };
    }
    signal("SIGCONT");
    await sleep(1 + Math.floor(Math.random() * 15));
  }
}
