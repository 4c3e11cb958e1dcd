import {
  overlayHead,
  VIEW_CHANGES,
  VIEW_SEVERITIES,
  VIEW_STATUSES,
} from '../findings-index/format.js';
import { findingsAt } from '../findings-index/read.js';
import type { OverlayFinding, PostureLayer } from '../history/posture.js';
import type { ReportStore } from '../report-store/types.js';
import { matchingRows, type SortKey, type ViewFilters } from './findings-view.js';

/** What a finding is sorted by, for either source: the index's order and the sort keys. */
interface SortKeyOf {
  status: number;
  severity: number;
  change: number;
  name: string;
  account: string;
  region: string;
  rule: string;
  fingerprint: string;
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The index's order: status, severity, bucket (name, account, region), rule, fingerprint. */
function indexOrder(a: SortKeyOf, b: SortKeyOf): number {
  return (
    a.status - b.status ||
    a.severity - b.severity ||
    compareText(a.name, b.name) ||
    compareText(a.account, b.account) ||
    compareText(a.region, b.region) ||
    compareText(a.rule, b.rule) ||
    compareText(a.fingerprint, b.fingerprint)
  );
}

/** The table's order for a sort key: the key, ties in the index's order (as matchingRows). */
function comparator(key: SortKey, descending: boolean): (a: SortKeyOf, b: SortKeyOf) => number {
  const d = descending ? -1 : 1;
  switch (key) {
    case 'priority':
      return (a, b) => d * indexOrder(a, b);
    case 'status':
      return (a, b) => d * (a.status - b.status) || indexOrder(a, b);
    case 'severity':
      return (a, b) => d * (a.severity - b.severity) || indexOrder(a, b);
    case 'change':
      return (a, b) => d * (a.change - b.change) || indexOrder(a, b);
    case 'rule':
      return (a, b) => d * compareText(a.rule, b.rule) || indexOrder(a, b);
    case 'bucket':
      return (a, b) =>
        d *
          (compareText(a.name, b.name) ||
            compareText(a.account, b.account) ||
            compareText(a.region, b.region)) || indexOrder(a, b);
  }
}

function overlayKey(o: OverlayFinding): SortKeyOf {
  const h = overlayHead(o);
  return {
    status: VIEW_STATUSES.indexOf(h.status),
    severity: VIEW_SEVERITIES.indexOf(h.severity),
    change: VIEW_CHANGES.indexOf(o.change),
    name: h.name,
    account: h.account,
    region: h.region,
    rule: h.rule,
    fingerprint: h.fingerprint,
  };
}

function rowKey(layer: PostureLayer, row: number): SortKeyOf {
  const { columns, buckets } = layer.rows;
  const { index } = layer.view;
  const id = columns.bucket[row] as number;
  return {
    status: columns.status[row] as number,
    severity: columns.severity[row] as number,
    change: columns.change[row] as number,
    name: buckets.names[id] as string,
    account: index.accounts[buckets.accounts[id] as number] as string,
    region: index.regions[buckets.regions[id] as number] as string,
    rule: index.rules[columns.rule[row] as number] as string,
    // Never compared: a rescanned bucket's rows are all left out of the full scan's.
    fingerprint: '',
  };
}

/** Whether an overlay finding meets the filters, as matchingRows judges a row. */
function overlayMatches(o: OverlayFinding, filters: ViewFilters): boolean {
  const h = overlayHead(o);
  const has = (list: readonly string[] | undefined, value: string) => !list || list.includes(value);
  const text = filters.text;
  return (
    has(filters.statuses, h.status) &&
    has(filters.severities, h.severity) &&
    has(filters.changes, o.change) &&
    has(filters.rules, h.rule) &&
    has(filters.buckets, h.name) &&
    has(filters.regions, h.region) &&
    has(filters.accounts, h.account) &&
    (!text ||
      [h.name, h.account, h.region, h.rule, h.title].some((part) =>
        part.toLowerCase().includes(text),
      ))
  );
}

/** One entry of the posture's selection: a row of the full scan's index, or a rescan's finding. */
export type PostureRef = number | OverlayFinding;

/** The findings the filters select in the posture now, in the table's order. */
export interface PostureSelection {
  total: number;
  slice(start: number, end: number): PostureRef[];
}

/**
 * The selection: the full scan's rows without the rescanned buckets (the index's pass), and
 * the rescans' findings that meet the filters, each placed among those rows by a binary search
 * on the same order, so a million rows are never compared one by one.
 */
export function selectPosture(layer: PostureLayer, filters: ViewFilters): PostureSelection {
  const base = matchingRows(layer.view, layer.rows, filters, layer.replaced);
  const compare = comparator(filters.sort ?? 'priority', filters.descending === true);
  const extra = layer.overlay
    .filter((o) => overlayMatches(o, filters))
    .map((o) => ({ o, key: overlayKey(o) }))
    .sort((a, b) => compare(a.key, b.key));
  // How many of the full scan's rows come before each: non-decreasing, as `extra` is sorted.
  const before = extra.map(({ key }) => {
    let low = 0;
    let high = base.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compare(rowKey(layer, base[mid] as number), key) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  });
  const total = base.length + extra.length;
  return {
    total,
    slice(start, end) {
      const out: PostureRef[] = [];
      let i = 0;
      while (i < extra.length && (before[i] as number) + i < start) i++;
      for (let k = start; k < Math.min(end, total); k++)
        if (i < extra.length && (before[i] as number) + i === k)
          out.push((extra[i++] as { o: OverlayFinding }).o);
        else out.push(base[k - i] as number);
      return out;
    },
  };
}

/** The findings of a slice, in order, each with its change and the scan it comes from. */
export async function postureFindings(
  store: ReportStore,
  layer: PostureLayer,
  refs: readonly PostureRef[],
): Promise<OverlayFinding[]> {
  const rows = refs.filter((r): r is number => typeof r === 'number');
  const found = await findingsAt(store, layer.view, rows);
  const seen = { scanId: layer.entry.scanId, scanTime: layer.entry.scanTime };
  let next = 0;
  return refs.map((ref) => {
    if (typeof ref !== 'number') return ref;
    const f = found[next++] as (typeof found)[number];
    return { ...f, seen };
  });
}
