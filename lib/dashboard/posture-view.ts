import pLimit from 'p-limit';
import type { Severity, Status } from '../engine/types.js';
import { ReportStoreError } from '../errors.js';
import { bucketEvidencePath } from '../evidence/paths.js';
import type { BucketEvidenceFile } from '../evidence/types.js';
import {
  addObjectRisk,
  type BucketObjectRisk,
  bucketObjectRisk,
  noObjectRisk,
} from '../findings-index/build.js';
import {
  type BucketRank,
  FLAG_SUPPRESSED,
  VIEW_CHANGES,
  VIEW_SEVERITIES,
  VIEW_STATUSES,
  type ViewOverview,
} from '../findings-index/format.js';
import { findingsAt } from '../findings-index/read.js';
import { OverviewTally, talliedOf, topRanks } from '../findings-index/tally.js';
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
  const f = o.finding;
  return {
    status: VIEW_STATUSES.indexOf(f.status),
    severity: VIEW_SEVERITIES.indexOf(f.severity),
    change: VIEW_CHANGES.indexOf(o.change),
    name: f.resource.name,
    account: f.resource.account,
    region: f.resource.region,
    rule: f.ruleId,
    fingerprint: f.fingerprint,
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
  const f = o.finding;
  const has = (list: readonly string[] | undefined, value: string) => !list || list.includes(value);
  const text = filters.text;
  return (
    has(filters.statuses, f.status) &&
    has(filters.severities, f.severity) &&
    has(filters.changes, o.change) &&
    has(filters.rules, f.ruleId) &&
    has(filters.buckets, f.resource.name) &&
    has(filters.regions, f.resource.region) &&
    has(filters.accounts, f.resource.account) &&
    (!text ||
      [f.resource.name, f.resource.account, f.resource.region, f.ruleId, f.title].some((part) =>
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

/** The posture now's counts (no evidence read): what the overview and compliance take. */
export function postureTally(layer: PostureLayer): { tally: OverviewTally; buckets: number } {
  let counted = tallies.get(layer);
  if (!counted) {
    counted = tallyOf(layer);
    tallies.set(layer, counted);
  }
  return counted;
}

/** A layer never changes: its counts and overview are made once, on the first request. */
const tallies = new WeakMap<PostureLayer, { tally: OverviewTally; buckets: number }>();
const overviews = new WeakMap<PostureLayer, Promise<ViewOverview>>();

/**
 * The full scan's rows that stand (their bucket not rescanned), counted over the index's
 * columns into per-id tables first (a few array reads a row: no string or object per row),
 * then the rescans' findings one by one.
 */
function tallyOf(layer: PostureLayer): { tally: OverviewTally; buckets: number } {
  const { columns, buckets } = layer.rows;
  const { index } = layer.view;
  const S = VIEW_STATUSES.length;
  const byRule = new Uint32Array(index.rules.length * S);
  const byAccount = new Uint32Array(index.accounts.length * S);
  const byRegion = new Uint32Array(index.regions.length * S);
  const failedBySeverity = new Uint32Array(VIEW_SEVERITIES.length);
  const fails = new Uint32Array(index.buckets);
  const errors = new Uint32Array(index.buckets);
  const worst = new Uint8Array(index.buckets).fill(VIEW_SEVERITIES.length);
  const FAIL = VIEW_STATUSES.indexOf('FAIL');
  const ERROR = VIEW_STATUSES.indexOf('ERROR');
  let findings = 0;
  let suppressed = 0;
  const byStatus: Record<Status, number> = { PASS: 0, FAIL: 0, ERROR: 0, SKIPPED: 0 };
  const statusCounts = new Uint32Array(S);
  const { status, severity, flags, rule, bucket } = columns;
  for (let r = 0; r < index.count; r++) {
    const id = bucket[r] as number;
    if (layer.replaced[id] === 1) continue;
    const st = status[r] as number;
    findings += 1;
    statusCounts[st] = (statusCounts[st] as number) + 1;
    const ruleAt = (rule[r] as number) * S + st;
    byRule[ruleAt] = (byRule[ruleAt] as number) + 1;
    const accountAt = (buckets.accounts[id] as number) * S + st;
    byAccount[accountAt] = (byAccount[accountAt] as number) + 1;
    const regionAt = (buckets.regions[id] as number) * S + st;
    byRegion[regionAt] = (byRegion[regionAt] as number) + 1;
    if (((flags[r] as number) & FLAG_SUPPRESSED) !== 0) {
      suppressed += 1;
      continue;
    }
    if (st === FAIL) {
      const sv = severity[r] as number;
      failedBySeverity[sv] = (failedBySeverity[sv] as number) + 1;
      fails[id] = (fails[id] as number) + 1;
      if (sv < (worst[id] as number)) worst[id] = sv;
    } else if (st === ERROR) errors[id] = (errors[id] as number) + 1;
  }
  const record = (dictionary: readonly string[], counts: Uint32Array) => {
    const out: Record<string, Record<Status, number>> = {};
    dictionary.forEach((key, id) => {
      const row = counts.subarray(id * S, id * S + S);
      if (row.every((n) => n === 0)) return;
      out[key] = { PASS: 0, FAIL: 0, ERROR: 0, SKIPPED: 0 };
      VIEW_STATUSES.forEach((s, i) => {
        (out[key] as Record<Status, number>)[s] += row[i] as number;
      });
    });
    return out;
  };
  const ranks: BucketRank[] = [];
  for (let id = 0; id < index.buckets; id++) {
    if ((fails[id] as number) + (errors[id] as number) === 0 || layer.accountLevel[id] === 1)
      continue;
    ranks.push({
      account: index.accounts[buckets.accounts[id] as number] as string,
      region: index.regions[buckets.regions[id] as number] as string,
      name: buckets.names[id] as string,
      FAIL: fails[id] as number,
      ERROR: errors[id] as number,
      worst: (VIEW_SEVERITIES[worst[id] as number] ?? null) as BucketRank['worst'],
    });
  }
  VIEW_STATUSES.forEach((s, i) => {
    byStatus[s] = statusCounts[i] as number;
  });
  const tally = new OverviewTally();
  tally.addCounted({
    findings,
    suppressed,
    byStatus,
    failedBySeverity: Object.fromEntries(
      VIEW_SEVERITIES.map((s, i) => [s, failedBySeverity[i] as number]),
    ) as Record<Severity, number>,
    byRule: record(index.rules, byRule),
    byAccount: record(index.accounts, byAccount),
    byRegion: record(index.regions, byRegion),
    // Only the full scan's own first twenty can be among the first twenty now: a rescanned
    // bucket's rank comes from its rescan, never from these.
    ranks: topRanks(ranks),
  });
  const rescanned = new Set<string>();
  for (const o of layer.overlay) {
    tally.add(talliedOf(o.finding));
    const r = o.finding.resource;
    rescanned.add(`${r.account}\n${r.region}\n${r.name}`);
  }
  let replaced = 0;
  for (const flag of layer.replaced) replaced += flag;
  return { tally, buckets: rescanned.size - replaced };
}

/**
 * The overview of the posture now. The drift counts stay the full scan's (its changes since
 * the scan before it); a rescanned finding's change is since the look before that rescan.
 */
export function postureOverview(
  store: ReportStore,
  layer: PostureLayer,
  scanned: ViewOverview,
): Promise<ViewOverview> {
  let overview = overviews.get(layer);
  if (!overview) {
    overview = overviewOf(store, layer, scanned);
    overviews.set(layer, overview);
    // A failed read is not kept: the next request tries again.
    overview.catch(() => overviews.delete(layer));
  }
  return overview;
}

async function overviewOf(
  store: ReportStore,
  layer: PostureLayer,
  scanned: ViewOverview,
): Promise<ViewOverview> {
  const { tally, buckets } = postureTally(layer);
  return {
    ...scanned,
    buckets: scanned.buckets + buckets,
    findings: tally.findings,
    byStatus: tally.byStatus,
    failedBySeverity: tally.failedBySeverity,
    suppressed: tally.suppressed,
    byRule: tally.byRule,
    topBuckets: tally.topBuckets(),
    byAccount: tally.byAccount,
    byRegion: tally.byRegion,
    objectsAtRisk: await objectsAtRiskNow(store, layer, scanned.objectsAtRisk),
  };
}

async function objectRiskIn(
  store: ReportStore,
  scanId: string,
  bucket: { account: string; region: string; name: string },
): Promise<BucketObjectRisk | undefined> {
  const path = bucketEvidencePath(bucket.account, bucket.region, bucket.name);
  const bytes = await store.readScanFile(scanId, path);
  if (!bytes) return undefined;
  let file: BucketEvidenceFile;
  try {
    file = JSON.parse(bytes.toString('utf8')) as BucketEvidenceFile;
  } catch (error) {
    throw new ReportStoreError(
      `${store.describe(scanId)}/${path} is corrupt: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return bucketObjectRisk(file.bucket, file.kmsKeys);
}

/**
 * Objects at risk now: the full scan's, with each rescanned bucket's share taken from its
 * evidence file there and the standing rescan's added (a rescan carries the objects the full
 * scan counted, with their keys described again: a disabled key shows here).
 */
async function objectsAtRiskNow(
  store: ReportStore,
  layer: PostureLayer,
  scanned: ViewOverview['objectsAtRisk'],
): Promise<ViewOverview['objectsAtRisk']> {
  const risk = scanned ? structuredClone(scanned) : noObjectRisk();
  const { buckets } = layer.rows;
  const { index } = layer.view;
  const limit = pLimit(32);
  const before: Promise<BucketObjectRisk | undefined>[] = [];
  layer.replaced.forEach((flag, id) => {
    if (flag === 1)
      before.push(
        limit(() =>
          objectRiskIn(store, layer.view.scanId, {
            account: index.accounts[buckets.accounts[id] as number] as string,
            region: index.regions[buckets.regions[id] as number] as string,
            name: buckets.names[id] as string,
          }),
        ),
      );
  });
  const standing = new Map<
    string,
    { scanId: string; account: string; region: string; name: string }
  >();
  for (const o of layer.overlay) {
    const r = o.finding.resource;
    standing.set(`${r.account}\n${r.region}\n${r.name}`, { scanId: o.seen.scanId, ...r });
  }
  const after = [...standing.values()].map((b) => limit(() => objectRiskIn(store, b.scanId, b)));
  for (const one of await Promise.all(before)) if (one) addObjectRisk(risk, one, -1);
  for (const one of await Promise.all(after)) if (one) addObjectRisk(risk, one, 1);
  return risk.scannedBuckets > 0 ? risk : null;
}
