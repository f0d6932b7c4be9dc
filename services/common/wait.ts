// Waiting for something to become true, with a deadline and a message that says what we waited for.
import axios from "axios";

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return; // a check that throws (the process died) ends the wait at once
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Does GET url answer 200 within a second? */
export async function answers(url: string): Promise<boolean> {
  try {
    const res = await axios.get(url, { timeout: 1000, validateStatus: () => true });
    return res.status === 200;
  } catch {
    return false;
  }
}
