// Free TCP ports on loopback, so tests can run a part beside one a student already has up.
import net from "node:net";
import { PARTS, type PartId } from "./parts.js";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Is something already listening on host:port? */
export function portInUse(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.setTimeout(500);
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("timeout", () => (socket.destroy(), resolve(false)));
    socket.once("error", () => resolve(false));
  });
}

/** A free port for every service of a part (a benchmark's, a fault scenario's or a test's own stack). */
export async function freePortsFor(part: PartId): Promise<Record<string, number>> {
  const ports: Record<string, number> = {};
  for (const name of Object.keys(PARTS[part].defaultPorts)) ports[name] = await freePort();
  return ports;
}
