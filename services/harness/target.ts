// The implementation under test, as a file: a YAML target that says where a team's services
// answer, how to place an order, how to inject Part A's faults, how to stop and start a consumer,
// its brokers, metrics and replay. The lab acts on a foreign implementation only through what the
// file names; a field left out makes what depends on it "not observable", with the reason.
// `lab-scripts/targets/README.md` explains how to write one; `lab.yml` is the lab's own services.
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { Type, FormatRegistry, type Static, type TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { ValueErrorType } from "@sinclair/typebox/errors";
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import { projectRoot, resultsDir } from "../common/paths.js";
import { answers, waitUntil } from "../common/wait.js";
import { isAlive } from "./processes.js";
import { request, type Answer } from "./implementation.js";

// ---------------------------------------------------------------- the schema

/** http(s) URLs, where a placeholder such as {seconds} may stand for a number. */
FormatRegistry.Set("http-url", (v) => urlWith(v, ["http:", "https:"]));
FormatRegistry.Set("amqp-url", (v) => urlWith(v, ["amqp:", "amqps:"]));
FormatRegistry.Set("host-ports", (v) => /^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/.test(v));

function urlWith(value: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(value.replace(/\{[a-z_]+\}/g, "1")).protocol);
  } catch {
    return false;
  }
}

const closed = { additionalProperties: false } as const;
const HttpUrl = (description: string) => Type.String({ format: "http-url", description });
const Name = (description: string) => Type.String({ minLength: 1, description });
const UrlPath = (description: string) => Type.String({ pattern: "^/", description });

/** An HTTP call the lab makes on the implementation's behalf (a fault switch, a replay trigger). */
const HttpCall = (description: string) =>
  Type.Object(
    {
      method: Type.Optional(
        Type.Union([Type.Literal("GET"), Type.Literal("POST"), Type.Literal("PUT")], { description: "default GET" }),
      ),
      url: HttpUrl("the URL, with its placeholders"),
      body: Type.Optional(Type.Unknown({ description: "a JSON body; string values may hold placeholders" })),
    },
    { ...closed, description },
  );

/** How to stop, kill and start one of the implementation's services (its owner's commands). */
const Control = Type.Object(
  {
    stop: Type.Optional(Name("a shell command that stops the service gracefully")),
    kill: Type.Optional(Name("a shell command that kills it (a crash: no clean-up)")),
    start: Type.Optional(Name("a shell command that starts it again")),
    pid_file: Type.Optional(
      Name("a file holding its pid: stop sends SIGTERM, kill SIGKILL, to that one process (not its group)"),
    ),
  },
  { ...closed, description: "how to stop, kill and start a service" },
);

const PlaceOrder = Type.Object(
  {
    path: Type.Optional(UrlPath("the path on the order service (default /order; Part C: /produce)")),
    body: Type.Optional(Type.Unknown({ description: "the JSON body of one order" })),
  },
  { ...closed, description: "how to place one order" },
);

const healthPath = Type.Optional(UrlPath("the path every service answers 200 on once ready (default /health)"));

const PartA = Type.Object(
  {
    services: Type.Object(
      {
        order: HttpUrl("the order service's URL"),
        inventory: Type.Optional(HttpUrl("the inventory service's URL")),
        notification: Type.Optional(HttpUrl("the notification service's URL")),
      },
      { ...closed, description: "the service URLs" },
    ),
    health_path: healthPath,
    place_order: Type.Optional(PlaceOrder),
    faults: Type.Optional(
      Type.Object(
        {
          inventory_delay: Type.Optional(HttpCall("inventory answers {seconds} late")),
          inventory_fail_rate: Type.Optional(HttpCall("inventory fails a share {rate} (0–1) of reserves")),
          inventory_fail_after_reserve_rate: Type.Optional(
            HttpCall("inventory reserves, then answers a share {rate} (0–1) of new reservations with a 500"),
          ),
        },
        { ...closed, description: "how to inject inventory's faults" },
      ),
    ),
    declares: Type.Optional(
      Type.Object(
        {
          policy: Type.Optional(
            Type.Boolean({
              description: "the order service's /health publishes its call policy (timeouts, retries, deadline)",
            }),
          ),
          stats: Type.Optional(
            Type.Boolean({ description: "its /health bodies carry the lab's counters (reservations, in flight…)" }),
          ),
        },
        { ...closed, description: "what its services' /health declare beyond the contract's 200" },
      ),
    ),
    control: Type.Optional(
      Type.Object(
        { order: Type.Optional(Control), inventory: Type.Optional(Control), notification: Type.Optional(Control) },
        { ...closed, description: "how to stop and start each service" },
      ),
    ),
  },
  { ...closed, description: "Part A, synchronous REST" },
);

const PartB = Type.Object(
  {
    services: Type.Object(
      { order: HttpUrl("the order service's URL") },
      { ...closed, description: "the service URLs" },
    ),
    health_path: healthPath,
    place_order: Type.Optional(PlaceOrder),
    order_status: Type.Optional(
      Type.String({
        pattern: "^/.*\\{id\\}",
        description: "GET this path on the order service for an order's state, {id} its order_id (e.g. /orders/{id})",
      }),
    ),
    broker: Type.Optional(
      Type.Object(
        {
          amqp_url: Type.String({
            format: "amqp-url",
            description: "the broker's AMQP URL (amqp://, host and port; its user and password, if any, in the URL)",
          }),
          exchange: Name("the exchange OrderPlaced is published to"),
          routing_key: Name("OrderPlaced's routing key"),
          queue: Type.Optional(Name("the queue inventory consumes (its depth is watched, never purged)")),
          dlq: Type.Optional(Name("the dead-letter queue")),
          inventory_exchange: Type.Optional(Name("the exchange InventoryReserved/InventoryFailed go to")),
        },
        { ...closed, description: "its RabbitMQ" },
      ),
    ),
    control: Type.Optional(
      Type.Object(
        { order: Type.Optional(Control), inventory: Type.Optional(Control), notification: Type.Optional(Control) },
        { ...closed, description: "how to stop and start each service" },
      ),
    ),
  },
  { ...closed, description: "Part B, messaging over RabbitMQ" },
);

const MetricFields = Type.Object(
  {
    total_orders: Type.Optional(Name("the field counting orders")),
    total_reservations: Type.Optional(Name("reserved + failed")),
    failed_reservations: Type.Optional(Name("failed reservations")),
    failure_rate: Type.Optional(Name("failed / total reservations")),
    orders_per_minute: Type.Optional(Name("a map minute → count")),
  },
  { ...closed, description: "the metrics' field names, where they differ from the contract's" },
);

const PartC = Type.Object(
  {
    services: Type.Object(
      {
        producer: HttpUrl("the producer's URL"),
        analytics: Type.Optional(HttpUrl("the analytics service's URL")),
      },
      { ...closed, description: "the service URLs" },
    ),
    health_path: healthPath,
    place_order: Type.Optional(PlaceOrder),
    load_test: Type.Optional(HttpCall("produce {count} orders at once")),
    broker: Type.Optional(
      Type.Object(
        {
          bootstrap: Type.String({ format: "host-ports", description: "host:port[,host:port…]" }),
          topics: Type.Object(
            { orders: Name("the OrderPlaced topic"), inventory_events: Name("the inventory events topic") },
            { ...closed, description: "topic names" },
          ),
          groups: Type.Optional(
            Type.Object(
              {
                inventory: Type.Optional(Name("inventory's consumer group")),
                analytics: Type.Optional(Name("analytics' consumer group")),
              },
              { ...closed, description: "consumer group names" },
            ),
          ),
        },
        { ...closed, description: "its Kafka" },
      ),
    ),
    metrics: Type.Optional(
      Type.Object(
        { url: HttpUrl("GET this for the metrics"), fields: Type.Optional(MetricFields) },
        { ...closed, description: "its metrics" },
      ),
    ),
    replay: Type.Optional(HttpCall("recompute the metrics from the beginning of the log")),
    control: Type.Optional(
      Type.Object(
        { producer: Type.Optional(Control), inventory: Type.Optional(Control), analytics: Type.Optional(Control) },
        { ...closed, description: "how to stop and start each service" },
      ),
    ),
  },
  { ...closed, description: "Part C, streaming over Kafka" },
);

export const TargetSchema = Type.Object(
  {
    name: Name("what the reports call this implementation"),
    version: Type.Optional(Type.String({ description: "its version, shown in the reports" })),
    commit: Type.Optional(Type.String({ description: "its commit, shown in the reports" })),
    description: Type.Optional(Type.String()),
    managed_by: Type.Optional(
      Type.Union([Type.Literal("owner"), Type.Literal("lab")], {
        description: "owner (default): its owner starts it; lab: the lab starts its own services, as without a target",
      }),
    ),
    partA: Type.Optional(PartA),
    partB: Type.Optional(PartB),
    partC: Type.Optional(PartC),
  },
  { ...closed, description: "the target" },
);

export type TargetFile = Static<typeof TargetSchema>;
export type Control = Static<typeof Control>;
export type HttpCall = Static<ReturnType<typeof HttpCall>>;

/** A loaded target: the file's fields, where it came from, and whether it is the lab's own services. */
export interface Target extends TargetFile {
  /** The file it was read from (absolute). Commands run in its folder. */
  file: string;
  /** The lab starts and stops its own services for this target, as it does without one. */
  lab: boolean;
}

// ---------------------------------------------------------------- loading, with lines

export interface TargetProblem {
  line: number;
  /** Where in the file, as dotted keys: `partA.services.order`. */
  where: string;
  message: string;
}

/** A target file with mistakes: one problem per mistake, each with its line. */
export class TargetError extends Error {
  constructor(
    readonly file: string,
    readonly problems: TargetProblem[],
  ) {
    super(
      `${path.relative(process.cwd(), file) || file}: ${problems.length} mistake${problems.length === 1 ? "" : "s"}\n` +
        problems.map((p) => `  line ${p.line}: ${p.where ? `${p.where}: ` : ""}${p.message}`).join("\n"),
    );
    this.name = "TargetError";
  }
}

/** Read and validate a target file; a TargetError lists every mistake with its line. */
export function loadTarget(file: string): Target {
  const abs = path.resolve(file);
  if (!fs.existsSync(abs)) throw new Error(`target file ${file} does not exist`);
  return parseTarget(fs.readFileSync(abs, "utf8"), abs);
}

/** Validate a target's text (`file` names it in the errors and is where its commands run). */
export function parseTarget(text: string, file: string): Target {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const lineOf = (offset: number) => lines.linePos(offset).line;
  // After a syntax error the parser's further errors are mostly its consequences: the first is the mistake.
  const syntax = doc.errors[0];
  if (syntax)
    throw new TargetError(file, [
      { line: lineOf(syntax.pos[0]), where: "", message: `not valid YAML: ${firstLine(syntax.message)}` },
    ]);
  const data = doc.toJS() as unknown;
  if (data === null || typeof data !== "object" || Array.isArray(data))
    throw new TargetError(file, [{ line: 1, where: "", message: "a target is a YAML mapping (name: …, partA: …)" }]);

  const problems: TargetProblem[] = [];
  const seen = new Set<string>();
  for (const e of Value.Errors(TargetSchema, data)) {
    const segs = pointer(e.path);
    // A missing field gives two errors (required, then its type), a bad union several: one per place.
    if (seen.has(e.path) || [...seen].some((p) => e.path.startsWith(`${p}/`))) continue;
    seen.add(e.path);
    const problem = problemAt(doc, segs, lineOf, describe(e.type, e.schema, e.value, segs));
    // A missing field is a mistake of the mapping that lacks it.
    if (e.type === ValueErrorType.ObjectRequiredProperty) problem.where = segs.slice(0, -1).join(".");
    problems.push(problem);
  }
  problems.push(
    ...placeholderProblems(data as TargetFile, doc, lineOf).filter(
      (p) => !problems.some((q) => q.where && p.where.startsWith(q.where)),
    ),
  );
  const target = data as TargetFile;
  if (!problems.length && target.managed_by !== "lab" && !target.partA && !target.partB && !target.partC)
    problems.push({ line: 1, where: "", message: "names no part: add partA, partB or partC (see targets/README.md)" });
  if (problems.length)
    throw new TargetError(
      file,
      problems.sort((a, b) => a.line - b.line),
    );
  return { ...target, file, lab: target.managed_by === "lab" };
}

const firstLine = (s: string) => s.split("\n")[0];

const pointer = (p: string): string[] =>
  p
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));

function describe(type: ValueErrorType, schema: TSchema, value: unknown, segs: string[]): string {
  const field = segs[segs.length - 1];
  switch (type) {
    case ValueErrorType.ObjectAdditionalProperties: {
      const known = Object.keys((schema.properties as Record<string, TSchema> | undefined) ?? {});
      const near = known.find((k) => editDistance(k, field) <= 2);
      return `unknown field "${field}"${near ? ` (did you mean "${near}"?)` : ""}${known.length ? `; the fields here: ${known.join(", ")}` : ""}`;
    }
    case ValueErrorType.ObjectRequiredProperty:
      return `missing required field "${field}"${schema.description ? ` (${schema.description})` : ""}`;
    case ValueErrorType.StringFormat:
      return schema.format === "host-ports"
        ? `${JSON.stringify(value)} is not host:port[,host:port…]`
        : `${JSON.stringify(value)} is not ${schema.format === "amqp-url" ? "an amqp:// URL" : "an http(s):// URL"}`;
    case ValueErrorType.StringPattern:
      return `${JSON.stringify(value)} is not a path starting with /${String(schema.pattern).includes("{id") ? " with {id} in it" : ""}`;
    case ValueErrorType.StringMinLength:
      return "must not be empty";
    case ValueErrorType.Union:
      return `${JSON.stringify(value)} is not one of ${(schema.anyOf as TSchema[]).map((s) => JSON.stringify(s.const)).join(", ")}`;
    default:
      return `expected ${schema.type === "object" ? "a mapping" : `a ${schema.type}`}, found ${kindOf(value)} ${JSON.stringify(value)}`;
  }
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

const kindOf = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "a list" : `a ${typeof v}`);

/** The line of a place in the document: the key of an unknown field, the value of a wrong one, the parent of a missing one. */
function problemAt(doc: Document, segs: string[], lineOf: (o: number) => number, message: string): TargetProblem {
  let node: unknown = doc.contents;
  let line = 1;
  for (const seg of segs) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === seg);
      if (!pair) break; // missing: stay on the parent's line
      line = lineOf((pair.key as Node).range?.[0] ?? 0);
      node = pair.value;
      const valueLine = (node as Node | null)?.range?.[0];
      if (valueLine !== undefined && isScalar(node)) line = lineOf(valueLine);
    } else if (isSeq(node)) {
      node = node.items[Number(seg)];
      const start = (node as Node | undefined)?.range?.[0];
      if (start !== undefined) line = lineOf(start);
    } else break;
  }
  return { line, where: segs.join("."), message };
}

/** Each fault switch must use its placeholder, and only known placeholders may appear. */
function placeholderProblems(t: TargetFile, doc: Document, lineOf: (o: number) => number): TargetProblem[] {
  const calls: [string[], HttpCall | undefined, string][] = [
    [["partA", "faults", "inventory_delay"], t.partA?.faults?.inventory_delay, "seconds"],
    [["partA", "faults", "inventory_fail_rate"], t.partA?.faults?.inventory_fail_rate, "rate"],
    [
      ["partA", "faults", "inventory_fail_after_reserve_rate"],
      t.partA?.faults?.inventory_fail_after_reserve_rate,
      "rate",
    ],
    [["partC", "load_test"], t.partC?.load_test, "count"],
    [["partC", "replay"], t.partC?.replay, ""],
  ];
  const out: TargetProblem[] = [];
  for (const [segs, call, needed] of calls) {
    if (!call) continue;
    const text = JSON.stringify([call.url, call.body ?? null]);
    const used = [...text.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]);
    const stray = used.filter((u) => u !== needed);
    if (stray.length)
      out.push(
        problemAt(
          doc,
          [...segs, "url"],
          lineOf,
          `unknown placeholder {${stray[0]}}${needed ? `: use {${needed}}` : ": this call takes none"}`,
        ),
      );
    else if (needed && !used.includes(needed))
      out.push(problemAt(doc, segs, lineOf, `needs the placeholder {${needed}} in its url or body`));
  }
  return out;
}

// ---------------------------------------------------------------- which target

/** The lab's own services: the target without --target or LAB_TARGET. */
export const LAB_TARGET_FILE = path.join(projectRoot, "lab-scripts", "targets", "lab.yml");

/** The target file a script or notebook uses: --target FILE, else env LAB_TARGET, else the lab's own. */
export function targetFile(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(flag || env.LAB_TARGET || LAB_TARGET_FILE);
}

/** The target a script or notebook uses, loaded (see targetFile). */
export const resolveTarget = (flag?: string, env: NodeJS.ProcessEnv = process.env): Target =>
  loadTarget(targetFile(flag, env));

/** Where a part's results go: results/<part>/ for the lab's own services, results/targets/<name>/<part>/ for another. */
export const targetResultsDir = (t: Target, part: string): string =>
  t.lab ? resultsDir(part) : resultsDir("targets", t.name.replace(/[^\w.-]+/g, "-"), part);

/** What a report says it measured: the target's name, version, commit and endpoints. */
export interface TargetSummary {
  name: string;
  version?: string;
  commit?: string;
  file: string;
  managed_by: "lab" | "owner";
  endpoints: Record<string, string>;
}

export function targetSummary(t: Target, endpoints: Record<string, string> = {}): TargetSummary {
  return {
    name: t.name,
    ...(t.version ? { version: t.version } : {}),
    ...(t.commit ? { commit: t.commit } : {}),
    file: path.relative(projectRoot, t.file).startsWith("..") ? t.file : path.relative(projectRoot, t.file),
    managed_by: t.lab ? "lab" : "owner",
    endpoints,
  };
}

/** One line for a report's header: `original-lab 1.2 (abc123) — order http://…, inventory http://…`. */
export const targetLine = (s: TargetSummary): string =>
  `${s.name}${s.version ? ` ${s.version}` : ""}${s.commit ? ` (${s.commit})` : ""}${
    Object.keys(s.endpoints).length
      ? ` — ${Object.entries(s.endpoints)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")}`
      : ""
  }`;

// ---------------------------------------------------------------- acting through the file

/** What the target does not let the lab do or see; the experiment skips what depends on it, with this reason. */
export class NotObservable extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "NotObservable";
  }
}

/** Run `body`; a NotObservable on the way goes to `skip` with its reason (and gives undefined), any other error is thrown. */
export async function unlessNotObservable<T>(
  body: () => Promise<T>,
  skip: (reason: string) => void,
): Promise<T | undefined> {
  try {
    return await body();
  } catch (err) {
    if (!(err instanceof NotObservable)) throw err;
    skip(err.message);
    return undefined;
  }
}

/** Make one of the target's HTTP calls with its placeholders filled in; anything but 2xx is an error. */
export async function callTarget(call: HttpCall, values: Record<string, number>): Promise<Answer> {
  const fill = (s: string) => s.replace(/\{([a-z_]+)\}/g, (_, k: string) => String(values[k]));
  // A string that is only a placeholder becomes the number itself: {"delay": "{seconds}"} → {"delay": 2}.
  const fillBody = (v: unknown): unknown =>
    typeof v === "string"
      ? /^\{[a-z_]+\}$/.test(v)
        ? values[v.slice(1, -1)]
        : fill(v)
      : Array.isArray(v)
        ? v.map(fillBody)
        : v && typeof v === "object"
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fillBody(x)]))
          : v;
  const body = call.body === undefined ? undefined : fillBody(call.body);
  const method = (call.method ?? "GET").toLowerCase() as "get" | "post" | "put";
  const r = await request(method, fill(call.url), body);
  if (r.status < 200 || r.status > 299)
    throw new Error(`${call.method ?? "GET"} ${fill(call.url)} answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r;
}

/** Run one of the target's shell commands in the target file's folder; a non-zero exit is an error with its output. */
export function runTargetCommand(target: Target, command: string, timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("sh", ["-c", command], { cwd: path.dirname(target.file), timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`\`${command}\` failed (${err.code ?? err.signal}): ${(stderr || stdout).trim()}`));
      else resolve(stdout);
    });
  });
}

/** Stop (SIGTERM) or kill (SIGKILL) the one process in a pid file, and wait until it is gone. */
export async function signalPidFile(target: Target, pidFile: string, how: "graceful" | "kill"): Promise<void> {
  const file = path.resolve(path.dirname(target.file), pidFile);
  const pid = Number(fs.readFileSync(file, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`${file} does not hold a pid`);
  if (!isAlive(pid)) return;
  process.kill(pid, how === "kill" ? "SIGKILL" : "SIGTERM");
  await waitUntil(() => !isAlive(pid), `pid ${pid} (from ${pidFile}) to exit`, 30_000, 50);
}

/**
 * Stop, kill or start a service the way its target says: a command, else (stop, kill) the pid
 * file; a start waits until `healthUrl` answers (none, e.g. a consumer without HTTP: the caller
 * watches for it another way). What the file does not say is NotObservable.
 */
export async function controlService(
  target: Target,
  service: string,
  control: Control | undefined,
  action: "stop" | "kill" | "start",
  healthUrl?: string,
): Promise<void> {
  const command = control?.[action];
  if (command) await runTargetCommand(target, command);
  else if (action !== "start" && control?.pid_file)
    await signalPidFile(target, control.pid_file, action === "kill" ? "kill" : "graceful");
  else
    throw new NotObservable(
      `the target does not say how to ${action} ${service} (control.${service}.${action}${action === "start" ? "" : " or pid_file"})`,
    );
  if (action === "start" && healthUrl)
    await waitUntil(() => answers(healthUrl), `${service} to answer ${healthUrl}`, 60_000);
}
