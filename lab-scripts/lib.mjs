// The compiled lab library, for every script here. It is built by `npm install` (prepare).
import fs from "node:fs";
import { createRequire } from "node:module";

const entry = new URL("../dist/lab/index.js", import.meta.url);
if (!fs.existsSync(entry)) {
  console.error("The lab is not built yet: run `npm install` (or `npm run build`) in the project folder first.");
  process.exit(1);
}
export const lab = createRequire(import.meta.url)(entry.pathname);

/** Run a script's main, printing one clear line instead of a stack trace for expected failures. */
export async function main(fn) {
  try {
    await fn();
  } catch (err) {
    console.error(`\n✖ ${err?.message ?? err}`);
    process.exitCode = 1;
  }
}
