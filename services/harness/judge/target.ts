// The implementation under test, as a file (target-schema.ts): reading and validating a target
// with one error per mistake and its line, which target a script or notebook uses, where its
// results go and how a report names it. The lab acts on a foreign implementation only through
// what the file names (target-control.ts); a field left out makes what depends on it "not
// observable", with the reason.
import fs from "node:fs";
import path from "node:path";
import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { ValueErrorType } from "@sinclair/typebox/errors";
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import { projectRoot, resultsDir } from "../../common/paths.js";
import { TargetSchema, type HttpCall, type Target, type TargetFile } from "./target-schema.js";

export type { Control, HttpCall, Target, TargetFile } from "./target-schema.js";

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
    problems.push({
      line: 1,
      where: "",
      message: "names no part: add partA, partB or partC (see docs/06-your-implementation.md)",
    });
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
