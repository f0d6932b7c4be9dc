// Part C's consumer-crash experiment: a load test of n orders; the inventory consumer, throttled
// so the stream takes a few seconds, is killed (kill -9) in the middle — at a moment when it has
// sent answers it has not committed yet — and restarted (twice in the full run). The group
// resumes from the last commit, so those orders are answered again: the log holds their answers
// twice, and analytics must count them once. Run `without` commit-after-ack, the commit comes
// first: the moment is "committed, not answered", and those orders are never answered (lost).
import type { Admin } from "kafkajs";
import { sleep } from "../../common/wait.js";
import { newLoadTestOrderId } from "../../common/ids.js";
import type { AnalyticsMetrics } from "../lab/client.js";
import type { Experiment, Run } from "../../harness/experiment.js";
import { signalGroup } from "../../harness/processes.js";
import { allAlive, pidOf } from "../../harness/stack.js";
import { endOffsets, total, type PartCKafka } from "../lab/kafka-tap.js";
import type { PartC } from "../lab/implementation.js";
import { counted, expectedFailures, metricChecks, seededTally, type SeededOptions } from "./seeded.js";

interface Kill {
  answered: number;
  uncommitted: number;
  tries: number;
}

interface CrashRun extends Run<PartC, SeededOptions> {
  n: number;
  kills: number;
  wire?: PartCKafka;
  m0?: AnalyticsMetrics;
  m1?: AnalyticsMetrics;
  answers0: number;
  committed0: number;
  atKill: Kill[];
  produced: number;
  answersInLog: number;
}

const answersNow = async (w: PartCKafka) => total(await endOffsets(w.kafka, w.topics.inventory_events));

/** Orders the inventory group has committed (next offsets summed over the partitions of `orders`). */
async function committedOrders(admin: Admin, group: string, topic: string): Promise<number> {
  const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return t.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

/**
 * kill -9 at a moment when the consumer's answers and its committed offset disagree: freeze it
 * (SIGSTOP), look, and kill it if so, else let it run a few milliseconds more and look again.
 * That window (between the acknowledged send and the commit) is what at-least-once is about; a
 * kill at a random moment almost never lands in it. With `commit-after-ack` switched off the
 * commit comes first, and the window is the other way round (`uncommitted` < 0).
 */
async function killWithAnswersUncommitted(pid: number, look: () => Promise<Omit<Kill, "tries">>, maxTries = 500) {
  const signal = (sig: NodeJS.Signals) => signalGroup(pid, sig);
  for (let tries = 1; ; tries++) {
    signal("SIGSTOP");
    const seen = await look();
    if (seen.uncommitted !== 0 || tries === maxTries) {
      signal("SIGKILL");
      signal("SIGCONT");
      return { ...seen, tries };
    }
    signal("SIGCONT");
    await sleep(1 + Math.floor(Math.random() * 15));
  }
}

/** The load test, with inventory killed `kills` times at evenly spaced moments of it. */
async function loadAndKill(r: CrashRun): Promise<void> {
  const own = r.impl.whiteBox();
  const w = r.wire!;
  const stack = r.impl.processes();
  const committed = () => committedOrders(w.admin, w.groups.inventory!, w.topics.orders);
  const load = own.loadTest(r.n);
  for (let k = 1; k <= r.kills; k++) {
    const target = Math.round((k * r.n) / (r.kills + 1));
    await own.waitForMetrics(
      (m) => m.total_reservations - r.m0!.total_reservations >= target,
      `inventory to answer ${target} orders`,
      120_000,
      undefined,
      20,
    );
    // Answers in the log beyond the orders committed, less those the earlier kills already caused.
    const resent = r.atKill.reduce((sum, a) => sum + Math.max(0, a.uncommitted), 0);
    const kill = await killWithAnswersUncommitted(pidOf(stack, "inventory")!, async () => {
      const answered = (await answersNow(w)) - r.answers0 - resent;
      return { answered, uncommitted: answered - ((await committed()) - r.committed0) };
    });
    r.atKill.push(kill);
    r.progress(
      `kill -9 #${k} of inventory with ${kill.answered}/${r.n} orders answered, ${kill.uncommitted >= 0 ? `${kill.uncommitted} of them not committed` : `${-kill.uncommitted} more committed but not answered`} (found after ${kill.tries} freeze(s))`,
    );
    // It rejoins once the dead member's session (10 s) expires; throttled again unless it is the last start.
    await r.impl.start("inventory", { CONSUMER_THROTTLE_MS: k < r.kills ? "2" : "0" });
  }
  r.produced = (await load).produced;
}

export const crashExperiment: Experiment<PartC, SeededOptions, CrashRun, Record<string, unknown>> = {
  name: "consumer-crash",
  part: "partC",
  title: "Part C — consumer crash: inventory killed (kill -9) mid-stream, between answer and commit",
  lesson: "Kafka delivers at least once: a consumer killed before its commit answers again, and the effects stay once.",
  needs: ["white-box stats", "processes", "kafka", "inventory lag", "start inventory"],
  safeguards: ["commit-after-ack"],
  begin: (run) => ({
    ...run,
    n: run.opts.quick ? 4000 : 20_000,
    kills: run.opts.quick ? 1 : 2,
    answers0: 0,
    committed0: 0,
    atKill: [],
    produced: 0,
    answersInLog: 0,
  }),
  steps: [
    {
      name: "settle, throttle inventory",
      run: async (r) => {
        r.wire = await r.impl.kafka();
        r.m0 = await r.impl.whiteBox().waitForQuiet();
        r.answers0 = await answersNow(r.wire);
        r.committed0 = await committedOrders(r.wire.admin, r.wire.groups.inventory!, r.wire.topics.orders);
        await r.impl.start("inventory", { CONSUMER_THROTTLE_MS: "2" }); // ~1,500 orders/s
      },
    },
    { name: "load test, kill -9 mid-stream", run: loadAndKill },
    {
      name: "count",
      run: async (r) => {
        r.m1 = await r.impl.whiteBox().waitForQuiet(180_000);
        r.answersInLog = (await answersNow(r.wire!)) - r.answers0;
        r.progress(`${r.produced} produced; ${r.answersInLog} answers in the log for ${r.n} orders`);
      },
    },
  ],
  judge: (r) => {
    const { n, atKill } = r;
    const c = counted(r.m0!, r.m1!);
    const ids = Array.from({ length: n }, (_, i) => newLoadTestOrderId(i));
    const expectedFailed = expectedFailures(ids, r.opts.seed);
    const twice = r.answersInLog - n;
    const alive = allAlive(r.impl.processes());
    return {
      params: { count: n, kills: r.kills, seed: r.opts.seed },
      checks: [
        {
          check: `inventory killed (kill -9) mid-stream with answers sent but not committed, ${r.kills} time(s)`,
          passed: atKill.every((a) => a.answered > 0 && a.answered < n && a.uncommitted > 0),
          observed: atKill.map((a) => `${a.answered}/${n} answered, ${a.uncommitted} uncommitted`).join("; "),
        },
        ...metricChecks(c, n, expectedFailed),
        {
          check: "answers sent again after the kill (at-least-once) were each counted once",
          passed: twice === c.duplicates_skipped && twice >= atKill.reduce((sum, a) => sum + a.uncommitted, 0),
          observed: `${twice} answers in the log twice, ${c.duplicates_skipped} skipped by analytics as duplicates`,
        },
        { check: "every service still runs", passed: alive, observed: alive ? "all alive" : "a service died" },
      ],
      figures: {
        "orders in the load test": n,
        "acknowledged by Kafka": r.produced,
        "answers in the log": r.answersInLog,
        "duplicates skipped by analytics": c.duplicates_skipped,
      },
      tally: seededTally(c, n, r.produced),
      data: { counted: c, answers_in_log: r.answersInLog, at_kill: atKill, expected_failed: expectedFailed },
    };
  },
};
