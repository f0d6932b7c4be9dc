// Configuration comes from the environment, validated against a schema with defaults,
// so a typo in an env var fails at start with a clear message instead of at the first request.
import { envSchema } from "env-schema";
import { Type, type Static, type TObject, type TProperties } from "@sinclair/typebox";

export { Type };

export function loadConfig<P extends TProperties>(
  schema: TObject<P>,
  env: NodeJS.ProcessEnv = process.env,
): Static<TObject<P>> {
  try {
    return envSchema<Static<TObject<P>>>({ schema, data: env, dotenv: false });
  } catch (err) {
    // A service reads its config when it starts: one line that names the setting, not a stack trace.
    process.stderr.write(
      `✖ configuration: ${(err as Error).message.replace(/^env\//, "").replace(/, env\//g, "; ")}\n`,
    );
    process.exit(1);
  }
}

/** Settings every HTTP service shares. */
export const serviceBase = {
  HOST: Type.String({ default: "127.0.0.1" }), // loopback unless a container asks for 0.0.0.0
  LOG_LEVEL: Type.String({ default: "info" }),
  BODY_LIMIT_BYTES: Type.Integer({ default: 64 * 1024, minimum: 1 }),
};
