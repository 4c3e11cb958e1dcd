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
  /**
   * Where each (status, severity) group starts: rows are sorted by both first, so a status or
   * severity filter skips whole groups. Group g = status × 5 + severity; one past the end last.
   */
  groups: Uint32Array;
  /** Lowercase bucket names, rule ids and titles for free text, made on the first search. */
  lowercase?: { names: string[]; accounts: string[]; regions: string[]; rules: string[] };
}

/** A bucket of the index by id: account, region and name. */
export function bucketOf(view: LoadedView, id: number): [string, string, string] {
  const { index } = view;
  return [
    index.accounts[index.bucketAccounts[id] as number] as string,
    index.regions[index.bucketRegions[id] as number] as string,
    index.bucketNames[id] as string,
  ];
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
  index.bucketNames.forEach((name, id) => {
    const ids = bucketsByName.get(name);
    if (ids) ids.push(id);
    else bucketsByName.set(name, [id]);
  });
  return { scanId, index, columns, rules, bucketsByName, groups: groupsOf(columns, index, where) };
}

/**
 * The start of each (status, severity) group, in the one pass that also checks every row: its
 * status and severity in range and in the index's order, its rule and bucket in the
 * dictionaries. Anything else is a corrupt index, refused.
 */
function groupsOf(columns: ViewColumns, index: ViewIndex, where: string): Uint32Array {
  const kinds = VIEW_STATUSES.length * VIEW_SEVERITIES.length;
  const groups = new Uint32Array(kinds + 1);
  const { status, severity, rule, bucket } = columns;
  const rules = index.rules.length;
  const buckets = index.bucketNames.length;
  let previous = 0;
  for (let row = 0; row < index.count; row++) {
    const s = severity[row] as number;
    const group = (status[row] as number) * VIEW_SEVERITIES.length + s;
    if (
      group < previous ||
      group >= kinds ||
      s >= VIEW_SEVERITIES.length ||
      (rule[row] as number) >= rules ||
      (bucket[row] as number) >= buckets
    )
      throw new ReportStoreError(
        `${where}/rows.bin: row ${row} is out of the index's order or dictionaries`,
      );
    while (previous < group) groups[++previous] = row;
  }
  while (previous < kinds) groups[++previous] = index.count;
  return groups;
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
  // The file alone: the first screen must not wait for the rows of a million findings.
  const bytes = await store.readScanFile(scanId, `${VIEW_DIR}/overview.json`);
  if (!bytes) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8')) as ViewOverview;
  } catch (error) {
    throw new ReportStoreError(
      `${store.describe(scanId)}/${VIEW_DIR}/overview.json is corrupt: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** A 0/1 flag per dictionary entry: 1 for the values a filter lets through, all 1 without one. */
function flags(size: number, pass?: (id: number) => boolean): Uint8Array {
  const out = new Uint8Array(size);
  for (let id = 0; id < size; id++) out[id] = !pass || pass(id) ? 1 : 0;
  return out;
}

function among(values: readonly string[] | undefined, dictionary: readonly string[]): Uint8Array {
  const wanted = values ? new Set(values) : undefined;
  return flags(dictionary.length, wanted && ((id) => wanted.has(dictionary[id] as string)));
}

function lowercaseOf(view: LoadedView): NonNullable<LoadedView['lowercase']> {
  if (!view.lowercase) {
    const { index } = view;
    const titles = new Map(view.rules.map((r) => [r.id, r.title]));
    view.lowercase = {
      names: index.bucketNames.map((n) => n.toLowerCase()),
      accounts: index.accounts.map((a) => a.toLowerCase()),
      regions: index.regions.map((r) => r.toLowerCase()),
      rules: index.rules.map((r) => `${r}\n${titles.get(r) ?? ''}`.toLowerCase()),
    };
  }
  return view.lowercase;
}

/**
 * The rows (positions in the index's order) that meet every filter, sorted as asked. Every
 * filter becomes a table of flags over its dictionary first, so the pass over the rows is a
 * handful of array reads each, with no branch on which filters are set.
 */
export function matchingRows(view: LoadedView, filters: ViewFilters): Uint32Array {
  const { index, columns } = view;
  const status = among(filters.statuses, VIEW_STATUSES);
  const severity = among(filters.severities, VIEW_SEVERITIES);
  const change = among(filters.changes, VIEW_CHANGES);
  const rule = among(filters.rules, index.rules);
  const accounts = among(filters.accounts, index.accounts);
  const regions = among(filters.regions, index.regions);
  const names = filters.buckets ? new Set(filters.buckets) : undefined;
  const bucket = flags(
    index.bucketNames.length,
    (id) =>
      accounts[index.bucketAccounts[id] as number] === 1 &&
      regions[index.bucketRegions[id] as number] === 1 &&
      (!names || names.has(index.bucketNames[id] as string)),
  );
  // Free text: a row matches when its bucket (name, account, region) or its rule (id, title)
  // contains it; the dictionaries are searched, never the rows. Without text, every bucket
  // "matches", so the test below lets every row through.
  const text = filters.text;
  let textBucket = flags(index.bucketNames.length);
  let textRule = flags(index.rules.length, () => false);
  if (text) {
    const lower = lowercaseOf(view);
    const accountHit = lower.accounts.map((a) => a.includes(text));
    const regionHit = lower.regions.map((r) => r.includes(text));
    textBucket = flags(
      index.bucketNames.length,
      (id) =>
        (lower.names[id] as string).includes(text) ||
        accountHit[index.bucketAccounts[id] as number] === true ||
        regionHit[index.bucketRegions[id] as number] === true,
    );
    textRule = flags(index.rules.length, (id) => (lower.rules[id] as string).includes(text));
  }
  const out = new Uint32Array(index.count);
  const { change: ch, rule: ru, bucket: bu } = columns;
  let n = 0;
  for (let group = 0; group < view.groups.length - 1; group++) {
    // Groups of a status or severity the filters exclude are skipped whole.
    if (
      ((status[Math.floor(group / VIEW_SEVERITIES.length)] as number) &
        (severity[group % VIEW_SEVERITIES.length] as number)) ===
      0
    )
      continue;
    const end = view.groups[group + 1] as number;
    for (let row = view.groups[group] as number; row < end; row++) {
      const b = bu[row] as number;
      const r = ru[row] as number;
      if (
        ((change[ch[row] as number] as number) &
          (rule[r] as number) &
          (bucket[b] as number) &
          ((textBucket[b] as number) | (textRule[r] as number))) ===
        1
      )
        out[n++] = row;
    }
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
  const size = {
    status: VIEW_STATUSES.length,
    severity: VIEW_SEVERITIES.length,
    bucket: index.bucketNames.length,
    rule: index.rules.length,
    change: VIEW_CHANGES.length,
  }[key];
  const keys = new Uint32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const k = column[rows[i] as number] as number;
    keys[i] = descending ? size - 1 - k : k;
  }
  const starts = new Uint32Array(size + 1);
  for (let i = 0; i < keys.length; i++) {
    const k = (keys[i] as number) + 1;
    starts[k] = (starts[k] as number) + 1;
  }
  for (let k = 1; k <= size; k++) starts[k] = (starts[k] as number) + (starts[k - 1] as number);
  const sorted = new Uint32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const k = keys[i] as number;
    sorted[starts[k] as number] = rows[i] as number;
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
