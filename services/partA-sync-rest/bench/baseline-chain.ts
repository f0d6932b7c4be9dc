// The baseline for Part A: the same two hops with nothing but node:http and keep-alive — no
// framework, no validation, no logging, no retries. What the chain costs at the least.
//   node baseline-chain.js order|inventory|notification   (PORT, INVENTORY_URL, NOTIFICATION_URL)
import http from "node:http";
import { postJson } from "../../harness/measure/raw-http.js";

const role = process.argv[2];
const port = Number(process.env.PORT);
const agent = new http.Agent({ keepAlive: true });

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (c) => (text += c));
    req.on("end", () => resolve(text));
  });
}

const reply = (res: http.ServerResponse, status: number, body: unknown) => {
  const data = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(data) }).end(data);
};

let n = 0;
const handlers: Record<string, (body: any) => Promise<[number, unknown]>> = {
  inventory: async (body) => [200, { reservation_id: `res-${++n}`, order_id: body.order_id, status: "RESERVED" }],
  notification: async (body) => [200, { notification_id: `n-${++n}`, order_id: body.order_id, status: "SENT" }],
  order: async (body) => {
    const orderId = `o-${(++n).toString(16).padStart(8, "0")}`;
    const reserve = await postJson(`${process.env.INVENTORY_URL}/reserve`, { order_id: orderId, order: body }, agent);
    if (reserve.status !== 200) return [502, { error: "reserve-failed", order_id: orderId }];
    const send = await postJson(
      `${process.env.NOTIFICATION_URL}/send`,
      { order_id: orderId, reservation_id: JSON.parse(reserve.body).reservation_id },
      agent,
    );
    if (send.status !== 200) return [502, { error: "notification-failed", order_id: orderId }];
    return [200, { order_id: orderId, status: "CONFIRMED" }];
  },
};

const handle = handlers[role];
if (!handle) throw new Error(`role must be one of ${Object.keys(handlers).join(", ")}`);

async function serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  if (req.method === "GET" && req.url === "/health") return reply(res, 200, { status: "ok", role });
  const [status, body] = await handle(JSON.parse((await readBody(req)) || "{}"));
  reply(res, status, body);
}

http
  .createServer((req, res) => {
    // node:http does not wait for the handler's promise: a failure (a body that is not JSON, a hop that
    // refuses) answers 500 here instead of becoming an unhandled rejection, which would end the process.
    serve(req, res).catch((err: unknown) =>
      res.headersSent ? res.destroy() : reply(res, 500, { error: String(err) }),
    );
  })
  .listen(port, "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
