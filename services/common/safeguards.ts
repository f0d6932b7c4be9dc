// A safeguard is a named switch of a part, ON unless SAFEGUARDS_OFF names it. The lab turns one
// off to show the failure it prevents; nothing else ever should, so a service with one off says
// so loudly at start and in /health, and a name it does not know stops it at start (a typo must
// never leave a safeguard silently on — or silently off).
import { Type } from "./config.js";

/** What a part's catalogue says about one of its safeguards. */
export interface SafeguardInfo {
  /** The service that implements it. */
  service: string;
  /** The failure it prevents, in one sentence. */
  prevents: string;
}

export type SafeguardCatalog<N extends string = string> = Readonly<Record<N, SafeguardInfo>>;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The config schema's entry: SAFEGUARDS_OFF, a comma-separated list of the part's safeguard
 * names (empty: all on). The pattern lists the names, so env-schema's error shows them.
 */
export function safeguardsSetting(catalog: SafeguardCatalog) {
  const name = `(${Object.keys(catalog).map(escape).join("|")})`;
  return {
    SAFEGUARDS_OFF: Type.String({ default: "", pattern: `^(${name}(,${name})*)?$` }),
  };
}

export interface Safeguards<N extends string> {
  /** Is this safeguard on? */
  on(name: N): boolean;
  /** For /health: this service's safeguards, each "on" or "off". */
  health(): Record<string, "on" | "off">;
  /** The part's names that are off (any service's). */
  off: N[];
}

/**
 * The switches as one service sees them. Every service of a part gets the same SAFEGUARDS_OFF
 * (the harness gives env to a whole part), so each validates against the whole catalogue and
 * reports and warns about its own.
 */
export function safeguardSwitches<N extends string>(
  catalog: SafeguardCatalog<N>,
  service: string,
  offSetting: string,
  warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Safeguards<N> {
  const names = Object.keys(catalog) as N[];
  const off = offSetting
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean) as N[];
  for (const n of off)
    if (!names.includes(n)) throw new Error(`SAFEGUARDS_OFF: unknown safeguard "${n}"; known: ${names.join(", ")}`);
  const mine = names.filter((n) => catalog[n].service === service);
  for (const n of off.filter((n) => mine.includes(n)))
    warn(
      `⚠ ${service}: SAFEGUARD OFF: ${n}. ${catalog[n].prevents} — this service is in a teaching mode that can lose or duplicate data.`,
    );
  return {
    on: (name) => !off.includes(name),
    health: () => Object.fromEntries(mine.map((n) => [n, off.includes(n) ? "off" : "on"])),
    off,
  };
}
