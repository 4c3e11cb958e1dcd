/**
 * The findings table's questions over a findings index: filters and sort keys, and the rows
 * they select (the index itself is read by lib/findings-index/read.ts).
 */
import { GROUPS, VIEW_CHANGES, VIEW_SEVERITIES, VIEW_STATUSES } from '../findings-index/format.js';
import { type LoadedView, rowsOf, type ViewRows } from '../findings-index/read.js';
import type { ReportStore } from '../report-store/types.js';

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
