// Generated hostile input: what a careless or malicious client sends. fast-check draws it from
// a seed, so a run that found a 5xx can be replayed exactly.
import fc from "fast-check";

/** Strings that have broken other systems: injections, traversal, format strings, odd unicode. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "'; DROP TABLE orders; --",
    '" OR "1"="1',
    "<script>alert(1)</script>",
    "${jndi:ldap://127.0.0.1/a}",
    "{{7*7}}",
    "../../../../etc/passwd",
    "%s%s%s%n",
    "\u0000",
    "\ud800",
    "🍔".repeat(50),
    "🍔".repeat(120), // 120 characters as JSON schema counts them by default, 240 as JavaScript does
    "a".repeat(10_000),
    "__proto__",
    "constructor",
    "",
  ),
  fc.string({ maxLength: 200 }),
  fc.string({ unit: "binary", maxLength: 100 }),
);

/** Any JSON value at all: objects, arrays, scalars, deep nesting. */
export const anyJson: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 6 });

/** Objects shaped like a request, with every field's type or value wrong in some way. */
export function mangledObject(fields: string[]): fc.Arbitrary<Record<string, unknown>> {
  const wrong = fc.oneof(anyJson, nastyString, fc.constantFrom(-1, 0, 1e308, -1e308, 2 ** 53 + 1, 1.5, true, null));
  return fc.dictionary(
    fc.oneof(fc.constantFrom(...fields, "__proto__", "constructor", "prototype"), fc.string({ maxLength: 20 })),
    wrong,
    { maxKeys: 8 },
  );
}

/** A raw body: valid JSON of any shape, broken JSON, or a huge one. */
export function hostileBody(fields: string[]): fc.Arbitrary<{ text: string; contentType: string }> {
  const json = (a: fc.Arbitrary<unknown>) =>
    a.map((v) => ({ text: JSON.stringify(v) ?? "null", contentType: "application/json" }));
  return fc.oneof(
    json(anyJson),
    json(mangledObject(fields)),
    fc.string({ maxLength: 300 }).map((text) => ({ text, contentType: "application/json" })), // mostly not JSON
    fc
      .constantFrom("{", "[", '{"a":', "{'single': 'quotes'}", "NaN", "Infinity", "\u0000")
      .map((text) => ({ text, contentType: "application/json" })),
    fc
      .integer({ min: 70_000, max: 2_000_000 })
      .map((n) => ({ text: JSON.stringify({ padding: "x".repeat(n) }), contentType: "application/json" })),
    json(anyJson).map((b) => ({ ...b, contentType: "text/plain" })),
    json(anyJson).map((b) => ({ ...b, contentType: "application/x-www-form-urlencoded" })),
  );
}

/** Query strings for set-* style endpoints: numbers out of range, words, repeats, nothing. */
export function hostileQuery(name: string): fc.Arbitrary<string> {
  const value = fc.oneof(
    nastyString,
    fc.double().map(String),
    fc.constantFrom("NaN", "Infinity", "-0", "1e999", "0x10", " 1 "),
  );
  const q = (pairs: [string, string][]) => new URLSearchParams(pairs).toString(); // also encodes lone surrogates
  return fc.oneof(
    value.map((v) => q([[name, v]])),
    fc.tuple(value, value).map(([a, b]) =>
      q([
        [name, a],
        [name, b],
      ]),
    ),
    fc.constant(""),
    nastyString.map((v) => q([[v, "1"]])),
  );
}

/** Percent-encode a string as a URL path segment, byte by byte (lone surrogates become U+FFFD). */
export const encodeSegment = (s: string): string =>
  [...Buffer.from(s, "utf8")]
    .map((b) =>
      /[A-Za-z0-9\-._~]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, "0")}`,
    )
    .join("");

/** A path segment for a `/:id` route: encoded nasty strings, broken encodings, traversal, very long ids. */
export const hostilePathSegment: fc.Arbitrary<string> = fc.oneof(
  nastyString.filter((s) => s.length > 0).map(encodeSegment),
  fc.constantFrom(
    "%",
    "%zz",
    "%E0%A4%A",
    "%00",
    "..%2F..%2Fetc%2Fpasswd",
    "..",
    "a%2Fb",
    "%2e%2e",
    "x".repeat(5000),
    "%F0%9F%8D%94",
    "null",
    "undefined",
    "-1",
    "0",
  ),
);

/**
 * A message body for a queue or topic: not JSON, binary, JSON of any shape, an object with the
 * expected fields mangled, a valid-looking event with hostile contents, empty, or huge.
 */
export function hostileMessage(fields: string[], nearlyValid: fc.Arbitrary<unknown>): fc.Arbitrary<Buffer> {
  const json = (a: fc.Arbitrary<unknown>) => a.map((v) => Buffer.from(JSON.stringify(v) ?? "null"));
  return fc.oneof(
    nastyString.map((s) => Buffer.from(s)),
    fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b)),
    json(anyJson),
    json(mangledObject(fields)),
    { weight: 3, arbitrary: json(nearlyValid) }, // often valid: the services' own rules get hostile contents too
    fc.constant(Buffer.alloc(0)),
    fc
      .constantFrom(
        '{"order_id": "poison", "invalid": json}',
        "{",
        "[]",
        "null",
        '{"items":[{"sku":"burger","qty":1}]}',
      )
      .map((s) => Buffer.from(s)),
    fc
      .integer({ min: 100_000, max: 900_000 })
      .map((n) => Buffer.from(JSON.stringify({ [fields[0] ?? "padding"]: "x".repeat(n) }))),
  );
}
