// The fault campaign at quick sizes: every scenario's invariants must hold, so CI holds them; and
// each checker is trusted only once it has failed the scenario with its safeguard switched off.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { isolatedBrokerEnv, useEnv } from "../harness/run/brokers/index.js";
import { down } from "../harness/run/lifecycle.js";
import { labHome } from "../common/paths.js";
import { PART_IDS } from "../harness/run/parts.js";
import { SCENARIOS, SCENARIO_SAFEGUARDS } from "../faults/index.js";
import { SAFEGUARDS } from "../safeguards/index.js";

let restoreEnv: () => void;
before(async () => {
  restoreEnv = useEnv(await isolatedBrokerEnv("faults"));
});
after(async () => {
  for (const part of PART_IDS) await down(part, { home: labHome() });
  restoreEnv();
});

for (const [name, run] of Object.entries(SCENARIOS)) {
  test(name, async () => {
    const result = await run({ home: labHome(), quick: true, seed: 42, log: () => {} });
    const broken = result.invariants.filter((i) => !i.passed).map((i) => `${i.check}: ${i.observed}`);
    assert.deepEqual(broken, [], `${name} broke its invariants`);
    assert.equal(result.lost, 0, "nothing lost");
    assert.equal(result.duplicated_effects, 0, "nothing done twice");
    assert.equal(result.verdict, "PASS");
    assert.ok(result.orders_sent > 0, "the scenario sent something");
  });
}

// A pair that a safeguard's own experiment runs (the scenario without it) is proven by
// partX-safeguards.test.ts already; running it here again would only cost CI minutes.
const provenElsewhere = (scenario: string, safeguard: string) =>
  SAFEGUARDS.some((s) => s.safeguard === safeguard && s.faultScenario === scenario);
const pairs = Object.entries(SCENARIO_SAFEGUARDS).flatMap(([name, safeguards]) =>
  safeguards.filter((s) => !provenElsewhere(name, s)).map((safeguard) => [name, safeguard] as const),
);
for (const [name, safeguard] of pairs) {
  test(`${name} without ${safeguard}: its checker fails`, async () => {
    const result = await SCENARIOS[name]({ home: labHome(), quick: true, seed: 42, log: () => {}, without: safeguard });
    const broken = result.invariants.filter((i) => !i.passed);
    assert.equal(result.verdict, "FAIL", `${name} passed without ${safeguard}: its checker cannot see what it is for`);
    assert.ok(
      broken.length > 0 || result.lost > 0 || result.duplicated_effects > 0,
      "the failure names an anomaly: a broken invariant, an order lost or an effect done twice",
    );
  });
}
