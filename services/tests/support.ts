// What the tests share: a private lab folder and free ports, so a test run never touches
// the stack a student has up.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import axios from "axios";
import { freePort } from "../harness/ports.js";
import { PARTS, type PartId } from "../harness/parts.js";

export function tempHome(prefix = "campus-food-lab-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A free port for every service of a part. */
export async function freePortsFor(part: PartId): Promise<Record<string, number>> {
  const ports: Record<string, number> = {};
  for (const name of Object.keys(PARTS[part].defaultPorts)) ports[name] = await freePort();
  return ports;
}

/** An HTTP client that returns every status instead of throwing, for asserting on it. */
export const http = axios.create({ validateStatus: () => true, timeout: 30_000 });
