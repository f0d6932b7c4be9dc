// ESLint (flat config): typescript-eslint with type information for services/, plain JS rules for lab-scripts/.
// Formatting is Prettier's job (.prettierrc.json); nothing here is about style.
import js from "@eslint/js";
import globals from "globals";
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";

// The globals that zx puts in scope for a script it runs (zx/build/globals.d.ts).
const zxGlobals = Object.fromEntries(
  [
    "$",
    "argv",
    "cd",
    "chalk",
    "defaults",
    "dotenv",
    "echo",
    "expBackoff",
    "fetch",
    "fs",
    "glob",
    "globby",
    "kill",
    "log",
    "minimist",
    "nothrow",
    "os",
    "parseArgv",
    "path",
    "ProcessOutput",
    "ProcessPromise",
    "ps",
    "question",
    "quiet",
    "quote",
    "quotePowerShell",
    "resolveDefaults",
    "retry",
    "sleep",
    "spinner",
    "stdin",
    "syncProcessCwd",
    "tempdir",
    "tempfile",
    "tmpdir",
    "tmpfile",
    "updateArgv",
    "usePowerShell",
    "usePwsh",
    "useBash",
    "version",
    "VERSION",
    "which",
    "within",
    "YAML",
  ].map((name) => [name, "readonly"]),
);

export default defineConfig(
  { ignores: ["dist/", "node_modules/", ".lab/", ".venv/", "results/", "notebooks/"] },

  {
    files: ["services/**/*.ts"],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: globals.node,
    },
    rules: {
      // The two rules this config is for: a promise nobody awaits loses its error (and its ordering).
      // Mark a deliberate fire-and-forget with `void`.
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",

      // `any` is a warning, not an error: the lab reads JSON from brokers, HTTP bodies and result files, and a few
      // places say `any` on purpose. It is shown, so new code can do better, but does not fail `npm run lint`.
      "@typescript-eslint/no-explicit-any": "warn",
      // Off: these flag every use of a value typed `any` (JSON.parse, axios' response data, broker messages), over
      // 400 places today. Typing all of them is a large change with no bug behind it; as warnings they would bury
      // the ones that matter. Turn them on once the lab's parsed payloads are typed.
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      // Off: an `async` function without `await` is how this code meets an API that wants a promise (Fastify
      // handlers, kafkajs' eachMessage, a handler table); dropping `async` would turn a throw into a synchronous
      // throw, a change of behaviour, for style's sake.
      "@typescript-eslint/require-await": "off",
      // A leading underscore marks a binding left unused on purpose (`const { ok: _ok, ...body } = result`).
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_", ignoreRestSiblings: true },
      ],
    },
  },

  {
    files: ["services/tests/**/*.ts"],
    rules: {
      // node:test's test()/describe() return promises that the runner itself tracks; the idiom is not to await them.
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          allowForKnownSafeCalls: [
            { from: "package", package: "node:test", name: ["describe", "it", "test", "suite"] },
          ],
        },
      ],
    },
  },

  {
    files: ["lab-scripts/**/*.mjs"],
    extends: [js.configs.recommended],
    languageOptions: {
      ecmaVersion: "latest",
      sourceType: "module",
      globals: { ...globals.node, ...zxGlobals },
    },
  },

  {
    files: ["*.cjs"],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: "commonjs", globals: globals.node },
  },
  {
    files: ["*.mjs"],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: "module", globals: globals.node },
  },
);
