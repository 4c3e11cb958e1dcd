/**
 * Reading a stored scan's findings index (lib/findings-index/build.ts writes it): its small
 * part, its rows, its overview, and findings by row, for the dashboard and the scan history.
 */

import { gunzipSync } from 'node:zlib';
import { LRUCache } from '@aws-lambda-powertools/commons/utils/lru-cache';
import pLimit from 'p-limit';
import type { Finding } from '../engine/types.js';
import { ReportStoreError } from '../errors.js';
import {
  decodeColumns,
  GROUPS,
  type RuleDocument,
  VIEW_CHANGES,
  VIEW_DIR,
  VIEW_SCHEMA_VERSION,
  VIEW_SEVERITIES,
  type ViewBuckets,
  type ViewChange,
  type ViewColumns,
  type ViewIndex,
  type ViewOverview,
} from '../findings-index/format.js';

/**
 * What reading a findings index needs of a report store: a stored scan's files. Declared here,
 * not imported, because the store writes the index (lib/report-store imports this folder).
 */
export interface ScanFileSource {
  readScanFile(scanId: string, path: string): Promise<Buffer | undefined>;
  readScanFileRange(scanId: string, path: string, start: number, end: number): Promise<Buffer>;
  describe(scanId?: string): string;
}

/**
 * A scan's findings index, decoded once and kept (stored scans never change): the small part
 * every request needs, and the rows, read on the first request that filters or sorts on them.
 */
export interface LoadedView {
  scanId: string;
  index: ViewIndex;
  rules: RuleDocument[];
  /** The first row of each (status, severity) group, then the row count. */
  groups: Uint32Array;
  /** Page p of `pages.bin` is bytes `[pages[p], pages[p + 1])`. */
  pages: Float64Array;
  /** The columns and the bucket dictionary, once a request needed them. */
  rows?: Promise<ViewRows>;
}

/** The per-row part of the index. */
export interface ViewRows {
  columns: ViewColumns;
  buckets: ViewBuckets;
  /** Bucket ids by name (a name may exist in several accounts or regions). */
  bucketsByName: Map<string, number[]>;
  /** Lowercase bucket names, rule ids and titles for free text, made on the first search. */
  lowercase?: { names: string[]; accounts: string[]; regions: string[]; rules: string[] };
}

const CACHED_VIEWS = 4;
const views = new LRUCache<string, Promise<LoadedView | undefined>>({ maxSize: CACHED_VIEWS });

function corrupt(store: ScanFileSource, scanId: string, name: string, error: unknown) {
  return new ReportStoreError(
    `${store.describe(scanId)}/${VIEW_DIR}/${name} is corrupt: ${(error as Error).message}`,
    { cause: error },
  );
}

async function readJson<T>(store: ScanFileSource, scanId: string, name: string): Promise<T> {
  const bytes = await store.readScanFile(scanId, `${VIEW_DIR}/${name}`);
  if (!bytes)
    throw new ReportStoreError(`${store.describe(scanId)}/${VIEW_DIR}/${name} is missing`);
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (error) {
    throw corrupt(store, scanId, name, error);
  }
}

/** Integers that never decrease, from 0 (and to `last` when given): group starts, page offsets. */
function ascending(values: unknown, length: number, what: string, last?: number): Float64Array {
  if (!Array.isArray(values) || values.length !== length)
    throw new ReportStoreError(`${what}: ${length} numbers expected`);
  const out = Float64Array.from(values as number[]);
  for (let i = 0; i < out.length; i++)
    if (!Number.isInteger(out[i]) || (out[i] as number) < (i === 0 ? 0 : (out[i - 1] as number)))
      throw new ReportStoreError(`${what}: not ascending integers at ${i}`);
  if (out[0] !== 0 || (last !== undefined && out[out.length - 1] !== last))
    throw new ReportStoreError(
      `${what}: must run from 0${last !== undefined ? ` to ${last}` : ''}`,
    );
  return out;
}

/** A scan's findings index read afresh, never cached (a rescan's, read once into an overlay). */
export async function readView(
  store: ScanFileSource,
  scanId: string,
): Promise<LoadedView | undefined> {
  const indexBytes = await store.readScanFile(scanId, `${VIEW_DIR}/index.json`);
  // Scans stored before the findings index existed: the caller streams the findings instead.
  if (!indexBytes) return undefined;
  let index: ViewIndex;
  let groups: Uint32Array;
  let pages: Float64Array;
  try {
    index = JSON.parse(indexBytes.toString('utf8')) as ViewIndex;
    if (index.schemaVersion !== VIEW_SCHEMA_VERSION)
      throw new ReportStoreError(
        `schema version ${index.schemaVersion}; this s3scan reads ${VIEW_SCHEMA_VERSION}`,
      );
    groups = Uint32Array.from(ascending(index.groups, GROUPS + 1, 'groups', index.count));
    pages = ascending(index.pages, Math.ceil(index.count / index.pageRows) + 1, 'pages');
  } catch (error) {
    throw corrupt(store, scanId, 'index.json', error);
  }
  const rules = await readJson<RuleDocument[]>(store, scanId, 'rules.json');
  return { scanId, index, rules, groups, pages };
}

/**
 * The scan's findings index, from the cache or the store; undefined for a scan stored without
 * one. Only scans the index lists reach here (the API checks), and those are immutable, so the
 * cache never goes stale. A failed load is not kept.
 */
export function loadView(store: ScanFileSource, scanId: string): Promise<LoadedView | undefined> {
  const key = store.describe(scanId);
  const cached = views.get(key);
  if (cached) return cached;
  const loading = readView(store, scanId);
  views.add(key, loading);
  loading.catch(() => views.remove(key));
  return loading;
}

/**
 * The rows and the bucket dictionary, read once per view, in the one pass that also checks
 * every row: its status and severity those of its group, its rule, bucket and change inside
 * the dictionaries. Anything else is a corrupt index, refused, never answered from.
 */
export function rowsOf(store: ScanFileSource, view: LoadedView): Promise<ViewRows> {
  view.rows ??= (async () => {
    const { index } = view;
    const [bytes, buckets] = await Promise.all([
      store.readScanFile(view.scanId, `${VIEW_DIR}/rows.bin`),
      readJson<ViewBuckets>(store, view.scanId, 'buckets.json'),
    ]);
    if (!bytes)
      throw new ReportStoreError(`${store.describe(view.scanId)}/${VIEW_DIR}/rows.bin is missing`);
    let columns: ViewColumns;
    try {
      columns = decodeColumns(index, bytes);
    } catch (error) {
      throw corrupt(store, view.scanId, 'rows.bin', error);
    }
    if (
      buckets.names?.length !== index.buckets ||
      buckets.accounts?.length !== index.buckets ||
      buckets.regions?.length !== index.buckets
    )
      throw corrupt(
        store,
        view.scanId,
        'buckets.json',
        new Error(`${index.buckets} buckets expected`),
      );
    const { status, severity, change, rule, bucket } = columns;
    for (let group = 0; group < GROUPS; group++) {
      const s = Math.floor(group / VIEW_SEVERITIES.length);
      const v = group % VIEW_SEVERITIES.length;
      const end = view.groups[group + 1] as number;
      for (let row = view.groups[group] as number; row < end; row++)
        if (
          status[row] !== s ||
          severity[row] !== v ||
          (rule[row] as number) >= index.rules.length ||
          (bucket[row] as number) >= index.buckets ||
          (change[row] as number) >= VIEW_CHANGES.length
        )
          throw corrupt(
            store,
            view.scanId,
            'rows.bin',
            new Error(`row ${row} is out of the index's order or dictionaries`),
          );
    }
    const bucketsByName = new Map<string, number[]>();
    buckets.names.forEach((name, id) => {
      const ids = bucketsByName.get(name);
      if (ids) ids.push(id);
      else bucketsByName.set(name, [id]);
    });
    return { columns, buckets, bucketsByName };
  })();
  // A failed read is not kept: the next request tries again.
  view.rows.catch(() => {
    view.rows = undefined;
  });
  return view.rows;
}

/** A bucket of the index by id: account, region and name. */
export function bucketOf(view: LoadedView, rows: ViewRows, id: number): [string, string, string] {
  return [
    view.index.accounts[rows.buckets.accounts[id] as number] as string,
    view.index.regions[rows.buckets.regions[id] as number] as string,
    rows.buckets.names[id] as string,
  ];
}

/** The overview file of a scan's index; undefined when it has no index. */
export async function loadOverview(
  store: ScanFileSource,
  scanId: string,
): Promise<ViewOverview | undefined> {
  // The file alone: the first screen must not wait for the rows of a million findings.
  const bytes = await store.readScanFile(scanId, `${VIEW_DIR}/overview.json`);
  if (!bytes) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8')) as ViewOverview;
  } catch (error) {
    throw corrupt(store, scanId, 'overview.json', error);
  }
}

const PAGE_READS = 16;

/** A finding of the index and its change since the previous scan. */
export interface IndexedFinding {
  finding: Finding;
  change: ViewChange;
}

/**
 * Every finding of a small index (a rescan's), in the index's order: `pages.bin` in one read
 * instead of one ranged read per page (on S3, one GET instead of dozens).
 */
export async function allFindings(
  store: ScanFileSource,
  view: LoadedView,
): Promise<IndexedFinding[]> {
  const where = `${store.describe(view.scanId)}/${VIEW_DIR}/pages.bin`;
  const bytes = await store.readScanFile(view.scanId, `${VIEW_DIR}/pages.bin`);
  if (!bytes) throw new ReportStoreError(`${where} is missing`);
  const out: IndexedFinding[] = [];
  for (let p = 0; p + 1 < view.pages.length; p++) {
    let lines: string[];
    try {
      lines = gunzipSync(bytes.subarray(view.pages[p], view.pages[p + 1]))
        .toString('utf8')
        .split('\n');
    } catch (error) {
      throw new ReportStoreError(`${where}: page ${p} is corrupt: ${(error as Error).message}`, {
        cause: error,
      });
    }
    for (const line of lines) if (line) out.push(parseRow(line, where, out.length));
  }
  if (out.length !== view.index.count)
    throw new ReportStoreError(`${where}: ${out.length} rows for ${view.index.count} findings`);
  return out;
}

/** One line of a page: the change kind byte, a tab, the finding. */
function parseRow(line: string, where: string, row: number): IndexedFinding {
  const tab = line.indexOf('\t');
  const change = VIEW_CHANGES[Number(line.slice(0, tab))];
  if (tab < 0 || change === undefined)
    throw new ReportStoreError(`${where}: row ${row} is missing or malformed`);
  return { finding: JSON.parse(line.slice(tab + 1)) as Finding, change };
}

/** The findings at these rows, in the same order: each page is read and unzipped once. */
export async function findingsAt(
  store: ScanFileSource,
  view: LoadedView,
  rows: ArrayLike<number>,
): Promise<IndexedFinding[]> {
  const { pageRows } = view.index;
  const where = `${store.describe(view.scanId)}/${VIEW_DIR}/pages.bin`;
  const limit = pLimit(PAGE_READS);
  const read = async (p: number): Promise<[number, string[]]> => {
    const start = view.pages[p] as number;
    const end = view.pages[p + 1] as number;
    const bytes = await store.readScanFileRange(view.scanId, `${VIEW_DIR}/pages.bin`, start, end);
    try {
      return [p, gunzipSync(bytes).toString('utf8').split('\n')];
    } catch (error) {
      throw new ReportStoreError(`${where}: page ${p} is corrupt: ${(error as Error).message}`, {
        cause: error,
      });
    }
  };
  const wanted = new Set(Array.from(rows, (row) => Math.floor(row / pageRows)));
  const pages = new Map(await Promise.all([...wanted].map((p) => limit(() => read(p)))));
  return Array.from(rows, (row) =>
    parseRow(pages.get(Math.floor(row / pageRows))?.[row % pageRows] ?? '', where, row),
  );
}
