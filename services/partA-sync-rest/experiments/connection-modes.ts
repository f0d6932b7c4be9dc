// How each mode of Part A's connections lesson connects: the client's agent, the order service's
// settings, and the lab's listener that never answers.
//
// The address that does not answer is made by the lab, without root and without touching the
// machine's network set-up: a helper process listens on 127.0.0.2 at each service's port with a
// backlog of 0 and never accepts, and fills its own accept queue. Linux then drops every further
// SYN to that address (tcp_abort_on_overflow=0): the connect attempt gets no answer at all, as
// behind a firewall that drops. The names resolve (a resolver of the lab's own, RESOLVE) to
// 127.0.0.2 first, then 127.0.0.1 where the service listens; the caller gives the first address
// its connect attempt timeout (Node's autoSelectFamilyAttemptTimeout) and then falls back. The
// stall is that timeout running out on a real connect attempt, not a sleep.
import { spawn, type ChildProcess } from "node:child_process";
import { CountingAgent, formatResolve, mappedLookup, type ResolveMap } from "../connections.js";

export type ConnectionMode = "keep_alive" | "new_connection" | "unanswered_first" | "refused_first";
export const CONNECTION_MODES: ConnectionMode[] = ["keep_alive", "new_connection", "unanswered_first", "refused_first"];

export const MODE_TEXT: Record<ConnectionMode, string> = {
  keep_alive: "keep-alive: every call reuses an open connection",
  new_connection: "a new TCP connection for every call, on every hop",
  unanswered_first: "a new connection per call to a name whose first address does not answer",
  refused_first: "a new connection per call to a name whose first address (::1) refuses",
};

/** The address where nothing answers (the lab's silent listener) and the one that refuses. */
export const UNANSWERED_ADDRESS = "127.0.0.2";
export const REFUSING_ADDRESS = "::1";
const NAMES = { order: "order.lab", inventory: "inventory.lab", notification: "notification.lab" };

// A listener that never accepts: its queue holds what it connected to itself, so the kernel
// drops every further SYN. Python, because Node's server accepts every connection at once.
const SILENT_LISTENER = `
import socket, sys, time
host, held = sys.argv[1], []
for port in map(int, sys.argv[2:]):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((host, port)); s.listen(0)
    for _ in range(2):
        c = socket.socket(); c.setblocking(False)
        try: c.connect((host, port))
        except BlockingIOError: pass
        held.append(c)
    held.append(s)
print("ready", flush=True)
sys.stdin.read()
`;

/** Start the silent listener on `host` at `ports`; it stops when its stdin closes (kill() too). */
export async function startSilentListener(host: string, ports: number[]): Promise<ChildProcess> {
  const python = process.env.PYTHON ?? "python3";
  const child = spawn(python, ["-c", SILENT_LISTENER, host, ...ports.map(String)], { stdio: ["pipe", "pipe", "pipe"] });
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  await new Promise<void>((resolve, reject) => {
    child.on("error", (e) => reject(new Error(`cannot start ${python} for the silent listener: ${e.message}`)));
    child.on("exit", (code) => reject(new Error(`the silent listener exited (${code}): ${err.trim()}`)));
    child.stdout.on("data", (d) => String(d).includes("ready") && resolve());
  });
  return child;
}

export interface ModeSetup {
  /** Env of the order service in this mode. */
  env: Record<string, string>;
  /** The client's agent (it counts its connections and their set-up time) and the URL it calls. */
  agent: CountingAgent;
  orderUrl: string;
}

export function setupFor(mode: ConnectionMode, ports: Record<string, number>, stallMs: number): ModeSetup {
  const local = (port: number) => `http://127.0.0.1:${port}`;
  if (mode === "keep_alive") {
    return {
      env: { KEEP_ALIVE: "true" },
      agent: new CountingAgent({ keepAlive: true, maxSockets: 1, noDelay: true }),
      orderUrl: local(ports.order),
    };
  }
  if (mode === "new_connection") {
    return {
      env: { KEEP_ALIVE: "false" },
      agent: new CountingAgent({ keepAlive: false, noDelay: true }),
      orderUrl: local(ports.order),
    };
  }
  const first = mode === "unanswered_first" ? UNANSWERED_ADDRESS : REFUSING_ADDRESS;
  const resolve: ResolveMap = Object.fromEntries(Object.values(NAMES).map((name) => [name, [first, "127.0.0.1"]]));
  const options = { lookup: mappedLookup(resolve), autoSelectFamily: true, autoSelectFamilyAttemptTimeout: stallMs };
  return {
    env: {
      KEEP_ALIVE: "false",
      RESOLVE: formatResolve(resolve),
      CONNECT_ATTEMPT_TIMEOUT_MS: String(stallMs),
      INVENTORY_URL: `http://${NAMES.inventory}:${ports.inventory}`,
      NOTIFICATION_URL: `http://${NAMES.notification}:${ports.notification}`,
    },
    agent: new CountingAgent({ keepAlive: false, noDelay: true, ...options }),
    orderUrl: `http://${NAMES.order}:${ports.order}`,
  };
}
