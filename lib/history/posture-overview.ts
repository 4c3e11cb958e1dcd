import pLimit from 'p-limit';
import type { Finding, Severity, Status } from '../engine/types.js';
import { ReportStoreError } from '../errors.js';
import { bucketEvidencePath } from '../evidence/paths.js';
import type { BucketEvidenceFile, ScanEvidence } from '../evidence/types.js';
import {
  addObjectRisk,
  type BucketObjectRisk,
  bucketObjectRisk,
  noObjectRisk,
} from '../findings-index/build.js';
import {
  type BucketRank,
  type ChangeColumn,
  FLAG_SUPPRESSED,
  type PostureOverlay,
  VIEW_SEVERITIES,
  VIEW_STATUSES,
  type ViewOverview,
} from '../findings-index/format.js';
import { loadOverview } from '../findings-index/read.js';
import { OverviewTally, talliedOf, topRanks } from '../findings-index/tally.js';
import { indexEntryOf } from '../report-store/index-file.js';
import type { ReportStore, ScanRecord, ScanSummaryFile } from '../report-store/types.js';
import { buildLayer, type PostureLayer } from './posture.js';
import { rescansOver } from './previous.js';

/**
 * The posture now's counts and overview (the first screen of the dashboard with rescans
 * overlaid), computed from a {@link PostureLayer}: on request, or once when a rescan is stored
 * ({@link storedPosture}).
 */

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
  riskOf: RiskOf = storedRisk(store),
): Promise<ViewOverview> {
  let overview = overviews.get(layer);
  if (!overview) {
    overview = overviewOf(layer, scanned, riskOf);
    overviews.set(layer, overview);
    // A failed read is not kept: the next request tries again.
    overview.catch(() => overviews.delete(layer));
  }
  return overview;
}

async function overviewOf(
  layer: PostureLayer,
  scanned: ViewOverview,
  riskOf: RiskOf,
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
    objectsAtRisk: await objectsAtRiskNow(layer, scanned.objectsAtRisk, riskOf),
  };
}

/** A bucket's objects at risk as a scan recorded them; undefined when it has no evidence there. */
export type RiskOf = (
  scanId: string,
  bucket: { account: string; region: string; name: string },
) => Promise<BucketObjectRisk | undefined>;

/** Objects at risk from the bucket's evidence file in the stored scan. */
export function storedRisk(store: ReportStore): RiskOf {
  return async (scanId, bucket) => {
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
  };
}

/**
 * Objects at risk now: the full scan's, with each rescanned bucket's share taken from its
 * evidence file there and the standing rescan's added (a rescan carries the objects the full
 * scan counted, with their keys described again: a disabled key shows here).
 */
async function objectsAtRiskNow(
  layer: PostureLayer,
  scanned: ViewOverview['objectsAtRisk'],
  riskOf: RiskOf,
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
          riskOf(layer.view.scanId, {
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
  const after = [...standing.values()].map((b) => limit(() => riskOf(b.scanId, b)));
  for (const one of await Promise.all(before)) if (one) addObjectRisk(risk, one, -1);
  for (const one of await Promise.all(after)) if (one) addObjectRisk(risk, one, 1);
  return risk.scannedBuckets > 0 ? risk : null;
}

/** The posture line of an overview: the rescans, the buckets re-read, the counts now and as scanned. */
export function postureLine(
  layer: PostureLayer,
  now: ViewOverview,
  scanned: ViewOverview,
): PostureOverlay {
  return {
    rescans: layer.rescans.map((r) => ({
      scanId: r.scanId,
      scanTime: r.scanTime,
      buckets: r.scope?.buckets ?? [],
    })),
    buckets: layer.newest.size,
    byStatus: now.byStatus,
    scanned: scanned.byStatus,
  };
}

/**
 * What a rescan stores of the posture now of the full scan it updates: computed as a request
 * would compute it, with this rescan's findings and evidence from memory (they are not
 * readable yet). Undefined when there is nothing to overlay: the full scan is not listed or
 * has no findings index, or a rescan newer than this one is listed already.
 */
export async function storedPosture(
  store: ReportStore,
  rescan: { summary: ScanSummaryFile; findings: readonly Finding[]; changes?: ChangeColumn },
  evidence: ScanEvidence,
): Promise<ScanRecord['posture']> {
  const { summary } = rescan;
  const fullScan = summary.rescanOf?.scanId;
  const index = await store.readIndex();
  const full = index?.scans.find((s) => s.scanId === fullScan);
  if (!index || !full) return undefined;
  const entry = indexEntryOf(summary);
  const rescans = rescansOver(
    [...index.scans.filter((s) => s.scanId !== entry.scanId), entry],
    full,
  );
  if (rescans.at(-1)?.scanId !== entry.scanId) return undefined;
  const findings = rescan.findings.map((finding, i) => ({
    finding,
    change: rescan.changes?.kinds[i] ?? 'none',
  }));
  const layer = await buildLayer(store, full, rescans, { entry, findings });
  const scanned = layer && (await loadOverview(store, full.scanId));
  if (!layer || !scanned) return undefined;
  const stored = storedRisk(store);
  const overview = await postureOverview(store, layer, scanned, (scanId, bucket) =>
    scanId === entry.scanId
      ? Promise.resolve(riskInEvidence(evidence, bucket))
      : stored(scanId, bucket),
  );
  const ids = (flags: Uint8Array) => {
    const out: number[] = [];
    flags.forEach((flag, id) => {
      if (flag === 1) out.push(id);
    });
    return out;
  };
  return {
    file: {
      schemaVersion: '1',
      fullScan: full.scanId,
      rescans: rescans.map((r) => r.scanId),
      overview,
      posture: postureLine(layer, overview, scanned),
      replaced: ids(layer.replaced),
      accountLevel: ids(layer.accountLevel),
      newest: Object.fromEntries([...layer.newest].map(([name, r]) => [name, r.scanId])),
    },
    overlay: layer.overlay,
  };
}

/** A bucket's objects at risk from evidence in memory (a rescan being stored). */
function riskInEvidence(
  evidence: ScanEvidence,
  bucket: { account: string; region: string; name: string },
): BucketObjectRisk | undefined {
  const found = evidence.buckets.find(
    (b) => b.name === bucket.name && b.region === bucket.region && b.accountId === bucket.account,
  );
  return found ? bucketObjectRisk(found, evidence.kmsKeys) : undefined;
}
