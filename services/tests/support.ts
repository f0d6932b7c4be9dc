// What the tests share: a private lab folder and free ports, so a test run never touches
// the stack a student has up.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import axios from "axios";
export { freePortsFor } from "../harness/ports.js";

export function tempHome(prefix = "campus-food-lab-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** An HTTP client that returns every status instead of throwing, for asserting on it. */
export const http = axios.create({ validateStatus: () => true, timeout: 30_000 });
