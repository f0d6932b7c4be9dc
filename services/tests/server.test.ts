// The shared HTTP service (common/server.ts), on a real socket: an empty body is no body whatever
// its Content-Type (a generic JSON client sends the header on every POST), a route that needs a
// body still says why it refuses one, and /ready answers beside /health.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { Type } from "@sinclair/typebox";
import { createService, type Service } from "../common/server.js";

let app: Service;
let port: number;
let notReadyBecause: string | null = null;

/** One raw HTTP/1.1 request, exactly as written (curl -X POST -H 'content-type: …' sends no Content-Length). */
function raw(request: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.end(request));
    let data = "";
    socket.on("data", (chunk: Buffer) => (data += chunk.toString()));
    socket.on("error", reject);
    socket.on("close", () => {
      const [head, ...rest] = data.split("\r\n\r\n");
      const text = rest.join("\r\n\r\n");
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1]);
      let body: any = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      resolve({ status, body });
    });
  });
}

const post = (path: string, headers: string[], body = "") =>
  raw([`POST ${path} HTTP/1.1`, "Host: localhost", "Connection: close", ...headers, "", body].join("\r\n"));

before(async () => {
  app = createService({ name: "test", logLevel: "silent", ready: () => notReadyBecause });
  // As analytics' /report and the producer's /load-test do: no body is an empty object.
  app.post(
    "/optional",
    {
      schema: { body: Type.Object({ label: Type.Optional(Type.String()) }) },
      preValidation: async (req) => {
        req.body ??= {};
      },
    },
    async (req) => ({ got: req.body }),
  );
  app.post("/no-schema", async (req) => ({ got: req.body ?? null }));
  app.post("/required", { schema: { body: Type.Object({ order_id: Type.String() }) } }, async (req) => ({
    got: req.body,
  }));
  await app.listen({ port: 0, host: "127.0.0.1" });
  port = (app.server.address() as net.AddressInfo).port;
});
after(() => app.close());

describe("an empty body is no body, whatever its content-type", () => {
  for (const headers of [
    ["content-type: application/json"], // curl -X POST -H 'content-type: application/json'
    ["content-type: application/json", "content-length: 0"],
    ["content-type: application/json; charset=utf-8", "content-length: 0"],
    ["content-type: text/plain", "content-length: 0"],
    ["content-type: application/x-www-form-urlencoded"],
    [],
  ]) {
    test(`POST with ${headers.join(", ") || "no headers"}: 200 on optional-body routes`, async () => {
      for (const [route, got] of [
        ["/optional", {}],
        ["/no-schema", null],
      ] as const) {
        const res = await post(route, headers);
        assert.equal(res.status, 200, `${route}: ${JSON.stringify(res.body)}`);
        assert.deepEqual(res.body, { got });
      }
    });
  }

  test("a route that needs a body still refuses an empty one, with a reason", async () => {
    const res = await post("/required", ["content-type: application/json"]);
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, { error: "invalid-json", message: "empty body; send a JSON object" });
  });

  test("a body is parsed as before, and bad JSON is still a 400 that says why", async () => {
    const ok = await post("/required", ["content-type: application/json", "content-length: 17"], '{"order_id":"o1"}');
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, { got: { order_id: "o1" } });
    const bad = await post("/optional", ["content-type: application/json", "content-length: 3"], "{x}");
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, "invalid-json");
    const wrong = await post("/required", ["content-type: application/json", "content-length: 2"], "{}");
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error, "invalid-request");
  });
});

describe("/ready beside /health", () => {
  test("200 when the service says it is ready, 503 with the reason when not; /health stays 200", async () => {
    notReadyBecause = null;
    assert.equal((await raw("GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).status, 200);
    notReadyBecause = "broker reconnecting";
    const res = await raw("GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert.equal(res.status, 503);
    assert.deepEqual(res.body, { status: "not-ready", service: "test", reason: "broker reconnecting" });
    assert.equal((await raw("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).status, 200);
    notReadyBecause = null;
  });
});
