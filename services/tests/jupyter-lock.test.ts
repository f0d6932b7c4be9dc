// The Python side is locked: notebooks/requirements.txt pins every package with its hashes (the
// set-up installs it with `pip install --require-hashes`, so a missing pin or hash fails there),
// and it was made from requirements.in: each package asked for there is in the lock, at that version.
// (CI's set-up installs the lock into a fresh .venv; the notebooks test then runs on it.)
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { notebooksDir } from "../harness/show/jupyter.js";

/** The requirements of a requirements file: continuation lines joined, comments dropped. */
function requirements(file: string): string[] {
  return fs
    .readFileSync(path.join(notebooksDir, file), "utf8")
    .replace(/\\\r?\n/g, " ")
    .split("\n")
    .map((line) => line.replace(/(^|\s)#.*$/, "").trim())
    .filter(Boolean);
}

const normalise = (name: string) => name.toLowerCase().replace(/[-_.]+/g, "-");

describe("notebooks/requirements.txt: the lock", () => {
  const locked = requirements("requirements.txt").map((line) => {
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*([^\s;]+)\s*(;[^-]*)?(.*)$/.exec(line);
    assert.ok(m, `pinned with ==: ${line.slice(0, 80)}`);
    return {
      name: normalise(m[1]),
      version: m[3],
      marker: (m[4] ?? "").slice(1).trim(),
      hashes: [...m[5].matchAll(/--hash=sha256:([0-9a-f]{64})/g)].length,
      rest: m[5],
    };
  });

  test("every package is pinned with its sha256 hashes", () => {
    assert.ok(locked.length > 50, `the whole tree, not only what requirements.in names (${locked.length})`);
    for (const r of locked) {
      assert.ok(r.hashes > 0, `${r.name}==${r.version} has a --hash`);
      assert.equal(
        r.rest.replace(/--hash=sha256:[0-9a-f]{64}/g, "").trim(),
        "",
        `${r.name}: nothing but hashes after the pin`,
      );
    }
  });

  test("what requirements.in asks for is locked at that version", () => {
    for (const line of requirements("requirements.in")) {
      const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*(\S+)$/.exec(line);
      assert.ok(m, `requirements.in pins exact versions: ${line}`);
      const inLock = locked.filter((r) => r.name === normalise(m[1]));
      assert.ok(inLock.length > 0, `${m[1]} is in the lock (run the command in requirements.in again)`);
      for (const r of inLock)
        assert.equal(r.version, m[2], `${m[1]}: the lock has ${r.version}, requirements.in asks for ${m[2]}`);
    }
  });

  test("one version of a package for any one Python and platform (the lock is universal: markers choose)", () => {
    const byName = new Map<string, typeof locked>();
    for (const r of locked) byName.set(r.name, [...(byName.get(r.name) ?? []), r]);
    for (const [name, entries] of byName) {
      if (entries.length > 1)
        assert.ok(
          entries.every((e) => e.marker),
          `${name} appears ${entries.length} times: each needs an environment marker`,
        );
    }
  });
});
