// A service's durable local state: LMDB (lmdb on npm), an embedded, memory-mapped, transactional
// key-value store. A transaction either happens completely or not at all, and `durably` resolves
// only once it is committed and flushed to disk: after that, kill -9 or a power cut cannot undo
// it. That is the moment a consumer may ack its message, or a service may answer "accepted".
import fs from "node:fs";
import { open, type Database, type RootDatabase } from "lmdb";

export type { Database, RootDatabase };

export function openStore(dir: string): RootDatabase {
  fs.mkdirSync(dir, { recursive: true });
  // overlappingSync (lmdb-js' default on Linux and macOS): a commit is flushed to disk outside
  // the write lock, so the next transaction does not wait for the last one's fsync. Nothing is
  // acknowledged before `durably` has seen the flush, so "done" still means "on disk". Measured
  // (POST /order at 50/s beside the consumers): the order's commit 3.0 → 0.8 ms, the 202 7.7 →
  // 2.9 ms at the median.
  return open({ path: dir, overlappingSync: true, compression: false });
}

/** Run `action` (synchronous reads and writes) as one transaction; resolve once it is on disk. */
export async function durably<T>(root: RootDatabase, action: () => T): Promise<T> {
  const result = await root.transaction(action);
  await root.flushed;
  return result;
}
