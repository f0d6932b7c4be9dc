// One way to build an HTTP service: Fastify with JSON-schema validation, a body size limit,
// structured (pino) logs, errors as JSON that say what happened, /health, and a graceful
// shutdown on SIGTERM/SIGINT so a stopped service finishes what it is doing.
import Fastify, { type FastifyError, type FastifyInstance, type FastifyTypeProvider } from "fastify";
import type { Static, TSchema } from "@sinclair/typebox";
import closeWithGrace from "close-with-grace";
import Ajv from "ajv";

export interface ServiceOptions {
  name: string;
  bodyLimitBytes?: number;
  logLevel?: string;
  /** Extra fields for GET /health (counters a script or notebook reads instead of logs). */
  health?: () => Record<string, unknown> | Promise<Record<string, unknown>>;
  /**
   * For GET /ready: null when the service can do its work, else why not (its broker is
   * reconnecting, it is not subscribed). Without it, a service that answers is ready.
   */
  ready?: () => string | null;
}

/**
 * Route handlers get their body, query, params and reply types from the route's TypeBox schema.
 * This is @fastify/type-provider-typebox's provider, on the TypeBox the services build their schemas
 * with (@sinclair/typebox 0.34): that package's current major is built on the other generation
 * (`typebox` 1.x), and validation here is Ajv's anyway. services/tests/typebox-inference.check.ts
 * fails to compile if a handler's body were `any` or `unknown`.
 */
export interface TypeBoxTypeProvider extends FastifyTypeProvider {
  validator: this["schema"] extends TSchema ? Static<this["schema"]> : unknown;
  serializer: this["schema"] extends TSchema ? Static<this["schema"]> : unknown;
}

export type Service = FastifyInstance<any, any, any, any, TypeBoxTypeProvider>;

/** A client error in the shape every service answers with: `{error, message, ...}`. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly error: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function createService(opts: ServiceOptions): Service {
  const app = Fastify({
    logger: { level: opts.logLevel ?? "info", base: { service: opts.name } },
    bodyLimit: opts.bodyLimitBytes ?? 64 * 1024,
    // Two log lines for every request would cost more than the work of a hop; services log
    // what happened to the order instead, and the hook below logs every request that failed.
    disableRequestLogging: true,
  }).withTypeProvider<TypeBoxTypeProvider>();
  ignoreContentTypeWithoutBody(app);
  app.addHook("onResponse", async (req, reply) => {
    if (reply.statusCode >= 400) {
      req.log.info(
        { method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 },
        "request answered with an error",
      );
    }
  });
  validateWithAjv(app);
  answerErrorsAsJson(app);
  addHealthRoutes(app, opts);
  return app;
}

/**
 * A request that carries no body has none, whatever its Content-Type says: generic JSON
 * clients send `content-type: application/json` on every POST, and an endpoint whose body is
 * optional (/replay, /report, /load-test) must not refuse them. Without the header Fastify
 * skips parsing, so the body is undefined; a route that needs a body still answers 400 with
 * why (its schema, or the error handler).
 */
function ignoreContentTypeWithoutBody(app: Service): void {
  app.addHook("onRequest", async (req) => {
    const h = req.raw.headers;
    if (
      h["content-type"] !== undefined &&
      h["transfer-encoding"] === undefined &&
      (h["content-length"] === undefined || h["content-length"] === "0")
    ) {
      delete h["content-type"];
    }
  });
}

/**
 * Validation keeps unknown fields (the contracts say "add fields freely"). A query string is
 * text, so it is coerced to the declared numbers; a JSON body is not: `"order_id": 5` is wrong.
 * String lengths count UTF-16 units, as JavaScript and the consumers' TypeBox checks do (Ajv
 * counts code points): otherwise a 40-emoji sku passes here and is refused by the next reader.
 */
function validateWithAjv(app: Service): void {
  const coercing = new Ajv({ coerceTypes: true, allErrors: true, useDefaults: true, unicode: false });
  const strict = new Ajv({ coerceTypes: false, allErrors: true, useDefaults: true, unicode: false });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === "body" ? strict : coercing).compile(schema));
}

function answerErrorsAsJson(app: Service): void {
  app.setErrorHandler((err: FastifyError | HttpError, req, reply) => {
    if (err instanceof HttpError) {
      return reply.code(err.statusCode).send({ error: err.error, message: err.message, ...err.extra });
    }
    if (err.validation && err.validationContext === "body" && req.body === undefined) {
      return reply.code(400).send({ error: "invalid-json", message: "empty body; send a JSON object" });
    }
    const { status, error, message } = describeClientError(err);
    if (status >= 500) req.log.error({ err }, "unhandled error");
    return reply.code(status).send({ error, message });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: "not-found", message: `no route ${req.method} ${req.url}` }),
  );
}

/**
 * /health says the process answers (and carries its counters); /ready says it can do its work:
 * what `up`, the compose health checks and the tests wait for.
 */
function addHealthRoutes(app: Service, opts: ServiceOptions): void {
  const started = Date.now();
  app.get("/health", async () => ({
    status: "ok",
    service: opts.name,
    uptime_s: Math.round((Date.now() - started) / 1000),
    ...(await opts.health?.()),
  }));
  app.get("/ready", async (_req, reply) => {
    const reason = opts.ready?.() ?? null;
    if (reason !== null) return reply.code(503).send({ status: "not-ready", service: opts.name, reason });
    return { status: "ready", service: opts.name };
  });
}

/** Map Fastify's own errors (bad JSON, too large, schema) to a 4xx that says why. */
function describeClientError(err: FastifyError): { status: number; error: string; message: string } {
  if (err.validation)
    return {
      status: 400,
      error: "invalid-request",
      message: `${err.validationContext ?? "request"} ${err.message.replace(/^(body|querystring)\s*/, "")}`,
    };
  switch (err.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return { status: 400, error: "body-too-large", message: err.message };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return {
        status: 415,
        error: "unsupported-media-type",
        message: `${err.message}; send Content-Type: application/json`,
      };
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return { status: 400, error: "invalid-json", message: "empty body; send a JSON object" };
  }
  if (err instanceof SyntaxError || err.code === "FST_ERR_CTP_INVALID_JSON_BODY") {
    return { status: 400, error: "invalid-json", message: `body is not valid JSON: ${err.message}` };
  }
  const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
  return { status, error: status >= 500 ? "internal-error" : "bad-request", message: err.message };
}

/**
 * Listen, and close gracefully on SIGTERM/SIGINT: stop accepting, finish in-flight requests,
 * then run `onClose` (close broker connections, flush files).
 */
export async function runService(
  app: Service,
  port: number,
  host: string,
  onClose?: () => Promise<void>,
): Promise<void> {
  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, "shutting down after error");
    else app.log.info({ signal }, "shutting down");
    await app.close();
    await onClose?.();
  });
  await app.listen({ port, host });
}
