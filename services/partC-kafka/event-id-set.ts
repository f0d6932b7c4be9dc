// The eventIds analytics has counted, so that an event read twice counts once. There is one per
// event in the log, so their cost is what bounds analytics' memory: in a Set, a 36-character id
// costs ≈ 100 bytes of JavaScript heap (≈ 150 MB at a million events, and the garbage collector
// lets the heap grow to twice that); here a UUID costs 16 bytes in a typed array outside the
// heap (≈ 32 MB at a million). An id that is not a lowercase UUID (any string is allowed) is kept
// in a plain Set, so the set means exactly what a Set<string> would.

const WORDS = 4; // 128 bits per slot; all zero = empty (the nil UUID goes to the plain Set)
const MAX_LOAD = 0.75;

export class EventIdSet {
  private table = new Uint32Array(1024 * WORDS);
  private slots = 1024;
  private packed = 0;
  private readonly others = new Set<string>();
  private readonly key = new Uint32Array(WORDS);

  get size(): number {
    return this.packed + this.others.size;
  }

  has(id: string): boolean {
    return this.pack(id) ? this.find(this.key) >= 0 : this.others.has(id);
  }

  /** Add an id; false when it was already there. */
  add(id: string): boolean {
    if (!this.pack(id)) {
      if (this.others.has(id)) return false;
      this.others.add(id);
      return true;
    }
    if (this.find(this.key) >= 0) return false;
    if ((this.packed + 1) / this.slots > MAX_LOAD) this.grow();
    this.insert(this.key);
    this.packed++;
    return true;
  }

  /** The id's 128 bits into `this.key`; false when it is not a lowercase, non-nil UUID. */
  private pack(id: string): boolean {
    if (
      id.length !== 36 ||
      id.charCodeAt(8) !== 45 ||
      id.charCodeAt(13) !== 45 ||
      id.charCodeAt(18) !== 45 ||
      id.charCodeAt(23) !== 45
    )
      return false;
    const [a, b, c, d, e, f] = [
      hex(id, 0, 8),
      hex(id, 9, 4),
      hex(id, 14, 4),
      hex(id, 19, 4),
      hex(id, 24, 4),
      hex(id, 28, 8),
    ];
    if (Math.min(a, b, c, d, e, f) < 0 || a + b + c + d + e + f === 0) return false;
    this.key[0] = a;
    this.key[1] = b * 0x10000 + c;
    this.key[2] = d * 0x10000 + e;
    this.key[3] = f;
    return true;
  }

  private home(key: Uint32Array): number {
    // UUIDs are random bits (v4) or a hash (v5), so mixing two words spreads them well enough.
    return (Math.imul(key[0] ^ key[3], 0x9e3779b1) ^ key[1]) & (this.slots - 1);
  }

  /** Linear probing: the slot holding `key`, or -1. */
  private find(key: Uint32Array): number {
    const t = this.table;
    for (let s = this.home(key); ; s = (s + 1) & (this.slots - 1)) {
      const i = s * WORDS;
      if ((t[i] | t[i + 1] | t[i + 2] | t[i + 3]) === 0) return -1;
      if (t[i] === key[0] && t[i + 1] === key[1] && t[i + 2] === key[2] && t[i + 3] === key[3]) return s;
    }
  }

  private insert(key: Uint32Array): void {
    const t = this.table;
    let s = this.home(key);
    while ((t[s * WORDS] | t[s * WORDS + 1] | t[s * WORDS + 2] | t[s * WORDS + 3]) !== 0)
      s = (s + 1) & (this.slots - 1);
    t.set(key, s * WORDS);
  }

  private grow(): void {
    const old = this.table;
    this.slots *= 2;
    this.table = new Uint32Array(this.slots * WORDS);
    const key = new Uint32Array(WORDS);
    for (let i = 0; i < old.length; i += WORDS) {
      if ((old[i] | old[i + 1] | old[i + 2] | old[i + 3]) === 0) continue;
      key.set(old.subarray(i, i + WORDS));
      this.insert(key);
    }
  }
}

/** The value of `length` lowercase hex digits of `s` from `at`, or a negative number if one is not. */
function hex(s: string, at: number, length: number): number {
  let v = 0;
  for (let i = at; i < at + length; i++) {
    const c = s.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1; // 0-9, a-f
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}
