import { gunzipSync } from 'node:zlib';
import { LRUCache } from '@aws-lambda-powertools/commons/utils/lru-cache';
import pLimit from 'p-limit';
import type { Finding } from '../engine/types.js';
import { isBucketScoped } from '../engine/types.js';
import { ReportStoreError } from '../errors.js';
import {
  type OverlayFinding,
  type OverlayHead,
  POSTURE_FILE,
  POSTURE_HEADS_FILE,
  POSTURE_OVERLAY_FILE,
  type PostureFile,
  type PostureHeadsFile,
  type ViewChange,
} from '../findings-index/format.js';
import {
  allFindings,
  bucketOf,
  type IndexedFinding,
  type LoadedView,
  loadView,
  readView,
  rowsOf,
  type ViewRows,
} from '../findings-index/read.js';
import type { IndexEntry, ReportStore } from '../report-store/types.js';
import { rescansOver, standingRescans } from './previous.js';

/**
 * The posture now: a full scan overlaid with the rescans since. The rule, for each bucket: the
 * newest scan that looked at it wins. A rescan looked at the buckets its scope names, except
 * those of an account it could not reach; one that found a bucket gone leaves none of its
 * findings. A rescan computes it when it is stored (`view/posture.json`, see
 * {@link PostureFile}); a request reads that file when it covers exactly the rescans listed,
 * and computes the same from the full scan's findings index and the rescans' findings when it
 * does not (two rescans stored at once, rescans stored before the file existed).
 */

export type { OverlayFinding };

/** A full scan and the rescans over it, ready to answer from. */
export interface PostureLayer {
  /** The full scan. */
  entry: IndexEntry;
  view: LoadedView;
  rows: ViewRows;
  rescans: IndexEntry[];
  /** For each rescanned bucket name, the rescan whose findings stand. */
  newest: Map<string, IndexEntry>;
  /** 1 for each bucket id of the full scan's index a rescan replaced. */
  replaced: Uint8Array;
  /** 1 for each id of the index's bucket dictionary that is an account or listing. */
  accountLevel: Uint8Array;
  /** The standing rescans' findings of the buckets they replaced, in no particular order. */
  overlay: OverlayFinding[];
}

const CACHED_LAYERS = 2;
const layers = new LRUCache<string, Promise<PostureLayer | undefined>>({ maxSize: CACHED_LAYERS });

/**
 * The posture layer of a full scan, or undefined when no rescan followed it (or it has no
 * findings index to overlay). Cached by the scan and the rescans over it, so a new rescan
 * makes a new layer and a stale one is never answered from.
 */
export function loadPosture(
  store: ReportStore,
  scans: readonly IndexEntry[],
  entry: IndexEntry,
): Promise<PostureLayer | undefined> {
  const rescans = rescansOver(scans, entry);
  if (rescans.length === 0) return Promise.resolve(undefined);
  const key = `${store.describe(entry.scanId)}|${rescans.map((r) => r.scanId).join(',')}`;
  const cached = layers.get(key);
  if (cached) return cached;
  const loading = postureSnapshot(store, entry, rescans).then((file) =>
    file ? layerOfSnapshot(store, entry, rescans, file) : buildLayer(store, entry, rescans),
  );
  layers.add(key, loading);
  loading.catch(() => layers.remove(key));
  return loading;
}

/** A rescan being stored: its index entry and findings, not readable from the store yet. */
export interface PendingRescan {
  entry: IndexEntry;
  findings: readonly IndexedFinding[];
}

/**
 * The layer computed from the findings: the full scan's index and each rescan's findings
 * (`pending`'s from memory). What a request falls back on, and what a rescan stores.
 */
export async function buildLayer(
  store: ReportStore,
  entry: IndexEntry,
  rescans: IndexEntry[],
  pending?: PendingRescan,
): Promise<PostureLayer | undefined> {
  const view = await loadView(store, entry.scanId);
  if (!view) return undefined;
  const rows = await rowsOf(store, view);
  const accountLevel = accountLevelOf(view, rows);
  const standingFor = standingRescans(rescans);
  // The full scan's buckets a rescan looked at again, and the rescan that stands for each.
  const newest = new Map<string, IndexEntry>();
  const replaced = new Uint8Array(view.index.buckets);
  for (const name of new Set(rescans.flatMap((r) => r.scope?.buckets ?? [])))
    for (const id of rows.bucketsByName.get(name) ?? []) {
      if (accountLevel[id] === 1) continue;
      const [account] = bucketOf(view, rows, id);
      const standing = standingFor(name, account);
      if (!standing) continue;
      replaced[id] = 1;
      newest.set(name, standing);
    }
  const limit = pLimit(8);
  const overlay = (
    await Promise.all(
      rescans.map((rescan) =>
        limit(async () => {
          const seen = { scanId: rescan.scanId, scanTime: rescan.scanTime };
          return (await rescanFindings(store, rescan, pending))
            .filter(
              ({ finding: f }) =>
                isBucketScoped(f.resource) &&
                standingFor(f.resource.name, f.resource.account) === rescan,
            )
            .map((f) => ({ ...f, seen }));
        }),
      ),
    )
  ).flat();
  // A bucket created since the full scan: the rescan that saw it.
  const byId = new Map(rescans.map((r) => [r.scanId, r]));
  for (const o of overlay) {
    const rescan = byId.get(o.seen.scanId);
    if (rescan && !newest.has(o.finding.resource.name)) newest.set(o.finding.resource.name, rescan);
  }
  return { entry, view, rows, rescans, newest, replaced, accountLevel, overlay };
}

async function rescanFindings(
  store: ReportStore,
  rescan: IndexEntry,
  pending: PendingRescan | undefined,
): Promise<readonly IndexedFinding[]> {
  if (pending?.entry.scanId === rescan.scanId) return pending.findings;
  const rescanView = await readView(store, rescan.scanId);
  if (!rescanView)
    throw new ReportStoreError(
      `${store.describe(rescan.scanId)} has no findings index: the posture now cannot be computed`,
    );
  return allFindings(store, rescanView);
}

/**
 * The newest rescan's `view/posture.json` when it covers exactly these rescans over this full
 * scan; undefined otherwise (none stored, or written before another rescan it missed).
 */
export function postureSnapshot(
  store: ReportStore,
  entry: IndexEntry,
  rescans: readonly IndexEntry[],
): Promise<PostureFile | undefined> {
  // Stored scans never change: the same scan and rescans read the same file, once per process.
  const key = `${store.describe(entry.scanId)}|${rescans.map((r) => r.scanId).join(',')}`;
  const cached = snapshots.get(key);
  if (cached) return cached;
  const reading = readSnapshot(store, entry, rescans);
  snapshots.add(key, reading);
  reading.catch(() => snapshots.remove(key));
  return reading;
}

const snapshots = new LRUCache<string, Promise<PostureFile | undefined>>({ maxSize: 4 });

async function readSnapshot(
  store: ReportStore,
  entry: IndexEntry,
  rescans: readonly IndexEntry[],
): Promise<PostureFile | undefined> {
  const newest = rescans.at(-1);
  if (!newest) return undefined;
  const bytes = await store.readScanFile(newest.scanId, POSTURE_FILE);
  if (!bytes) return undefined;
  const file = parseStored<PostureFile>(bytes, `${store.describe(newest.scanId)}/${POSTURE_FILE}`);
  const covers =
    typeof file === 'object' &&
    file !== null &&
    file.schemaVersion === '1' &&
    file.fullScan === entry.scanId &&
    Array.isArray(file.rescans) &&
    file.rescans.length === rescans.length &&
    file.rescans.every((id, i) => id === rescans[i]?.scanId);
  return covers ? file : undefined;
}

/** The layer from a rescan's stored posture: the full scan's index, and the overlay as stored. */
async function layerOfSnapshot(
  store: ReportStore,
  entry: IndexEntry,
  rescans: IndexEntry[],
  file: PostureFile,
): Promise<PostureLayer | undefined> {
  const newestRescan = rescans.at(-1) as IndexEntry;
  const [view, overlay] = await Promise.all([
    loadView(store, entry.scanId),
    storedOverlay(store, newestRescan.scanId, rescans),
  ]);
  if (!view) return undefined;
  const where = `${store.describe(newestRescan.scanId)}/${POSTURE_FILE}`;
  const rows = await rowsOf(store, view);
  const byId = new Map(rescans.map((r) => [r.scanId, r]));
  const newest = new Map<string, IndexEntry>();
  for (const [name, id] of Object.entries(file.newest)) {
    const rescan = byId.get(id);
    if (!rescan) throw new ReportStoreError(`${where}: names rescan ${id}, which is not listed`);
    newest.set(name, rescan);
  }
  const flags = (ids: readonly number[]) => {
    const out = new Uint8Array(view.index.buckets);
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= out.length)
        throw new ReportStoreError(`${where}: bucket id ${id} is outside the scan's index`);
      out[id] = 1;
    }
    return out;
  };
  return {
    entry,
    view,
    rows,
    rescans,
    newest,
    replaced: flags(file.replaced),
    accountLevel: flags(file.accountLevel),
    overlay,
  };
}

/**
 * The overlay a rescan stored: each finding's head, change and rescan from the heads file,
 * and the finding itself parsed from its line only when read (a page shows a hundred).
 */
async function storedOverlay(
  store: ReportStore,
  scanId: string,
  rescans: readonly IndexEntry[],
): Promise<OverlayFinding[]> {
  const headsAt = `${store.describe(scanId)}/${POSTURE_HEADS_FILE}`;
  const linesAt = `${store.describe(scanId)}/${POSTURE_OVERLAY_FILE}`;
  const [headBytes, lineBytes] = await Promise.all([
    store.readScanFile(scanId, POSTURE_HEADS_FILE),
    store.readScanFile(scanId, POSTURE_OVERLAY_FILE),
  ]);
  if (!headBytes) throw new ReportStoreError(`${headsAt} is missing`);
  if (!lineBytes) throw new ReportStoreError(`${linesAt} is missing`);
  const heads = parseStored<PostureHeadsFile>(headBytes, headsAt).rows;
  if (!Array.isArray(heads)) throw new ReportStoreError(`${headsAt} is corrupt: it has no rows`);
  const lines = new OverlayLines(lineBytes, heads.length, linesAt);
  return heads.map((row, i) => {
    const [status, severity, name, account, region, rule, fingerprint, title, change, at] = row;
    const rescan = rescans[at];
    if (!rescan) throw new ReportStoreError(`${headsAt}: rescan ${at} is not listed`);
    return new StoredOverlayFinding(
      { status, severity, name, account, region, rule, fingerprint, title },
      change,
      rescan,
      lines,
      i,
    );
  });
}

/**
 * An overlay finding as a rescan stored it: its head at hand, the finding parsed from its line
 * the first time it is read (a class, not an object literal with a getter per finding, which
 * costs V8 five times as much to make for thousands).
 */
class StoredOverlayFinding implements OverlayFinding {
  #finding: Finding | undefined;
  public readonly seen: { scanId: string; scanTime: string };

  public constructor(
    public readonly head: OverlayHead,
    public readonly change: ViewChange,
    rescan: IndexEntry,
    private readonly lines: OverlayLines,
    private readonly line: number,
  ) {
    this.seen = { scanId: rescan.scanId, scanTime: rescan.scanTime };
  }

  public get finding(): Finding {
    this.#finding ??= this.lines.finding(this.line);
    return this.#finding;
  }

  /** What JSON.stringify writes: the fields of an {@link OverlayFinding}, finding included. */
  public toJSON(): OverlayFinding {
    return { finding: this.finding, change: this.change, seen: this.seen };
  }
}

/**
 * The overlay's findings file, gunzipped and split the first time a finding is read: a page
 * whose rows are all the full scan's never pays for it.
 */
class OverlayLines {
  #text: Buffer | undefined;
  #starts: number[] = [];

  public constructor(
    private readonly gzipped: Buffer,
    private readonly count: number,
    private readonly where: string,
  ) {}

  public finding(line: number): Finding {
    const text = this.text();
    const end = (this.#starts[line + 1] ?? text.length + 1) - 1;
    return parseStored<Finding>(text.subarray(this.#starts[line], end), this.where);
  }

  private text(): Buffer {
    if (this.#text) return this.#text;
    const text = gunzipOrThrow(this.gzipped, this.where);
    const starts: number[] = [];
    for (let at = 0; at < text.length; ) {
      starts.push(at);
      const end = text.indexOf(10, at);
      if (end < 0) break;
      at = end + 1;
    }
    if (starts.length !== this.count)
      throw new ReportStoreError(
        `${this.where} holds ${starts.length} findings; ${POSTURE_HEADS_FILE} describes ${this.count}`,
      );
    this.#starts = starts;
    this.#text = text;
    return text;
  }
}

function gunzipOrThrow(bytes: Buffer, where: string): Buffer {
  try {
    return gunzipSync(bytes);
  } catch (error) {
    throw new ReportStoreError(`${where} is corrupt: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function parseStored<T>(bytes: Buffer, where: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch {
    // JSON.parse's message quotes the text: a stored file's content never goes into a message.
    throw new ReportStoreError(`${where} is corrupt: not valid JSON`);
  }
}

/**
 * Which dictionary entries are accounts or listings (never replaced by a bucket's rescan,
 * never ranked as buckets): those with findings of account-level rules. A scan stored before
 * rules recorded what they judge: an entry named as its own account is one.
 */
function accountLevelOf(view: LoadedView, rows: ViewRows): Uint8Array {
  const { index } = view;
  const types = new Map(view.rules.map((r) => [r.id, r.resourceType]));
  const known = view.rules.some((r) => r.resourceType !== undefined);
  const out = new Uint8Array(index.buckets);
  if (!known) {
    rows.buckets.names.forEach((name, id) => {
      if (name === index.accounts[rows.buckets.accounts[id] as number]) out[id] = 1;
    });
    return out;
  }
  const accountRule = Uint8Array.from(index.rules, (r) =>
    types.get(r) === 'AWS::::Account' ? 1 : 0,
  );
  const { rule, bucket } = rows.columns;
  for (let row = 0; row < index.count; row++)
    if (accountRule[rule[row] as number] === 1) out[bucket[row] as number] = 1;
  return out;
}
