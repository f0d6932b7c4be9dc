// The inventory's one business rule: an order is reserved only if every sku exists and has
// enough stock, and then all of it is taken at once; otherwise nothing is taken and the reason
// says what was missing. A failed reservation is an answer (InventoryFailed), not an error.
import type { Item } from "./events.js";

export type Stock = Record<string, number>;
export type Decision = { ok: true; after: Stock } | { ok: false; reason: string };

export function decideReservation(stock: Stock, items: Item[]): Decision {
  const unknown = items.filter((i) => !Object.hasOwn(stock, i.sku)).map((i) => i.sku);
  if (unknown.length) return { ok: false, reason: `unknown sku: ${unknown.join(", ")}` };
  const short = items.filter((i) => stock[i.sku] < i.qty);
  if (short.length) {
    return {
      ok: false,
      reason: `not enough stock: ${short.map((i) => `${i.sku} (${i.qty} asked, ${stock[i.sku]} left)`).join(", ")}`,
    };
  }
  const after = { ...stock };
  for (const i of items) after[i.sku] -= i.qty;
  return { ok: true, after };
}

/** The second seed's stock: what a fresh inventory starts with. */
export const INITIAL_STOCK: Stock = { burger: 100, fries: 200, pizza: 50, soda: 150, salad: 75 };
