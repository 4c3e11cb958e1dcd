import { gunzipSync } from 'node:zlib';
import pLimit from 'p-limit';
import type { Finding } from '../engine/types.js';
import { ReportStoreError } from '../errors.js';
import {
  decodeColumns,
  type RuleDocument,
  VIEW_CHANGES,
  VIEW_DIR,
  VIEW_SCHEMA_VERSION,
  VIEW_SEVERITIES,
  VIEW_STATUSES,
  type ViewColumns,
  type ViewIndex,
  type ViewOverview,
} from '../findings-index/format.js';
import type { ReportStore } from '../report-store/types.js';

/** A scan's findings index, decoded once and kept: stored scans never change. */
export interface LoadedView {
  scanId: string;
  index: ViewIndex;
  columns: ViewColumns;
  rules: RuleDocument[];
  /** Bucket ids by name (a name may exist in several accounts or regions). */
  bucketsByName: Map<string, number[]>;
}

/** Sort keys of the findings table; `priority` is the index's own order (worst first). */
export const SORT_KEYS = ['priority', 'status', 'severity', 'bucket', 'rule', 'change'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

/** What a findings request asks for, validated (see api.ts). */
export interface ViewFilters {
  statuses?: readonly string[];
  severities?: readonly string[];
  rules?: readonly string[];
  buckets?: readonly string[];
  regions?: readonly string[];
  accounts?: readonly string[];
  changes?: readonly string[];
  /** Lowercase; matched in bucket names, accounts, regions, rule ids and titles. */
  text?: string;
  sort?: SortKey;
  descending?: boolean;
}

const CACHED_VIEWS = 4;
const views = new Map<string, Promise<LoadedView | undefined>>();

async function readJson<T>(store: ReportStore, scanId: string, name: string): Promise<T> {
  const bytes = await store.readScanFile(scanId, `${VIEW_DIR}/${name}`);
  if (!bytes)
    throw new ReportStoreError(`${store.describe(scanId)}/${VIEW_DIR}/${name} is missing`);
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (error) {
    throw new ReportStoreError(
      `${store.describe(scanId)}/${VIEW_DIR}/${name} is corrupt: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

async function load(store: ReportStore, scanId: string): Promise<LoadedView | undefined> {
  const indexBytes = await store.readScanFile(scanId, `${VIEW_DIR}/index.json`);
  // Scans stored before the findings index existed: the caller streams the findings instead.
  if (!indexBytes) return undefined;
  const where = `${store.describe(scanId)}/${VIEW_DIR}`;
  let index: ViewIndex;
  try {
    index = JSON.parse(indexBytes.toString('utf8')) as ViewIndex;
  } catch (error) {
    throw new ReportStoreError(`${where}/index.json is corrupt: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (index.schemaVersion !== VIEW_SCHEMA_VERSION)
    throw new ReportStoreError(
      `${where}/index.json has schema version ${index.schemaVersion}; this s3scan reads ${VIEW_SCHEMA_VERSION}`,
    );
  const [rows, rules] = await Promise.all([
    store.readScanFile(scanId, `${VIEW_DIR}/rows.bin`),
    readJson<RuleDocument[]>(store, scanId, 'rules.json'),
  ]);
  if (!rows) throw new ReportStoreError(`${where}/rows.bin is missing`);
  let columns: ViewColumns;
  try {
    columns = decodeColumns(index, rows);
  } catch (error) {
    throw new ReportStoreError(`${where}: ${(error as Error).message}`, { cause: error });
  }
  const bucketsByName = new Map<string, number[]>();
  index.buckets.forEach(([, , name], id) => {
    const ids = bucketsByName.get(name);
    if (ids) ids.push(id);
    else bucketsByName.set(name, [id]);
  });
  return { scanId, index, columns, rules, bucketsByName };
}

/**
 * The scan's findings index, from the cache or the store; undefined for a scan stored without
 * one. Only scans the index lists reach here (the API checks), and those are immutable, so the
 * cache never goes stale. A failed load is not kept.
 */
export function loadView(store: ReportStore, scanId: string): Promise<LoadedView | undefined> {
  const key = store.describe(scanId);
  const cached = views.get(key);
  if (cached) {
    views.delete(key);
    views.set(key, cached);
    return cached;
  }
  const loading = load(store, scanId);
  views.set(key, loading);
  loading.catch(() => views.delete(key));
  while (views.size > CACHED_VIEWS) views.delete(views.keys().next().value as string);
  return loading;
}

/** The overview file of a scan's index; undefined when it has no index. */
export async function loadOverview(
  store: ReportStore,
  scanId: string,
): Promise<ViewOverview | undefined> {
  const view = await loadView(store, scanId);
  return view ? readJson<ViewOverview>(store, scanId, 'overview.json') : undefined;
}

/** A 0/1 flag per dictionary entry: which values a filter lets through (undefined: all). */
function allowed(size: number, ids: Iterable<number>): Uint8Array {
  const flags = new Uint8Array(size);
  for (const id of ids) flags[id] = 1;
  return flags;
}

const idsOf = (values: readonly string[] | undefined, dictionary: readonly string[]) =>
  values
    ? allowed(
        dictionary.length,
        values.map((v) => dictionary.indexOf(v)).filter((i) => i >= 0),
      )
    : undefined;

/** The rows (positions in the index's order) that meet every filter, sorted as asked. */
export function matchingRows(view: LoadedView, filters: ViewFilters): Uint32Array {
  const { index, columns } = view;
  const status = idsOf(filters.statuses, VIEW_STATUSES);
  const severity = idsOf(filters.severities, VIEW_SEVERITIES);
  const change = idsOf(filters.changes, VIEW_CHANGES);
  const rule = idsOf(filters.rules, index.rules);
  let bucket: Uint8Array | undefined;
  if (filters.buckets || filters.regions || filters.accounts) {
    const names = filters.buckets ? new Set(filters.buckets) : undefined;
    const regions = filters.regions ? new Set(filters.regions) : undefined;
    const accounts = filters.accounts ? new Set(filters.accounts) : undefined;
    bucket = new Uint8Array(index.buckets.length);
    index.buckets.forEach(([account, region, name], id) => {
      if (
        (!names || names.has(name)) &&
        (!regions || regions.has(region)) &&
        (!accounts || accounts.has(account))
      )
        (bucket as Uint8Array)[id] = 1;
    });
  }
  // Free text: a row matches when its bucket (name, account, region) or its rule (id, title)
  // contains the text; both dictionaries are searched once, the rows never.
  let textBucket: Uint8Array | undefined;
  let textRule: Uint8Array | undefined;
  if (filters.text) {
    const text = filters.text;
    textBucket = new Uint8Array(index.buckets.length);
    index.buckets.forEach((tuple, id) => {
      if (tuple.some((part) => part.toLowerCase().includes(text)))
        (textBucket as Uint8Array)[id] = 1;
    });
    const titles = new Map(view.rules.map((r) => [r.id, r.title.toLowerCase()]));
    textRule = allowed(
      index.rules.length,
      index.rules.flatMap((id, i) =>
        id.toLowerCase().includes(text) || titles.get(id)?.includes(text) ? [i] : [],
      ),
    );
  }
  const out = new Uint32Array(index.count);
  let n = 0;
  for (let row = 0; row < index.count; row++) {
    if (status && !status[columns.status[row] as number]) continue;
    if (severity && !severity[columns.severity[row] as number]) continue;
    if (change && !change[columns.change[row] as number]) continue;
    if (rule && !rule[columns.rule[row] as number]) continue;
    const b = columns.bucket[row] as number;
    if (bucket && !bucket[b]) continue;
    if (textBucket && !textBucket[b] && !(textRule as Uint8Array)[columns.rule[row] as number])
      continue;
    out[n++] = row;
  }
  return sortRows(
    view,
    out.subarray(0, n),
    filters.sort ?? 'priority',
    filters.descending ?? false,
  );
}

/**
 * Sorted by one key, ties kept in the index's order: a counting sort, since every key is a
 * small integer (a dictionary id in name order, or an enum byte), so a million rows take one
 * pass to count and one to place.
 */
function sortRows(
  view: LoadedView,
  rows: Uint32Array,
  key: SortKey,
  descending: boolean,
): Uint32Array {
  if (key === 'priority') return descending ? rows.slice().reverse() : rows;
  const { columns, index } = view;
  const column = {
    status: columns.status,
    severity: columns.severity,
    bucket: columns.bucket,
    rule: columns.rule,
    change: columns.change,
  }[key];
  const keys = {
    status: VIEW_STATUSES.length,
    severity: VIEW_SEVERITIES.length,
    bucket: index.buckets.length,
    rule: index.rules.length,
    change: VIEW_CHANGES.length,
  }[key];
  const keyOf = descending
    ? (row: number) => keys - 1 - (column[row] as number)
    : (row: number) => column[row] as number;
  const starts = new Uint32Array(keys + 1);
  for (const row of rows) starts[keyOf(row) + 1] = (starts[keyOf(row) + 1] as number) + 1;
  for (let k = 1; k <= keys; k++) starts[k] = (starts[k] as number) + (starts[k - 1] as number);
  const sorted = new Uint32Array(rows.length);
  for (const row of rows) {
    const k = keyOf(row);
    sorted[starts[k] as number] = row;
    starts[k] = (starts[k] as number) + 1;
  }
  return sorted;
}

/** At most this many page reads at once (an S3 store answers each with a GET). */
const PAGE_READS = 16;

/** The findings at these rows, in the same order: each page is read and unzipped once. */
export async function findingsAt(
  store: ReportStore,
  view: LoadedView,
  rows: ArrayLike<number>,
): Promise<Finding[]> {
  const { pageRows } = view.index;
  const where = `${store.describe(view.scanId)}/${VIEW_DIR}/pages.bin`;
  const limit = pLimit(PAGE_READS);
  const read = async (p: number): Promise<[number, string[]]> => {
    const start = view.columns.pages[p] as number;
    const end = view.columns.pages[p + 1] as number;
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
  return Array.from(rows, (row) => {
    const line = pages.get(Math.floor(row / pageRows))?.[row % pageRows];
    if (!line) throw new ReportStoreError(`${where}: row ${row} is missing`);
    return JSON.parse(line) as Finding;
  });
}
