import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { LRUCache } from '@aws-lambda-powertools/commons/utils/lru-cache';
import { type Finding, SEVERITIES, STATUSES } from '../engine/types.js';
import {
  coversAccount,
  type Drift,
  type DriftEntry,
  type DriftKind,
  driftOf,
  emptyDrift,
  type FindingView,
  inScope,
  kindOf,
  type ScanScope,
  unreadKind,
  viewOf,
} from './drift.js';
import { FingerprintTable } from './fingerprint-table.js';

/** A stored scan as streamed drift reads it: NDJSON lines, read as often as needed. */
export interface StreamedSide {
  scanId: string;
  scanTime: string;
  /** A fresh pass over the scan's findings, one JSON line each, in batches. */
  lines: () => AsyncIterable<string[]>;

  /** When the previous scan's failing findings were first seen (the alert state). */
  firstSeen?: ReadonlyMap<string, string>;
}

/**
 * A copy of a short string that does not keep its source alive: a regex capture is a slice of
 * the whole line, and a million map keys would otherwise hold a million lines.
 */
const flat = (text: string): string => ` ${text}`.slice(1);

/** Status, severity and suppression of a finding in one small integer (6 bits). */
export function pack(view: FindingView): number {
  return (
    STATUSES.indexOf(view.status) |
    (SEVERITIES.indexOf(view.severity) << 2) |
    (view.suppressed ? 32 : 0)
  );
}

export function unpack(packed: number): FindingView {
  return {
    status: STATUSES[packed & 3]!,
    severity: SEVERITIES[(packed >> 2) & 7]!,
    suppressed: (packed & 32) !== 0,
  };
}

/** What drift reads of a finding: its fingerprint, view and the resource fields of scope. */
export interface Peeked extends FindingView {
  fingerprint: string;
  ruleId: string;
  resource: Pick<Finding['resource'], 'account' | 'region' | 'name' | 'type'>;
}

const STR = String.raw`"(?:[^"\\]|\\.)*"`;
const PLAIN = String.raw`"([^"\\]*)"`;
/** The head of a finding line as the engine writes it, up to the message. */
const HEAD = new RegExp(
  String.raw`^\{"ruleId":"([^"\\]*)","title":${STR},"status":"(PASS|FAIL|ERROR|SKIPPED)","severity":"(critical|high|medium|low|informational)","resource":\{"arn":"[^"\\]*","type":${PLAIN},"name":${PLAIN},"region":${PLAIN},"account":${PLAIN}\},"message":"`,
);
const FINGERPRINT_KEY = '"fingerprint":"';
/**
 * The assurance the engine writes last: a flat object whose strings (a kind, a date, a scan
 * id) hold no brace or backslash, so its unescaped quotes are structure, never a value's.
 */
const ASSURANCE_TAIL = /,"assurance":\{[^{}\\]*\}\}$/;
const HEX = /^[0-9a-f]+$/;

/** The string value after the last `"key":"`, if it has no escapes. */
function lastString(line: string, key: string): string | undefined {
  const needle = `"${key}":"`;
  const at = line.lastIndexOf(needle);
  if (at < 0) return undefined;
  const start = at + needle.length;
  const end = line.indexOf('"', start);
  const value = line.slice(start, end);
  return end < 0 || value.includes('\\') ? undefined : value;
}

/**
 * The fields drift needs, read from the line without parsing it whole (JSON.parse is most of
 * a drift's time; these two anchored regular expressions cost a quarter of it): the head
 * (status, severity, the resource's name, region and account) is matched against the engine's
 * key order, which a test pins, and the tail (fingerprint, suppression: the only fields after
 * the details) is read from the end. In JSON text an
 * unescaped quote is always structure, so no title, message or detail can imitate them; in
 * between lie the message and details, never searched. A line of any other shape is parsed
 * instead, so nothing is ever guessed.
 */
export function peekFinding(line: string): Peeked {
  const head = HEAD.exec(line);
  if (head) {
    // After the details only the fingerprint, the suppression and the assurance follow, in
    // that order.
    const at = line.lastIndexOf(FINGERPRINT_KEY);
    const end = at < 0 ? -1 : line.indexOf('"', at + FINGERPRINT_KEY.length);
    const fingerprint = end < 0 ? '' : line.slice(at + FINGERPRINT_KEY.length, end);
    const withAssurance = end < 0 ? '' : line.slice(end + 1);
    const assurance = ASSURANCE_TAIL.exec(withAssurance);
    const tail = assurance ? `${withAssurance.slice(0, assurance.index)}}` : withAssurance;
    if (
      HEX.test(fingerprint) &&
      (tail === '}' ||
        (tail.startsWith(',"suppression":{') && /,"active":(?:true|false)\}\}$/.test(tail)))
    )
      return {
        fingerprint,
        ruleId: head[1]!,
        status: head[2] as Finding['status'],
        severity: head[3] as Finding['severity'],
        suppressed: tail.endsWith(',"active":true}}'),
        resource: {
          type: head[4] as Finding['resource']['type'],
          name: head[5]!,
          region: head[6]!,
          account: head[7]!,
        },
      };
  }
  const finding = JSON.parse(line) as Finding;
  return {
    fingerprint: finding.fingerprint,
    ruleId: finding.ruleId,
    ...viewOf(finding),
    resource: finding.resource,
  };
}

/** Kept lines are compressed in slabs of about this many characters... */
const SLAB_CHARS = 64 * 1024;
/** ...once this many characters are kept: a drift with few changes compresses nothing. */
const RAW_BUDGET_CHARS = 32 * 2 ** 20;
/** Inflated slabs kept for reading back. */
const CACHED_SLABS = 32;

/** A slab: its lines until they are compressed, then the compressed bytes. */
interface Slab {
  lines?: string[];
  deflated?: Buffer;
}

/**
 * The JSON lines of a drift's changes: lines gather into slabs; past the first 32 Mi
 * characters each full slab is deflated (level 1), so a drift of a million findings keeps its
 * changes in tens of megabytes instead of hundreds, and one with few changes pays nothing.
 * Reading a compressed line inflates its slab (the last few are cached).
 */
class LineArena {
  readonly #slabs: Slab[] = [];
  #open: string[] = [];
  #openChars = 0;
  readonly #cache = new LRUCache<number, string[]>({ maxSize: CACHED_SLABS });

  /** Keeps a line; returns where it is (slab × 65536 + position). */
  public add(line: string): number {
    // Kept as it is, a split line is a slice of its whole decompressed chunk, which it would
    // keep alive: raw slabs keep a copy (a compressed slab copies anyway).
    this.#open.push(this.#rawChars < RAW_BUDGET_CHARS ? flat(line) : line);
    this.#openChars += line.length;
    const at = this.#slabs.length * 65536 + this.#open.length - 1;
    if (this.#openChars >= SLAB_CHARS || this.#open.length === 65536) this.#seal();
    return at;
  }

  #rawChars = 0;

  #seal(): void {
    if (this.#rawChars < RAW_BUDGET_CHARS) {
      this.#rawChars += this.#openChars;
      this.#slabs.push({ lines: this.#open });
    }
    // Synchronous: measured faster than the thread pool, which gunzip is already using.
    else
      this.#slabs.push({
        deflated: deflateRawSync(Buffer.from(this.#open.join('\n'), 'utf8'), { level: 1 }),
      });
    this.#open = [];
    this.#openChars = 0;
  }

  public get(at: number): string {
    const number = Math.floor(at / 65536);
    const index = at % 65536;
    if (number === this.#slabs.length) return this.#open[index]!;
    const slab = this.#slabs[number]!;
    if (slab.lines) return slab.lines[index]!;
    let lines = this.#cache.get(number);
    if (!lines) {
      lines = inflateRawSync(slab.deflated!).toString('utf8').split('\n');
      this.#cache.add(number, lines);
    }
    return lines[index]!;
  }
}

/**
 * A change whose finding stays the JSON line it was read as (in a {@link LineArena}), parsed
 * when asked for: a drift of a million findings holds compressed text, not a million object
 * graphs. `previous` of an entry that is still there is the current finding with the previous
 * status and severity.
 */
class StreamedEntry implements DriftEntry {
  readonly #arena: LineArena;
  readonly #at: number;
  readonly #side: 'current' | 'previous';
  /** The previous status, severity and suppression, packed; -1 for none. */
  readonly #before: number;
  public readonly kind: DriftKind;
  public readonly fingerprint: string;
  public readonly lastSeen: string;
  public readonly firstSeen?: string;
  public readonly failingSince?: string;

  public constructor(
    fields: Omit<DriftEntry, 'current' | 'previous'>,
    arena: LineArena,
    line: string,
    side: 'current' | 'previous',
    before?: FindingView,
  ) {
    this.kind = fields.kind;
    this.fingerprint = flat(fields.fingerprint);
    this.lastSeen = fields.lastSeen;
    if (fields.firstSeen) this.firstSeen = fields.firstSeen;
    if (fields.failingSince) this.failingSince = fields.failingSince;
    this.#arena = arena;
    this.#at = arena.add(line);
    this.#side = side;
    this.#before = before ? pack(before) : -1;
  }

  #finding(): Finding {
    return JSON.parse(this.#arena.get(this.#at)) as Finding;
  }

  public get current(): Finding | undefined {
    return this.#side === 'current' ? this.#finding() : undefined;
  }

  public get previous(): Finding | undefined {
    if (this.#side === 'previous') return this.#finding();
    if (this.#before < 0) return undefined;
    const before = unpack(this.#before);
    const { suppression, ...rest } = this.#finding();
    return {
      ...rest,
      status: before.status,
      severity: before.severity,
      ...(before.suppressed && suppression ? { suppression } : {}),
    };
  }
}

/**
 * {@link diffScans} over stored scans, streamed: the previous scan is read once into a map of
 * fingerprint → packed status (a few bytes a finding), the current one once, keeping only the
 * changes; the previous scan is read a second time only when something is `gone`, to fetch
 * those findings. Memory is the map plus the changed lines, whatever the scans' size.
 * `onCurrent` and `onPrevious` see every in-scope finding, for callers that need more of them
 * (expiring suppressions, the alert state).
 */
export async function diffFindingStreams(
  previous: StreamedSide,
  current: StreamedSide,
  scope: ScanScope,
  hooks: {
    /** Every in-scope finding of the current scan: what was peeked, and its line to parse. */
    onCurrent?: (peeked: Peeked, line: string) => void;
    onPrevious?: (peeked: Peeked, line: string) => void;
  } = {},
): Promise<Drift> {
  const before = new FingerprintTable();
  const whole = scope.buckets.length === 0 && scope.regions.length === 0;
  const within = (p: Peeked) =>
    whole
      ? coversAccount(scope, p.resource.account)
      : inScope(scope, p.resource as Finding['resource']);
  for await (const batch of previous.lines())
    for (const line of batch) {
      const peeked = peekFinding(line);
      if (!within(peeked)) continue;
      if (hooks.onPrevious) hooks.onPrevious(peeked, line);
      before.set(peeked.fingerprint, pack(peeked));
    }
  const { changes, counts } = emptyDrift();
  const arena = new LineArena();
  const sinceOf = (fingerprint: string) =>
    previous.firstSeen?.get(fingerprint) ?? previous.scanTime;
  for await (const batch of current.lines())
    for (const line of batch) {
      const peeked = peekFinding(line);
      if (!within(peeked)) continue;
      if (hooks.onCurrent) hooks.onCurrent(peeked, line);
      // Seen: taken out, so what is left in the table at the end is gone.
      const packed = before.take(peeked.fingerprint);
      const prior = packed === undefined ? undefined : unpack(packed);
      const kind = kindOf(prior, peeked);
      counts[kind] += 1;
      if (kind === 'unchanged' || kind === 'suppressed') continue;
      const since = prior?.status === 'FAIL' ? sinceOf(peeked.fingerprint) : undefined;
      const firstSeen = peeked.status === 'FAIL' ? (since ?? current.scanTime) : undefined;
      changes[kind].push(
        new StreamedEntry(
          {
            kind,
            fingerprint: peeked.fingerprint,
            ...(firstSeen ? { firstSeen } : {}),
            ...(since && !firstSeen ? { failingSince: since } : {}),
            lastSeen: current.scanTime,
          },
          arena,
          line,
          'current',
          prior,
        ),
      );
    }
  // The second pass over the previous scan, only when something is gone: only those lines
  // are kept, found by fingerprint before anything else is read.
  const unread = new Set(scope.unreachableAccounts ?? []);
  const gone = (fingerprint: string, line: string) => {
    const packed = before.take(fingerprint);
    if (packed === undefined) return;
    const since = unpack(packed).status === 'FAIL' ? sinceOf(fingerprint) : undefined;
    // Not gone when its account could not be read this time: unverifiable, or unchanged.
    const kind =
      unread.size > 0 && unread.has(peekFinding(line).resource.account)
        ? unreadKind(unpack(packed))
        : 'gone';
    counts[kind] += 1;
    if (kind === 'unchanged' || kind === 'suppressed') return;
    changes[kind].push(
      new StreamedEntry(
        {
          kind,
          fingerprint,
          ...(since ? { failingSince: since } : {}),
          lastSeen: previous.scanTime,
        },
        arena,
        line,
        'previous',
      ),
    );
  };
  if (before.size > 0)
    for await (const batch of previous.lines()) {
      for (const line of batch) {
        const fingerprint = lastString(line, 'fingerprint') ?? peekFinding(line).fingerprint;
        gone(fingerprint, line);
      }
      if (before.size === 0) break;
    }
  return driftOf(previous, current, scope, changes, counts);
}
