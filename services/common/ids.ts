// The seed's shared ids (common/ids.py), so every part names things the same way.
import { randomBytes, randomUUID } from "node:crypto";

const hex = (chars: number): string =>
  randomBytes(Math.ceil(chars / 2))
    .toString("hex")
    .slice(0, chars);

export const newOrderId = (): string => `o-${hex(8)}`;
export const newEventId = (): string => randomUUID();
export const newLoadTestOrderId = (n: number): string => `load-${String(n).padStart(6, "0")}`;
