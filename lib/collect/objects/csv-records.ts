import { CsvRecordError } from '../../errors.js';

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

/**
 * One CSV record as byte ranges of `bytes`, valid only while the record callback runs (the
 * arrays are reused). `start`/`end` bound each field's content without its enclosing quotes;
 * `escaped[i]` is 1 when the content still holds `""` pairs to turn into `"`.
 */
export interface CsvRecordView {
  bytes: Buffer;
  count: number;
  start: Int32Array;
  end: Int32Array;
  escaped: Uint8Array;
}

export { CsvRecordError };

/** The text of field `i` ('' when the record has fewer fields), UTF-8 decoded and unescaped. */
export function fieldText(view: CsvRecordView, i: number): string {
  if (i < 0 || i >= view.count) return '';
  const text = view.bytes.toString('utf8', view.start[i], view.end[i]);
  return view.escaped[i] ? text.replaceAll('""', '"') : text;
}

/** True when field `i` is exactly the ASCII text `expected`, compared without decoding. */
export function fieldEquals(view: CsvRecordView, i: number, expected: string): boolean {
  if (i < 0 || i >= view.count) return expected === '';
  if (view.escaped[i]) return fieldText(view, i) === expected;
  const from = view.start[i] as number;
  const length = (view.end[i] as number) - from;
  if (length !== expected.length) return false;
  for (let j = 0; j < length; j++)
    if (view.bytes[from + j] !== expected.charCodeAt(j)) return false;
  return true;
}

/** True when field `i` ends with the ASCII text `suffix`. */
export function fieldEndsWith(view: CsvRecordView, i: number, suffix: string): boolean {
  if (i < 0 || i >= view.count) return false;
  const end = view.end[i] as number;
  const from = end - suffix.length;
  if (from < (view.start[i] as number)) return false;
  for (let j = 0; j < suffix.length; j++)
    if (view.bytes[from + j] !== suffix.charCodeAt(j)) return false;
  return true;
}

/**
 * Field `i` as a non-negative integer read straight from its digits, or `undefined` when it
 * holds anything but 1 to 15 ASCII digits (the caller then decides from the text).
 */
export function fieldDigits(view: CsvRecordView, i: number): number | undefined {
  if (i < 0 || i >= view.count) return undefined;
  const from = view.start[i] as number;
  const end = view.end[i] as number;
  if (end === from || end - from > 15) return undefined;
  let value = 0;
  for (let j = from; j < end; j++) {
    const digit = (view.bytes[j] as number) - 48;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  return value;
}

/** `a` equals `b[from, end)`; a loop beats a native call for a few bytes. */
function sameBytes(a: Buffer, b: Buffer, from: number, end: number): boolean {
  if (a.length !== end - from) return false;
  for (let j = 0; j < a.length; j++) if (a[j] !== b[from + j]) return false;
  return true;
}

/**
 * Turns field values from a small set (storage classes, encryption statuses) into shared
 * strings without decoding each occurrence. Bounded: past `capacity` distinct values, the
 * rest are decoded every time, so hostile input cannot grow it.
 */
export class FieldInterner {
  // Slots by (length, first byte, last byte): three reads pick the slot, a short compare
  // confirms it. Enumerations rarely share all three.
  private readonly slots: ({ bytes: Buffer; text: string }[] | undefined)[] = new Array(1 << 15);
  private held = 0;

  public constructor(private readonly capacity = 256) {}

  /** Distinct values held (never more than the capacity). */
  public get size(): number {
    return this.held;
  }

  public text(view: CsvRecordView, i: number): string {
    if (i < 0 || i >= view.count) return '';
    if (view.escaped[i]) return fieldText(view, i);
    const bytes = view.bytes;
    const from = view.start[i] as number;
    const end = view.end[i] as number;
    if (end === from) return '';
    const slot =
      ((end - from) & 31) |
      (((bytes[from] as number) & 31) << 5) |
      (((bytes[end - 1] as number) & 31) << 10);
    const entries = this.slots[slot];
    if (entries) {
      for (let k = 0; k < entries.length; k++) {
        const entry = entries[k] as { bytes: Buffer; text: string };
        if (sameBytes(entry.bytes, bytes, from, end)) return entry.text;
      }
    }
    const text = bytes.toString('utf8', from, end);
    if (this.held < this.capacity) {
      this.held += 1;
      const entry = { bytes: Buffer.from(bytes.subarray(from, end)), text };
      if (entries) entries.push(entry);
      else this.slots[slot] = [entry];
    }
    return text;
  }
}

/**
 * Splits RFC 4180 CSV arriving in chunks into records, on bytes: quoted fields with `""`
 * escapes, commas and newlines inside quotes, CRLF or LF line ends, unquoted fields. Only
 * the bytes of a record cut by a chunk boundary are copied. Blank lines are skipped.
 */
export class CsvRecordSplitter {
  private carry: Buffer | undefined;
  private readonly view: CsvRecordView;

  public constructor(
    private readonly onRecord: (record: CsvRecordView) => void,
    private readonly maxRecordBytes = 1 << 20,
    maxFields = 256,
  ) {
    this.view = {
      bytes: Buffer.alloc(0),
      count: 0,
      start: new Int32Array(maxFields),
      end: new Int32Array(maxFields),
      escaped: new Uint8Array(maxFields),
    };
  }

  /** Splits every record `chunk` completes; keeps the unfinished tail for the next chunk. */
  public push(chunk: Buffer): void {
    const bytes = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    // `bytes` starts at a record boundary: the common lines go the fast way, and from the
    // first line that is not plainly quoted on, the byte splitter takes over.
    const simple = this.splitSimple(bytes);
    const consumed =
      simple >= 0 ? simple : -simple - 1 + this.split(bytes.subarray(-simple - 1), false);
    const rest = bytes.length - consumed;
    if (rest > this.maxRecordBytes) {
      throw new CsvRecordError(
        `a CSV record runs past ${this.maxRecordBytes} bytes without ending: an unbalanced quote?`,
      );
    }
    // Copied, so the carry does not pin the whole chunk.
    this.carry = rest > 0 ? Buffer.from(bytes.subarray(consumed)) : undefined;
  }

  /** Splits whatever is left as the last record (a file need not end with a newline). */
  public end(): void {
    if (this.carry) this.split(this.carry, true);
    this.carry = undefined;
  }

  /**
   * Emits records whose every field is quoted with no quote inside (S3 Inventory's shape: keys
   * are URL-encoded), scanning the bytes for quotes only: each quote after the first must be
   * followed by `,"` or end the record (LF or CRLF), so RFC 4180 would split the record the
   * same way. Returns the bytes consumed, or `-(offset + 1)` of the first record it leaves to
   * {@link split}.
   */
  private splitSimple(bytes: Buffer): number {
    // One flat loop over the bytes: a native search per field costs more in calls than it
    // saves on fields of a few dozen bytes.
    const view = this.view;
    const starts = view.start;
    const ends = view.end;
    const escapes = view.escaped;
    const max = starts.length;
    view.bytes = bytes;
    const n = bytes.length;
    let p = 0;
    records: for (;;) {
      if (p >= n) return p;
      const first = bytes[p];
      if (first === LF) {
        // A blank line.
        p += 1;
        continue;
      }
      if (first === CR) {
        if (p + 1 >= n) return p;
        if (bytes[p + 1] !== LF) return -p - 1;
        p += 2;
        continue;
      }
      if (first !== QUOTE) return -p - 1;
      let i = p + 1;
      let count = 0;
      for (;;) {
        const from = i;
        while (i < n && bytes[i] !== QUOTE) i += 1;
        // The record goes on in the next chunk (its end needs up to two bytes past the quote).
        if (i + 2 >= n && !(i + 1 < n && bytes[i + 1] === LF)) return p;
        if (count === max) return -p - 1;
        starts[count] = from;
        ends[count] = i;
        escapes[count] = 0;
        count += 1;
        const next = bytes[i + 1];
        if (next === COMMA) {
          if (bytes[i + 2] !== QUOTE) return -p - 1;
          i += 3;
          continue;
        }
        if (next === LF) p = i + 2;
        else if (next === CR && bytes[i + 2] === LF) p = i + 3;
        else return -p - 1;
        view.count = count;
        this.onRecord(view);
        continue records;
      }
    }
  }

  /** Emits the complete records of `bytes`; returns how many bytes they took. */
  private split(bytes: Buffer, final: boolean): number {
    // One flat loop with local state: a helper closure would move every variable into a heap
    // context and make the loop several times slower.
    const view = this.view;
    const starts = view.start;
    const ends = view.end;
    const escapes = view.escaped;
    const max = starts.length;
    view.bytes = bytes;
    const n = bytes.length;
    let recordStart = 0;
    let fieldStart = 0;
    let count = 0;
    let inQuotes = false;
    let quoted = false;
    let closedAt = -1;
    let escaped = 0;
    let i = 0;
    for (;;) {
      let lineEnd = false;
      let fieldEnd = -1;
      if (i < n) {
        const b = bytes[i];
        if (inQuotes) {
          if (b === QUOTE) {
            if (i + 1 >= n && !final) break;
            if (bytes[i + 1] === QUOTE) {
              escaped = 1;
              i += 2;
              continue;
            }
            inQuotes = false;
            closedAt = i;
          }
          i += 1;
          continue;
        }
        if (b === COMMA) fieldEnd = i;
        else if (b === LF) {
          fieldEnd = !quoted && i > fieldStart && bytes[i - 1] === CR ? i - 1 : i;
          lineEnd = true;
        } else {
          if (b === QUOTE && i === fieldStart) {
            inQuotes = true;
            quoted = true;
          }
          i += 1;
          continue;
        }
      } else {
        // The end of the bytes: a final record without a newline, or wait for more.
        if (!final || recordStart >= n) break;
        fieldEnd = !quoted && n > fieldStart && bytes[n - 1] === CR ? n - 1 : n;
        lineEnd = true;
      }
      if (count < max) {
        starts[count] = quoted ? fieldStart + 1 : fieldStart;
        ends[count] = quoted && closedAt >= 0 ? closedAt : fieldEnd;
        escapes[count] = escaped;
        count += 1;
      }
      quoted = false;
      closedAt = -1;
      escaped = 0;
      i += 1;
      fieldStart = i;
      if (!lineEnd) continue;
      // A blank line is one empty, unquoted field: skipped.
      if (count > 1 || ends[0] !== starts[0] || starts[0] !== recordStart) {
        view.count = count;
        this.onRecord(view);
      }
      count = 0;
      recordStart = i;
      if (i > n) return n;
    }
    return final ? n : recordStart;
  }
}
