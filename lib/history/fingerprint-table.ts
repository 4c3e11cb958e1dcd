/**
 * A set of finding fingerprints with a 6-bit value each (a packed status), for drift over a
 * million findings: s3scan's fingerprints are 32 hex digits (128 bits), kept as four 32-bit
 * words in an open-addressing table of typed arrays, so a million take about 40 MB and no
 * string is hashed. Any other fingerprint goes to a plain Map beside it.
 */
export class FingerprintTable {
  #keys: Uint32Array;
  /** 0: empty; 1–64: the value + 1; 255: deleted. */
  #values: Uint8Array;
  #mask: number;
  #used = 0;
  #size = 0;
  readonly #other = new Map<string, number>();
  readonly #words = new Uint32Array(4);

  public constructor(capacity = 1 << 16) {
    const slots = 2 ** Math.ceil(Math.log2(Math.max(16, capacity * 2)));
    this.#keys = new Uint32Array(slots * 4);
    this.#values = new Uint8Array(slots);
    this.#mask = slots - 1;
  }

  /** Live entries. */
  public get size(): number {
    return this.#size + this.#other.size;
  }

  /** Reads 32 lowercase hex digits into the four words; false for anything else. */
  #parse(fingerprint: string): boolean {
    if (fingerprint.length !== 32) return false;
    for (let w = 0; w < 4; w++) {
      let word = 0;
      for (let i = w * 8; i < w * 8 + 8; i++) {
        const c = fingerprint.charCodeAt(i);
        const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
        if (digit < 0) return false;
        word = (word << 4) | digit;
      }
      this.#words[w] = word >>> 0;
    }
    return true;
  }

  /** The slot holding the parsed key, or the first free one on its probe path. */
  #find(keys: Uint32Array, values: Uint8Array, mask: number, forInsert: boolean): number {
    const words = this.#words;
    const a = words[0]!;
    const b = words[1]!;
    const c = words[2]!;
    const d = words[3]!;
    // Mixed, not trusted: s3scan's halves are hashes, but a key of repeated words must not
    // put every key on one probe path.
    let h = a ^ Math.imul(b, 0x9e3779b1) ^ Math.imul(c, 0x85ebca6b) ^ Math.imul(d, 0xc2b2ae35);
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
    let slot = (h ^ (h >>> 13)) & mask;
    let tombstone = -1;
    for (;;) {
      const value = values[slot]!;
      if (value === 0) return forInsert && tombstone >= 0 ? tombstone : slot;
      if (value === 255) {
        if (tombstone < 0) tombstone = slot;
      } else {
        const k = slot * 4;
        if (keys[k] === a && keys[k + 1] === b && keys[k + 2] === c && keys[k + 3] === d)
          return slot;
      }
      slot = (slot + 1) & mask;
    }
  }

  public set(fingerprint: string, value: number): void {
    // Grown first: growing re-parses every key through the same words.
    if ((this.#used + 1) * 2 > this.#values.length) this.#grow();
    if (!this.#parse(fingerprint)) {
      this.#other.set(fingerprint, value);
      return;
    }
    const slot = this.#find(this.#keys, this.#values, this.#mask, true);
    const before = this.#values[slot]!;
    if (before === 0 || before === 255) {
      this.#size += 1;
      if (before === 0) this.#used += 1;
      this.#keys.set(this.#words, slot * 4);
    }
    this.#values[slot] = value + 1;
  }

  public get(fingerprint: string): number | undefined {
    if (!this.#parse(fingerprint)) return this.#other.get(fingerprint);
    const value = this.#values[this.#find(this.#keys, this.#values, this.#mask, false)]!;
    return value === 0 || value === 255 ? undefined : value - 1;
  }

  /** The value, removed from the table: one lookup for get-then-delete. */
  public take(fingerprint: string): number | undefined {
    if (!this.#parse(fingerprint)) {
      const value = this.#other.get(fingerprint);
      this.#other.delete(fingerprint);
      return value;
    }
    const slot = this.#find(this.#keys, this.#values, this.#mask, false);
    const value = this.#values[slot]!;
    if (value === 0 || value === 255) return undefined;
    this.#values[slot] = 255;
    this.#size -= 1;
    return value - 1;
  }

  public delete(fingerprint: string): void {
    if (!this.#parse(fingerprint)) {
      this.#other.delete(fingerprint);
      return;
    }
    const slot = this.#find(this.#keys, this.#values, this.#mask, false);
    const value = this.#values[slot]!;
    if (value !== 0 && value !== 255) {
      this.#values[slot] = 255;
      this.#size -= 1;
    }
  }

  /** Doubles the table (and drops tombstones). */
  #grow(): void {
    const keys = this.#keys;
    const values = this.#values;
    const slots = values.length * 2;
    this.#keys = new Uint32Array(slots * 4);
    this.#values = new Uint8Array(slots);
    this.#mask = slots - 1;
    this.#used = 0;
    for (let slot = 0; slot < values.length; slot++) {
      const value = values[slot]!;
      if (value === 0 || value === 255) continue;
      this.#words.set(keys.subarray(slot * 4, slot * 4 + 4));
      const to = this.#find(this.#keys, this.#values, this.#mask, true);
      this.#keys.set(this.#words, to * 4);
      this.#values[to] = value;
      this.#used += 1;
    }
  }
}
