// Part A against the real services, started on free ports: the chain, latency compounding,
// failures, timeouts, idempotent reserves, reproducible failure injection and bad input.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { down, up, type RunningPart } from "../harness/run/lifecycle.js";
import { isAlive } from "../harness/run/processes.js";
import { portInUse } from "../harness/run/ports.js";
import { freePortsFor, http, tempHome } from "./support.js";

const home = tempHome();
let partA: RunningPart;
let order: string, inventory: string, notification: string;
// A short backoff keeps the failure tests quick; a small in-flight bound makes it testable.
const env = { BACKOFF_BASE_MS: "100", FAIL_SEED: "7", MAX_IN_FLIGHT: "8", IDEMPOTENCY_KEYS: "50" };

const inject = async (delay: number, failRate: number) => {
  assert.equal((await http.get(`${inventory}/set-delay-time?delay-time=${delay}`)).status, 200);
  assert.equal((await http.get(`${inventory}/set-fail-rate?fail-rate=${failRate}`)).status, 200);
};
const health = async (url: string) => (await http.get(`${url}/health`)).data;
const timed = async (body: unknown) => {
  const t0 = performance.now();
  const res = await http.post(`${order}/order`, body);
  return { res, ms: performance.now() - t0 };
};

before(async () => {
  partA = await up("partA", { home, ports: await freePortsFor("partA"), env });
  ({ order, inventory, notification } = Object.fromEntries(Object.values(partA.services).map((s) => [s.name, s.url])));
});
after(async () => {
  await down("partA", { home });
});

describe("the synchronous chain", () => {
  test("an order is reserved, notified and confirmed, with the time of each hop", async () => {
    const [inv0, note0] = [await health(inventory), await health(notification)];
    const { res } = await timed({ order: "test #1" });
    assert.equal(res.status, 200);
    assert.match(res.data.order_id, /^o-[0-9a-f]{8}$/);
    assert.equal(res.data.status, "CONFIRMED");
    assert.ok(res.data.reservation_id && res.data.notification_id);
    for (const k of ["reserve_ms", "notify_ms", "total_ms"]) assert.equal(typeof res.data.timings[k], "number", k);
    assert.equal((await health(inventory)).reservations, inv0.reservations + 1);
    assert.equal((await health(notification)).sent, note0.sent + 1);
  });

  test("a 2 s inventory delay adds about 2 s to every order", async () => {
    const baseline = (await timed({ order: "b" })).ms;
    await inject(2, 0);
    try {
      const { res, ms } = await timed({ order: "slow" });
      assert.equal(res.status, 200);
      const added = ms - baseline;
      assert.ok(added > 1900 && added < 2600, `added ${added.toFixed(0)} ms`);
      assert.ok(res.data.timings.reserve_ms >= 2000, "the time is spent in the reserve hop");
    } finally {
      await inject(0, 0);
    }
  });

  test("fail-rate 1.0 gives 502 reserve-failed after exactly 1 + 2 retries", async () => {
    const before = (await health(inventory)).requests;
    await inject(0, 1);
    try {
      const { res } = await timed({ order: "doomed" });
      assert.equal(res.status, 502);
      assert.equal(res.data.error, "reserve-failed");
      assert.equal(res.data.status, "FAILED");
      assert.equal(res.data.timings.reserve_attempts, 3);
      assert.equal((await health(inventory)).requests - before, 3, "inventory saw three attempts");
      assert.match(res.data.order_id, /^o-/);
    } finally {
      await inject(0, 0);
    }
  });

  test("a delay beyond the 3 s timeout gives 504 inventory-timeout within the bound", async () => {
    await inject(4, 0);
    try {
      const { res, ms } = await timed({ order: "too slow" });
      assert.equal(res.status, 504);
      assert.equal(res.data.error, "inventory-timeout");
      assert.ok(ms >= 2900 && ms < 3600, `answered after ${ms.toFixed(0)} ms`);
      assert.equal(res.data.timings.reserve_attempts, 1, "a timeout is not retried");
    } finally {
      await inject(0, 0);
    }
  });

  test("a notification failure is a 502 notification-failed, and the reservation stands", async () => {
    // Stop notification: the call is refused, retried, and reported.
    await down("partA", { home, only: ["notification"] });
    try {
      const { res } = await timed({ order: "no one to tell" });
      assert.equal(res.status, 502);
      assert.equal(res.data.error, "notification-failed");
      assert.equal(res.data.status, "RESERVED");
      assert.equal(res.data.timings.notify_attempts, 3);
    } finally {
      partA.services.notification = (
        await up("partA", { home, ports: { ...portsOf(partA) }, env, only: ["notification"] })
      ).services.notification;
    }
  });
});

describe("bounded by a deadline and an in-flight limit", () => {
  test("slow failures and their retries never hold an order past the 6 s deadline", async () => {
    await inject(2.5, 1); // 3 attempts × 2.5 s + backoff would be 7.8 s
    try {
      const { res, ms } = await timed({ order: "slow and failing" });
      assert.equal(res.status, 504);
      assert.equal(res.data.error, "inventory-timeout");
      assert.ok(ms >= 5900 && ms < 6500, `answered after ${ms.toFixed(0)} ms`);
    } finally {
      await inject(0, 0);
    }
  });

  test("orders beyond the in-flight limit are refused at once with 503, not queued", async () => {
    await inject(1, 0);
    try {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => timed({ order: `burst #${i}` })));
      const ok = results.filter((r) => r.res.status === 200);
      const refused = results.filter((r) => r.res.status === 503);
      assert.equal(ok.length, 8, "the limit's worth of orders go through");
      assert.equal(refused.length, 12);
      for (const r of refused) {
        assert.equal(r.res.data.error, "overloaded");
        assert.ok(r.ms < 500, "refused without waiting");
      }
      assert.ok((await health(order)).max_in_flight_seen <= 8);
    } finally {
      await inject(0, 0);
    }
  });
});

const portsOf = (p: RunningPart) => Object.fromEntries(Object.values(p.services).map((s) => [s.name, s.port]));

describe("idempotent reserve", () => {
  test("the same Idempotency-Key reserves once, even when retried concurrently", async () => {
    const before = (await health(inventory)).reservations;
    const headers = { "Idempotency-Key": `key-${Date.now()}` };
    const [a, b] = await Promise.all(
      [1, 2].map(() => http.post(`${inventory}/reserve`, { order_id: "o-12345678" }, { headers })),
    );
    const c = await http.post(`${inventory}/reserve`, { order_id: "o-12345678" }, { headers });
    for (const r of [a, b, c]) assert.equal(r.status, 200);
    assert.equal(new Set([a, b, c].map((r) => r.data.reservation_id)).size, 1, "one reservation id");
    assert.equal([a, b, c].filter((r) => r.data.replayed).length, 2);
    assert.equal((await health(inventory)).reservations - before, 1);
  });

  test("only the latest keys are remembered: memory stays bounded, a recent retry still replays", async () => {
    const reserve = (key: string) =>
      http.post(`${inventory}/reserve`, { order_id: `o-${key}` }, { headers: { "Idempotency-Key": key } });
    const oldest = await reserve(`old-${Date.now()}`);
    for (let i = 0; i < 50; i++) assert.equal((await reserve(`k${i}-${Date.now()}`)).status, 200);
    const recent = `recent-${Date.now()}`;
    const first = await reserve(recent);
    const retried = await reserve(recent);
    assert.equal(retried.data.replayed, true, "a retry of a recent key replays");
    assert.equal(retried.data.reservation_id, first.data.reservation_id);
    const again = await reserve(oldest.config.headers["Idempotency-Key"] as string);
    assert.equal(again.data.replayed, false, "a key 50 keys old is forgotten");
    const h = await health(inventory);
    assert.equal(h.idempotency_keys, 50, "no more keys than IDEMPOTENCY_KEYS");
  });
});

describe("reproducible failure injection", () => {
  const outcomes = async () => {
    const seen: number[] = [];
    for (let i = 0; i < 20; i++) seen.push((await http.post(`${inventory}/reserve`, { order_id: `o-${i}` })).status);
    return seen;
  };
  test("the same FAIL_SEED fails the same requests after a restart", async () => {
    const restart = async () => {
      await down("partA", { home, only: ["inventory"] });
      partA.services.inventory = (
        await up("partA", { home, ports: portsOf(partA), env, only: ["inventory"] })
      ).services.inventory;
      inventory = partA.services.inventory.url;
    };
    await restart();
    await inject(0, 0.5);
    const first = await outcomes();
    await restart();
    await inject(0, 0.5);
    const second = await outcomes();
    await inject(0, 0);
    assert.deepEqual(second, first);
    assert.ok(first.includes(500) && first.includes(200), `a mix of failures and successes: ${first.join(" ")}`);
  });
});

describe("bad input gets a 400 that says why, never a 500", () => {
  const cases: [string, () => Promise<{ status: number; data: any }>][] = [
    ["an array body", () => http.post(`${order}/order`, [1, 2])],
    [
      "a JSON string",
      () => http.post(`${order}/order`, '"just a string"', { headers: { "content-type": "application/json" } }),
    ],
    ["null", () => http.post(`${order}/order`, "null", { headers: { "content-type": "application/json" } })],
    ["invalid JSON", () => http.post(`${order}/order`, "{bad", { headers: { "content-type": "application/json" } })],
    ["an empty JSON body", () => http.post(`${order}/order`, "", { headers: { "content-type": "application/json" } })],
    ["a body over the size limit", () => http.post(`${order}/order`, { padding: "x".repeat(100_000) })],
    ["a reserve without order_id", () => http.post(`${inventory}/reserve`, { items: [] })],
    ["a reserve with a numeric order_id", () => http.post(`${inventory}/reserve`, { order_id: 5 })],
    ["a send without order_id", () => http.post(`${notification}/send`, {})],
    ["delay-time=abc", () => http.get(`${inventory}/set-delay-time?delay-time=abc`)],
    ["delay-time=-1", () => http.get(`${inventory}/set-delay-time?delay-time=-1`)],
    ["delay-time missing", () => http.get(`${inventory}/set-delay-time`)],
    ["fail-rate=1.5", () => http.get(`${inventory}/set-fail-rate?fail-rate=1.5`)],
    ["fail-rate=abc", () => http.get(`${inventory}/set-fail-rate?fail-rate=abc`)],
  ];
  for (const [name, send] of cases) {
    test(name, async () => {
      const res = await send();
      assert.equal(res.status, 400, JSON.stringify(res.data));
      assert.equal(typeof res.data.error, "string");
      assert.ok(res.data.message.length > 0);
    });
  }
  test("the service still confirms the next good order", async () => {
    assert.equal((await http.post(`${order}/order`, { order: "after the bad ones" })).status, 200);
  });
});

describe("up and down", () => {
  test("a second up is a no-op: same processes", async () => {
    const again = await up("partA", { home, ports: portsOf(partA), env });
    for (const name of Object.keys(partA.services))
      assert.equal(again.services[name].pid, partA.services[name].pid, name);
  });

  test("down leaves no process behind and frees the ports", async () => {
    const pids = Object.values(partA.services).map((s) => s.pid);
    await down("partA", { home });
    for (const pid of pids) assert.equal(isAlive(pid), false, `pid ${pid}`);
    for (const s of Object.values(partA.services)) assert.equal(await portInUse(s.port), false, `port ${s.port}`);
  });
});
