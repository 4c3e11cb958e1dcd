import { gunzipSync } from 'node:zlib';
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
  VIEW_STATUSES,
  type ViewBuckets,
  type ViewChange,
  type ViewColumns,
  type ViewIndex,
  type ViewOverview,
} from '../findings-index/format.js';
import type { ReportStore } from '../report-store/types.js';

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

function corrupt(store: ReportStore, scanId: string, name: string, error: unknown) {
  return new ReportStoreError(
    `${store.describe(scanId)}/${VIEW_DIR}/${name} is corrupt: ${(error as Error).message}`,
    { cause: error },
  );
}

async function readJson<T>(store: ReportStore, scanId: string, name: string): Promise<T> {
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
  store: ReportStore,
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
export function loadView(store: ReportStore, scanId: string): Promise<LoadedView | undefined> {
  const key = store.describe(scanId);
  const cached = views.get(key);
  if (cached) {
    views.delete(key);
    views.set(key, cached);
    return cached;
  }
  const loading = readView(store, scanId);
  views.set(key, loading);
  loading.catch(() => views.delete(key));
  while (views.size > CACHED_VIEWS) views.delete(views.keys().next().value as string);
  return loading;
}

/**
 * The rows and the bucket dictionary, read once per view, in the one pass that also checks
 * every row: its status and severity those of its group, its rule, bucket and change inside
 * the dictionaries. Anything else is a corrupt index, refused, never answered from.
 */
export function rowsOf(store: ReportStore, view: LoadedView): Promise<ViewRows> {
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
  store: ReportStore,
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

function lowercaseOf(view: LoadedView, rows: ViewRows): NonNullable<ViewRows['lowercase']> {
  if (!rows.lowercase) {
    const { index } = view;
    const titles = new Map(view.rules.map((r) => [r.id, r.title]));
    rows.lowercase = {
      names: rows.buckets.names.map((n) => n.toLowerCase()),
      accounts: index.accounts.map((a) => a.toLowerCase()),
      regions: index.regions.map((r) => r.toLowerCase()),
      rules: index.rules.map((r) => `${r}\n${titles.get(r) ?? ''}`.toLowerCase()),
    };
  }
  return rows.lowercase;
}

/** The rows a query selects, in order: a list, or ranges of whole groups. */
export interface RowSet {
  total: number;
  /** Rows `[start, end)` of the selection. */
  slice(start: number, end: number): Uint32Array;
}

const listOf = (rows: Uint32Array): RowSet => ({
  total: rows.length,
  slice: (start, end) => rows.subarray(start, end),
});

/** Groups in the order a sort by status or severity visits them (ties: the index's order). */
function groupOrder(key: SortKey, descending: boolean): number[] {
  const all = Array.from({ length: GROUPS }, (_, g) => g);
  const severityOf = (g: number) => g % VIEW_SEVERITIES.length;
  const statusOf = (g: number) => Math.floor(g / VIEW_SEVERITIES.length);
  if (key === 'severity')
    // Stable: within a severity, the statuses keep their order.
    all.sort((a, b) => (descending ? -1 : 1) * (severityOf(a) - severityOf(b)));
  else if (key === 'status' && descending) all.sort((a, b) => statusOf(b) - statusOf(a));
  return all;
}

/**
 * The selection, as whole groups, for a query that filters and sorts on status and severity
 * alone (the default view): no row is read. Descending priority reverses every row.
 */
function fromGroups(view: LoadedView, filters: ViewFilters): RowSet {
  const status = among(filters.statuses, VIEW_STATUSES);
  const severity = among(filters.severities, VIEW_SEVERITIES);
  const sort = filters.sort ?? 'priority';
  const reversed = sort === 'priority' && filters.descending === true;
  const ranges: [number, number][] = [];
  for (const g of groupOrder(sort, filters.descending === true)) {
    if (
      status[Math.floor(g / VIEW_SEVERITIES.length)] !== 1 ||
      severity[g % VIEW_SEVERITIES.length] !== 1
    )
      continue;
    const start = view.groups[g] as number;
    const end = view.groups[g + 1] as number;
    if (end > start) ranges.push([start, end]);
  }
  if (reversed) ranges.reverse();
  const total = ranges.reduce((n, [a, b]) => n + b - a, 0);
  return {
    total,
    slice(from, to) {
      const out = new Uint32Array(Math.max(0, Math.min(to, total) - from));
      let skipped = 0;
      let n = 0;
      for (const [a, b] of ranges) {
        const length = b - a;
        if (skipped + length <= from) {
          skipped += length;
          continue;
        }
        for (let i = Math.max(0, from - skipped); i < length && n < out.length; i++)
          out[n++] = reversed ? b - 1 - i : a + i;
        skipped += length;
        if (n >= out.length) break;
      }
      return out;
    },
  };
}

const GROUP_ONLY_SORTS: readonly SortKey[] = ['priority', 'status', 'severity'];

/** The rows a query selects: from the groups when it can, else from the columns. */
export async function selectRows(
  store: ReportStore,
  view: LoadedView,
  filters: ViewFilters,
): Promise<RowSet> {
  const perRow =
    filters.changes ||
    filters.rules ||
    filters.buckets ||
    filters.regions ||
    filters.accounts ||
    filters.text ||
    !GROUP_ONLY_SORTS.includes(filters.sort ?? 'priority');
  if (!perRow) return fromGroups(view, filters);
  return listOf(matchingRows(view, await rowsOf(store, view), filters));
}

/**
 * The rows (positions in the index's order) that meet every filter, sorted as asked. Every
 * filter becomes a table of flags over its dictionary first, so the pass over the rows is a
 * handful of array reads each, with no branch on which filters are set; groups of a status or
 * severity the filters exclude are skipped whole.
 */
export function matchingRows(
  view: LoadedView,
  rows: ViewRows,
  filters: ViewFilters,
  /** Bucket ids (1 each) whose rows are left out whatever the filters: the posture overlay's. */
  without?: Uint8Array,
): Uint32Array {
  const { index } = view;
  const { columns, buckets } = rows;
  const status = among(filters.statuses, VIEW_STATUSES);
  const severity = among(filters.severities, VIEW_SEVERITIES);
  const change = among(filters.changes, VIEW_CHANGES);
  const rule = among(filters.rules, index.rules);
  const accounts = among(filters.accounts, index.accounts);
  const regions = among(filters.regions, index.regions);
  const names = filters.buckets ? new Set(filters.buckets) : undefined;
  const bucket = flags(
    index.buckets,
    (id) =>
      without?.[id] !== 1 &&
      accounts[buckets.accounts[id] as number] === 1 &&
      regions[buckets.regions[id] as number] === 1 &&
      (!names || names.has(buckets.names[id] as string)),
  );
  // Free text: a row matches when its bucket (name, account, region) or its rule (id, title)
  // contains it; the dictionaries are searched, never the rows. Without text, every bucket
  // "matches", so the test below lets every row through.
  const text = filters.text;
  let textBucket = flags(index.buckets);
  let textRule = flags(index.rules.length, () => false);
  if (text) {
    const lower = lowercaseOf(view, rows);
    const accountHit = lower.accounts.map((a) => a.includes(text));
    const regionHit = lower.regions.map((r) => r.includes(text));
    textBucket = flags(
      index.buckets,
      (id) =>
        (lower.names[id] as string).includes(text) ||
        accountHit[buckets.accounts[id] as number] === true ||
        regionHit[buckets.regions[id] as number] === true,
    );
    textRule = flags(index.rules.length, (id) => (lower.rules[id] as string).includes(text));
  }
  const out = new Uint32Array(index.count);
  const { change: ch, rule: ru, bucket: bu } = columns;
  let n = 0;
  for (let group = 0; group < GROUPS; group++) {
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
    rows,
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
  rows: ViewRows,
  selected: Uint32Array,
  key: SortKey,
  descending: boolean,
): Uint32Array {
  if (key === 'priority') return descending ? selected.slice().reverse() : selected;
  const { columns } = rows;
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
    bucket: view.index.buckets,
    rule: view.index.rules.length,
    change: VIEW_CHANGES.length,
  }[key];
  const keys = new Uint32Array(selected.length);
  for (let i = 0; i < selected.length; i++) {
    const k = column[selected[i] as number] as number;
    keys[i] = descending ? size - 1 - k : k;
  }
  const starts = new Uint32Array(size + 1);
  for (let i = 0; i < keys.length; i++) {
    const k = (keys[i] as number) + 1;
    starts[k] = (starts[k] as number) + 1;
  }
  for (let k = 1; k <= size; k++) starts[k] = (starts[k] as number) + (starts[k - 1] as number);
  const sorted = new Uint32Array(selected.length);
  for (let i = 0; i < selected.length; i++) {
    const k = keys[i] as number;
    sorted[starts[k] as number] = selected[i] as number;
    starts[k] = (starts[k] as number) + 1;
  }
  return sorted;
}

/** At most this many page reads at once (an S3 store answers each with a GET). */
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
export async function allFindings(store: ReportStore, view: LoadedView): Promise<IndexedFinding[]> {
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
  store: ReportStore,
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
