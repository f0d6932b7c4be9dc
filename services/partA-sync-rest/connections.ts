// How the order service reaches inventory and notification: a keep-alive connection that every
// call reuses, or a new TCP connection per call; and, for the lab's connection experiment, a
// resolver of its own (RESOLVE) that can give a name several addresses, tried in order.
import dns from "node:dns";
import http from "node:http";
import net from "node:net";
import type { ClientRequestArgs } from "node:http";
import type { Duplex } from "node:stream";

/** `name=addr,addr;name=addr` — e.g. `inventory.lab=127.0.0.2,127.0.0.1`. Empty: the system resolver only. */
export const RESOLVE_PATTERN =
  "^$|^[A-Za-z0-9.-]+=[0-9A-Fa-f:.]+(,[0-9A-Fa-f:.]+)*(;[A-Za-z0-9.-]+=[0-9A-Fa-f:.]+(,[0-9A-Fa-f:.]+)*)*$";

export type ResolveMap = Record<string, string[]>;

export function parseResolve(text: string): ResolveMap {
  const map: ResolveMap = {};
  for (const entry of text.split(";").filter(Boolean)) {
    const [name, list] = entry.split("=");
    const addresses = list.split(",");
    for (const a of addresses)
      if (!net.isIP(a)) throw new Error(`RESOLVE: ${JSON.stringify(a)} (for ${name}) is not an IP address`);
    map[name.toLowerCase()] = addresses;
  }
  return map;
}

export const formatResolve = (map: ResolveMap): string =>
  Object.entries(map)
    .map(([name, addresses]) => `${name}=${addresses.join(",")}`)
    .join(";");

/**
 * A lookup that answers the names of `map` with their addresses, in that order, and leaves every
 * other name to the system resolver. With `autoSelectFamily`, Node asks for all addresses and
 * tries them one after the other, giving each `autoSelectFamilyAttemptTimeout` ms to connect.
 */
export function mappedLookup(map: ResolveMap): NonNullable<net.TcpSocketConnectOpts["lookup"]> {
  const byName = Object.fromEntries(Object.entries(map).map(([name, addresses]) => [name.toLowerCase(), addresses]));
  return (
    hostname: string,
    options: dns.LookupOptions,
    callback: (err: Error | null, address: string | dns.LookupAddress[], family?: number) => void,
  ) => {
    const addresses = byName[hostname.toLowerCase()];
    if (!addresses)
      return dns.lookup(hostname, { ...options, all: options.all ?? false } as dns.LookupAllOptions, callback as never);
    const list = addresses.map((address) => ({ address, family: net.isIP(address) }));
    if (options.all) callback(null, list);
    else callback(null, list[0].address, list[0].family);
  };
}

export interface ConnectionSettings {
  keepAlive: boolean;
  resolve: ResolveMap;
  /** How long a connect attempt to one address may take before the next address is tried. */
  connectAttemptTimeoutMs: number;
}

/**
 * An agent that counts the TCP connections it opens and the time their set-up took (from the
 * socket's creation to its `connect`, every address tried included): /health shows whether calls
 * reuse their connections, and what opening them costs.
 */
export class CountingAgent extends http.Agent {
  opened = 0;
  connectMs = 0;
  override createConnection(
    options: ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    this.opened++;
    const started = performance.now();
    const socket = super.createConnection(options, callback);
    socket?.once("connect", () => (this.connectMs += performance.now() - started));
    return socket;
  }
}

export function outgoingAgent(settings: ConnectionSettings): CountingAgent {
  return new CountingAgent({
    keepAlive: settings.keepAlive,
    noDelay: true, // no Nagle delay: a small request is sent at once
    lookup: mappedLookup(settings.resolve),
    autoSelectFamily: true,
    autoSelectFamilyAttemptTimeout: settings.connectAttemptTimeoutMs,
  });
}
