import { LRUCache } from '@aws-lambda-powertools/commons/utils/lru-cache';
import { FRAMEWORKS } from '../compliance/frameworks.js';
import type { Finding, Status } from '../engine/types.js';
import { SEVERITIES, STATUSES } from '../engine/types.js';
import { DashboardRequestError, ReportStoreError } from '../errors.js';
import { bucketEvidencePath } from '../evidence/paths.js';
import type { BucketEvidenceFile } from '../evidence/types.js';
import { findingsToCsv } from '../export/csv.js';
import { toOcsf } from '../export/ocsf.js';
import {
  overlayHead,
  overviewCounts,
  type PostureFile,
  type RuleDocument,
  TOP_BUCKETS,
  VIEW_CHANGES,
} from '../findings-index/format.js';
import {
  bucketOf,
  findingsAt,
  type LoadedView,
  loadOverview,
  loadView,
  rowsOf,
} from '../findings-index/read.js';
import { previousScanOf, scopeOf } from '../history/drift.js';
import { diffFindingStreams, peekFinding } from '../history/drift-stream.js';
import { loadPosture, type PostureLayer, postureSnapshot } from '../history/posture.js';
import { postureLine, postureOverview, postureTally } from '../history/posture-overview.js';
import { isFullScan, rescansOver } from '../history/previous.js';
import type { IndexEntry, ReportStore, StoreIndex } from '../report-store/types.js';
import { TOOL_VERSION } from '../version.js';
import type {
  BucketDetail,
  ChangedFinding,
  ComplianceAnswer,
  DriftAnswer,
  FindingsPage,
  OverviewAnswer,
  PostureMode,
  PostureOverlay,
  RequirementVerdict,
  ScanList,
} from './answers.js';
import {
  matchingRows,
  SORT_KEYS,
  type SortKey,
  selectRows,
  type ViewFilters,
} from './findings-view.js';
import { postureFindings, selectPosture } from './posture-view.js';

export type { FindingsPage };
export { DashboardRequestError };

/** Query parameters of GET /scans/{id}/findings (and of its export). */
export interface FindingsQuery {
  status?: string;
  severity?: string;
  rule?: string;
  bucket?: string;
  region?: string;
  account?: string;
  /** The change since the previous scan: new, regressed, resolved, unverifiable, … */
  change?: string;
  /** Free text, case-insensitive: bucket name, account, region, rule id or title. */
  q?: string;
  sort?: string;
  order?: string;
  limit?: string;
  cursor?: string;
  /** `now`: the full scan overlaid with the rescans since; `scan` (default): as stored. */
  posture?: string;
}

/** `posture`, checked: 400 for anything but `scan` or `now`. */
export function postureModeOf(value: string | undefined): PostureMode {
  if (value === undefined || value === '' || value === 'scan') return 'scan';
  if (value === 'now') return 'now';
  throw new DashboardRequestError(400, 'posture must be scan or now');
}

/** The posture layer a `posture=now` request answers from; undefined: answer the scan itself. */
/** The posture now as the newest rescan over the scan stored it, if it covers them all. */
async function storedPostureOf(
  store: ReportStore,
  scan: { entry: IndexEntry; index: StoreIndex },
): Promise<PostureFile | undefined> {
  const rescans = rescansOver(scan.index.scans, scan.entry);
  return rescans.length > 0 ? postureSnapshot(store, scan.entry, rescans) : undefined;
}

async function layerFor(
  store: ReportStore,
  scan: { entry: IndexEntry; index: StoreIndex },
  mode: PostureMode,
): Promise<PostureLayer | undefined> {
  if (mode !== 'now') return undefined;
  return loadPosture(store, scan.index.scans, scan.entry);
}

const MAX_PAGE = 500;
const DEFAULT_PAGE = 100;
/** An export holds at most this many findings: past it, narrow the filters or use the CLI. */
export const MAX_EXPORT = 10_000;
/** ...and at most this many bytes: a Lambda answers at most 6 MB through the HTTP API. */
export const MAX_EXPORT_BYTES = 5 * 2 ** 20;

function pageSize(limit: string | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE;
  const n = Number(limit);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE)
    throw new DashboardRequestError(400, `limit must be an integer from 1 to ${MAX_PAGE}`);
  return n;
}

/** Cursors are opaque to clients: a base64url offset. */
function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  // Only what encodeCursor produced round-trips; anything else is a client mistake.
  if (!/^\d{1,9}$/.test(text) || encodeCursor(Number(text)) !== cursor) {
    throw new DashboardRequestError(400, 'cursor is not one this API returned');
  }
  return Number(text);
}

const encodeCursor = (offset: number) => Buffer.from(String(offset)).toString('base64url');

function oneOf(
  name: string,
  value: string | undefined,
  allowed: readonly string[],
): string[] | undefined {
  if (value === undefined || value === '') return undefined;
  const values = value.split(',').filter(Boolean);
  const wrong = values.filter((v) => !allowed.includes(v));
  if (wrong.length > 0)
    throw new DashboardRequestError(
      400,
      `${name} must be one or more of ${allowed.join(', ')}; got ${wrong.join(', ')}`,
    );
  return values;
}

function listOf(name: string, value: string | undefined): string[] | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.length > 4096) throw new DashboardRequestError(400, `${name} is too long`);
  return value.split(',').filter(Boolean);
}

/** The filters of a findings query, checked; 400 naming the first one that is wrong. */
export function filtersOf(query: FindingsQuery): ViewFilters {
  const text = query.q?.trim().toLowerCase();
  if (text !== undefined && text.length > 200)
    throw new DashboardRequestError(400, 'q must be at most 200 characters');
  const sort = query.sort ?? 'priority';
  if (!(SORT_KEYS as readonly string[]).includes(sort))
    throw new DashboardRequestError(400, `sort must be one of ${SORT_KEYS.join(', ')}`);
  if (query.order !== undefined && query.order !== 'asc' && query.order !== 'desc')
    throw new DashboardRequestError(400, 'order must be asc or desc');
  const filters: ViewFilters = {
    sort: sort as SortKey,
    descending: query.order === 'desc',
  };
  const set = <K extends keyof ViewFilters>(key: K, value: ViewFilters[K] | undefined) => {
    if (value !== undefined) filters[key] = value;
  };
  set('statuses', oneOf('status', query.status, STATUSES));
  set('severities', oneOf('severity', query.severity, SEVERITIES));
  set(
    'changes',
    oneOf(
      'change',
      query.change,
      VIEW_CHANGES.filter((c) => c !== 'none'),
    ),
  );
  set('rules', listOf('rule', query.rule));
  set('buckets', listOf('bucket', query.bucket));
  set('regions', listOf('region', query.region));
  set('accounts', listOf('account', query.account));
  if (text) filters.text = text;
  return filters;
}

/** The index entry of the scan a request names (`latest` allowed); 404 when there is none. */
async function scanOrThrow(
  store: ReportStore,
  scanId: string,
): Promise<{ id: string; entry: IndexEntry; index: StoreIndex }> {
  const index = await store.readIndex();
  const id = scanId === 'latest' ? index && shownLatest(index) : scanId;
  const entry = index?.scans.find((s) => s.scanId === id);
  if (!index) throw await noIndex(store);
  if (!id || !entry) throw new DashboardRequestError(404, `no scan ${scanId}`);
  return { id, entry, index };
}

/** Why a store has no index.json: no scans yet, or a folder that is not a report store. */
async function noIndex(store: ReportStore): Promise<DashboardRequestError> {
  const where = store.describe();
  const foreign = (await store.foreignEntries?.()) ?? [];
  if (foreign.length > 0)
    return new DashboardRequestError(
      404,
      `${where} is not an s3scan report store: it has no index.json, and it holds ${foreign.map((n) => JSON.stringify(n)).join(', ')}, which a report store never does`,
      { problem: 'not-a-store', fix: 's3scan dashboard --store s3scan-reports' },
    );
  return new DashboardRequestError(
    404,
    `this store holds no scans yet (no index.json in ${where}): run s3scan scan --store ${where}, or npm start for the demo account`,
    { problem: 'no-scans', fix: `s3scan scan --store ${where}` },
  );
}

async function scanIdOrThrow(store: ReportStore, scanId: string): Promise<string> {
  return (await scanOrThrow(store, scanId)).id;
}

/**
 * The scan the page opens on as `latest`: the newest scan of the whole account. A scan of a
 * subset (`--bucket`, `--region`) is listed but never stands for the account's posture; a
 * store holding only subset scans opens on the newest of them.
 */
export function shownLatest(index: StoreIndex): string {
  const latest = index.scans.find((s) => s.scanId === index.latest);
  if (!latest || isFullScan(latest)) return index.latest;
  return index.scans.find(isFullScan)?.scanId ?? index.latest;
}

/** GET /scans: the scan history, newest first, paginated. */
export async function listScans(
  store: ReportStore,
  query: { limit?: string; cursor?: string },
): Promise<ScanList> {
  const index = await store.readIndex();
  const all: IndexEntry[] = index?.scans ?? [];
  const offset = decodeCursor(query.cursor);
  const size = pageSize(query.limit);
  const scans = all.slice(offset, offset + size);
  return {
    latest: index ? shownLatest(index) : null,
    scans,
    ...(offset + size < all.length ? { nextCursor: encodeCursor(offset + size) } : {}),
  };
}

/**
 * GET /scans/{id}/summary (`latest` allowed): summary.json alone, no finding is read, served
 * as stored: at a million findings it is megabytes (every bucket's counts), and parsing it
 * only to write it out again would cost most of the request.
 */
export async function getSummaryText(store: ReportStore, scanId: string): Promise<string> {
  const id = await scanIdOrThrow(store, scanId);
  const bytes = await store.readScanFile(id, 'summary.json');
  if (!bytes) throw new ReportStoreError(`${store.describe(id)}/summary.json is missing`);
  return bytes.toString('utf8');
}

/**
 * GET /scans/{id}/overview: the first screen, from the findings index (`indexed: true`); for
 * a scan stored before the index, what summary.json holds (no objects at risk, no per-account
 * counts) with `indexed: false`. With `posture=now` and rescans since: the posture now
 * (`shows: 'now'`); `posture` says what the rescans changed either way.
 */
export async function getOverview(
  store: ReportStore,
  scanId: string,
  query: { posture?: string } = {},
): Promise<OverviewAnswer> {
  const mode = postureModeOf(query.posture);
  const scan = await scanOrThrow(store, scanId);
  const { id } = scan;
  // The newest rescan stored the posture now: one small file, nothing else read.
  const stored = mode === 'now' ? await storedPostureOf(store, scan) : undefined;
  if (stored) return { ...stored.overview, indexed: true, posture: stored.posture, shows: 'now' };
  const overview = await loadOverview(store, id);
  const layer = overview ? await layerFor(store, scan, mode) : undefined;
  if (overview && layer) {
    const now = await postureOverview(store, layer, overview);
    return { ...now, indexed: true, posture: postureLine(layer, now, overview), shows: 'now' };
  }
  // The scan as stored: the posture line the newest rescan stored, else from the summaries
  // alone (no rows are read).
  const posture =
    (mode === 'now' ? undefined : (await storedPostureOf(store, scan))?.posture) ??
    (await postureSince(store, id));
  if (overview) return { ...overview, indexed: true, ...(posture ? { posture } : {}) };
  const summary = await store.readSummary(id);
  return {
    ...(posture ? { posture } : {}),
    schemaVersion: summary.schemaVersion,
    ...overviewCounts(summary),
    topBuckets: Object.entries(summary.byBucket)
      .filter(([, c]) => c.FAIL + c.ERROR > 0)
      .sort((a, b) => b[1].FAIL - a[1].FAIL || b[1].ERROR - a[1].ERROR || (a[0] < b[0] ? -1 : 1))
      .slice(0, TOP_BUCKETS)
      .map(([name, c]) => ({
        account: summary.accountId,
        region: '',
        name,
        FAIL: c.FAIL,
        ERROR: c.ERROR,
        worst: null,
      })),
    byAccount: {},
    byRegion: {},
    objectsAtRisk: null,
    drift: null,
    indexed: false,
    reindex: `s3scan evaluate --evidence ${store.describe(id)}/evidence --store ${store.describe()}`,
  };
}

/**
 * The posture now, when rescans followed a whole scan: its counts, with each rescanned
 * bucket's counts taken from the newest rescan that looked at it (a bucket a rescan found
 * gone counts no more). Summaries only: `byBucket` holds each bucket's counts.
 */
export async function postureSince(
  store: ReportStore,
  scanId: string,
): Promise<PostureOverlay | undefined> {
  const index = await store.readIndex();
  const entry = index?.scans.find((s) => s.scanId === scanId);
  if (!index || !entry) return undefined;
  const rescans = rescansOver(index.scans, entry);
  if (rescans.length === 0) return undefined;
  // Stored scans never change: the same scan and rescans give the same line.
  const key = `${store.describe(scanId)}|${rescans.map((r) => r.scanId).join(',')}`;
  const cached = postureLines.get(key);
  if (cached) return cached;
  const computing = postureLineOf(store, scanId, rescans);
  postureLines.add(key, computing);
  computing.catch(() => postureLines.remove(key));
  return computing;
}

const postureLines = new LRUCache<string, Promise<PostureOverlay>>({ maxSize: 4 });

async function postureLineOf(
  store: ReportStore,
  scanId: string,
  rescans: IndexEntry[],
): Promise<PostureOverlay> {
  const full = await store.readSummary(scanId);
  const summaries = new Map(
    await Promise.all(
      rescans.map(async (r) => [r.scanId, await store.readSummary(r.scanId)] as const),
    ),
  );
  const newest = new Map<string, string>();
  for (const r of rescans)
    for (const bucket of r.scope?.buckets ?? []) {
      // Not found by a rescan that could not reach some account: maybe not looked at, so the
      // look before stands (the findings view knows each bucket's account and is exact).
      const unreached = (r.scope?.unreachableAccounts?.length ?? 0) > 0;
      if (unreached && !summaries.get(r.scanId)?.byBucket[bucket]) continue;
      newest.set(bucket, r.scanId);
    }
  const byStatus = { ...full.byStatus };
  for (const [bucket, id] of newest) {
    const before = full.byBucket[bucket];
    const now = summaries.get(id)?.byBucket[bucket];
    for (const status of STATUSES)
      byStatus[status] += (now?.[status] ?? 0) - (before?.[status] ?? 0);
  }
  return {
    rescans: rescans.map((r) => ({
      scanId: r.scanId,
      scanTime: r.scanTime,
      buckets: r.scope?.buckets ?? [],
    })),
    buckets: newest.size,
    byStatus,
    scanned: { ...full.byStatus },
  };
}

/**
 * GET /scans/{id}/findings: filters (status, severity, rule, bucket, region, account, change;
 * comma-separated), free text, sort and pages. With the findings index, one pass over its
 * columns and a read of the pages that hold the answer; a scan stored before it is streamed.
 */
export async function getFindings(
  store: ReportStore,
  scanId: string,
  query: FindingsQuery,
): Promise<FindingsPage> {
  const filters = filtersOf(query);
  const size = pageSize(query.limit);
  const offset = decodeCursor(query.cursor);
  const mode = postureModeOf(query.posture);
  const scan = await scanOrThrow(store, scanId);
  const { id } = scan;
  const layer = await layerFor(store, scan, mode);
  const view = layer ? undefined : await loadView(store, id);
  const page = layer
    ? await posturePage(store, layer, filters, offset, size)
    : view
      ? await indexedPage(store, view, filters, offset, size)
      : await streamedPage(store, id, filters, offset, size);
  return {
    scanId: id,
    ...page,
    ...(offset + size < page.total ? { nextCursor: encodeCursor(offset + size) } : {}),
  };
}

async function indexedPage(
  store: ReportStore,
  view: LoadedView,
  filters: ViewFilters,
  offset: number,
  size: number,
): Promise<FindingsPage> {
  const selected = await selectRows(store, view, filters);
  const found = await findingsAt(store, view, selected.slice(offset, offset + size));
  return {
    total: selected.total,
    findings: found.map((f) => f.finding),
    changes: found.map((f) => f.change),
  };
}

async function posturePage(
  store: ReportStore,
  layer: PostureLayer,
  filters: ViewFilters,
  offset: number,
  size: number,
): Promise<FindingsPage & { seen: NonNullable<FindingsPage['seen']> }> {
  const selected = selectPosture(layer, filters);
  const found = await postureFindings(store, layer, selected.slice(offset, offset + size));
  return {
    total: selected.total,
    findings: found.map((f) => f.finding),
    changes: found.map((f) => f.change),
    seen: found.map((f) => f.seen),
  };
}

/** The pre-index way: every finding peeked at, only the page's parsed; stored order only. */
async function streamedPage(
  store: ReportStore,
  id: string,
  filters: ViewFilters,
  offset: number,
  size: number,
) {
  if (filters.changes || (filters.sort && filters.sort !== 'priority') || filters.descending)
    throw new DashboardRequestError(
      400,
      `scan ${id} was stored before the findings index: it cannot be filtered by change or sorted; s3scan evaluate --store judges its evidence again into a scan that has one`,
    );
  let total = 0;
  const page: Finding[] = [];
  const has = (list: readonly string[] | undefined, value: string) => !list || list.includes(value);
  for await (const batch of store.findingLines(id))
    for (const line of batch) {
      const f = peekFinding(line);
      if (
        !has(filters.statuses, f.status) ||
        !has(filters.severities, f.severity) ||
        !has(filters.rules, f.ruleId) ||
        !has(filters.buckets, f.resource.name) ||
        !has(filters.regions, f.resource.region) ||
        !has(filters.accounts, f.resource.account)
      )
        continue;
      const parsed = filters.text ? (JSON.parse(line) as Finding) : undefined;
      if (
        parsed &&
        filters.text &&
        ![
          parsed.resource.name,
          parsed.resource.account,
          parsed.resource.region,
          parsed.ruleId,
          parsed.title,
        ].some((part) => part.toLowerCase().includes(filters.text as string))
      )
        continue;
      if (total >= offset && total < offset + size)
        page.push(parsed ?? (JSON.parse(line) as Finding));
      total += 1;
    }
  return { total, findings: page };
}

/** An export of the filtered findings: the body and how to serve it. */
export interface ExportFile {
  body: string;
  contentType: string;
  filename: string;
  count: number;
}

const EXPORT_FORMATS = ['csv', 'json', 'ocsf'] as const;

/**
 * GET /scans/{id}/export?format=csv|json|ocsf&…filters: every finding the filters select, in
 * the table's order, so the file holds exactly what the table pages through. Past
 * {@link MAX_EXPORT} findings it answers 400 rather than cut the file short.
 */
export async function exportFindings(
  store: ReportStore,
  scanId: string,
  query: FindingsQuery & { format?: string },
): Promise<ExportFile> {
  const format = query.format ?? 'csv';
  if (!(EXPORT_FORMATS as readonly string[]).includes(format))
    throw new DashboardRequestError(400, `format must be one of ${EXPORT_FORMATS.join(', ')}`);
  const filters = filtersOf(query);
  const mode = postureModeOf(query.posture);
  const scan = await scanOrThrow(store, scanId);
  const { id } = scan;
  const layer = await layerFor(store, scan, mode);
  const view = layer ? undefined : await loadView(store, id);
  const { total, findings, seen }: Pick<FindingsPage, 'total' | 'findings' | 'seen'> = layer
    ? await posturePage(store, layer, filters, 0, MAX_EXPORT + 1)
    : view
      ? await indexedPage(store, view, filters, 0, MAX_EXPORT + 1)
      : await streamedPage(store, id, filters, 0, MAX_EXPORT + 1);
  if (total > MAX_EXPORT)
    throw new DashboardRequestError(
      400,
      `the filters select ${total} findings; an export holds at most ${MAX_EXPORT}: narrow the filters, or use s3scan report --format ${format === 'json' ? 'json' : format}`,
    );
  const summary = await store.readSummary(id);
  const name = `s3scan-${id}${layer ? '-now' : ''}-findings`;
  // Each finding's own scan time: a rescanned bucket's findings are as of its rescan.
  const scanOf = (i: number) => ({
    scanTime: seen?.[i]?.scanTime ?? summary.scanTime,
    toolVersion: TOOL_VERSION,
  });
  // One JSON line per document: compact, so that more findings fit in one answer.
  const file: Omit<ExportFile, 'count'> =
    format === 'json'
      ? {
          body: `${JSON.stringify(findings)}\n`,
          contentType: 'application/json',
          filename: `${name}.json`,
        }
      : format === 'ocsf'
        ? {
            body: `${JSON.stringify(findings.map((f, i) => toOcsf(f, scanOf(i))))}\n`,
            contentType: 'application/json',
            filename: `${name}.ocsf.json`,
          }
        : {
            body: findingsToCsv(findings),
            contentType: 'text/csv; charset=utf-8',
            filename: `${name}.csv`,
          };
  const bytes = Buffer.byteLength(file.body);
  if (bytes > MAX_EXPORT_BYTES)
    throw new DashboardRequestError(
      400,
      `the ${findings.length} findings the filters select make ${(bytes / 2 ** 20).toFixed(1)} MiB of ${format}; an export holds at most ${MAX_EXPORT_BYTES / 2 ** 20} MiB: narrow the filters, or use s3scan report --format ${format}`,
    );
  return { ...file, count: findings.length };
}

/** Changes listed per kind in a compare answer; the counts are always complete. */
const COMPARE_LIST = 200;

/**
 * GET /scans/{id}/drift: the counts of each change kind since the previous scan of the same
 * scope (the alerts' rule; from the findings index when it has them), `from` null for a first
 * scan. With `?from=<scanId>` it compares with that scan instead (any two scans: the compare
 * view) and lists up to 200 changes of each kind.
 */
export async function getDrift(
  store: ReportStore,
  scanId: string,
  query: { from?: string } = {},
): Promise<DriftAnswer> {
  const { id, entry, index } = await scanOrThrow(store, scanId);
  const before =
    query.from !== undefined
      ? (await scanOrThrow(store, query.from)).entry
      : previousScanOf(index.scans, entry);
  const summary = await store.readSummary(id);
  const to = { scanId: id, scanTime: summary.scanTime };
  if (!before) return { from: null, to, counts: {} };
  if (query.from === undefined) {
    const overview = await loadOverview(store, id);
    if (overview?.drift?.from.scanId === before.scanId)
      return { from: overview.drift.from, to, counts: overview.drift.counts };
  }
  const drift = await diffFindingStreams(
    {
      scanId: before.scanId,
      scanTime: before.scanTime,
      lines: () => store.findingLines(before.scanId),
    },
    { scanId: id, scanTime: summary.scanTime, lines: () => store.findingLines(id) },
    scopeOf(summary),
  );
  if (query.from === undefined) return { from: drift.from, to: drift.to, counts: drift.counts };
  const changes: Record<string, ChangedFinding[]> = {};
  for (const [kind, entries] of Object.entries(drift.changes)) {
    changes[kind] = entries.slice(0, COMPARE_LIST).map((e) => {
      const finding = (e.current ?? e.previous) as Finding;
      return {
        kind,
        ruleId: finding.ruleId,
        bucket: finding.resource.name,
        account: finding.resource.account,
        region: finding.resource.region,
        before: e.previous ? { status: e.previous.status, severity: e.previous.severity } : null,
        after: e.current ? { status: e.current.status, severity: e.current.severity } : null,
      };
    });
  }
  return { from: drift.from, to: drift.to, counts: drift.counts, changes };
}

/**
 * GET /scans/{id}/buckets/{name}?account=&region=: every rule's verdict on one bucket, the
 * evidence file AWS's answers were recorded in, and the documentation of its rules. A name
 * held by several accounts or regions needs `account` and `region` (400 lists them).
 */
export async function getBucket(
  store: ReportStore,
  scanId: string,
  name: string,
  query: { account?: string; region?: string; posture?: string },
): Promise<BucketDetail> {
  const mode = postureModeOf(query.posture);
  const scan = await scanOrThrow(store, scanId);
  const layer = await layerFor(store, scan, mode);
  const rescan = layer?.newest.get(name);
  if (rescan) {
    // The newest look at the bucket is a rescan's: its findings and evidence, said so.
    const seenIn = { scanId: rescan.scanId, scanTime: rescan.scanTime };
    if (!layer?.overlay.some((o) => overlayHead(o).name === name))
      throw new DashboardRequestError(
        404,
        `rescan ${rescan.scanId} (${rescan.scanTime}) found no bucket ${JSON.stringify(name)}: it was deleted after scan ${scan.id}`,
      );
    const { posture: _mode, ...where } = query;
    return { ...(await getBucket(store, rescan.scanId, name, where)), seenIn };
  }
  const { id } = scan;
  const view = await loadView(store, id);
  if (!view)
    throw new DashboardRequestError(
      404,
      `scan ${id} was stored before the findings index: bucket details need it; s3scan evaluate --store judges its evidence again into a scan that has one`,
    );
  const rows = await rowsOf(store, view);
  const candidates = (rows.bucketsByName.get(name) ?? [])
    .map((b) => bucketOf(view, rows, b))
    .filter(
      ([account, region]) =>
        (!query.account || account === query.account) && (!query.region || region === query.region),
    );
  if (candidates.length === 0)
    throw new DashboardRequestError(404, `scan ${id} has no bucket ${JSON.stringify(name)}`);
  if (candidates.length > 1)
    throw new DashboardRequestError(
      400,
      `${candidates.length} buckets are named ${JSON.stringify(name)}: say which with account and region (${candidates.map(([a, r]) => `${a}/${r}`).join(', ')})`,
    );
  const [account, region] = candidates[0] as [string, string, string];
  const findings = (
    await findingsAt(
      store,
      view,
      matchingRows(view, rows, { buckets: [name], accounts: [account], regions: [region] }),
    )
  ).map((f) => f.finding);
  // The path the store writes for this bucket, not a finding's evidenceRef: a stored finding is
  // data, and data never names the file the server opens.
  const ref = bucketEvidencePath(account, region, name);
  const evidenceBytes = await store.readScanFile(id, ref);
  let evidence: BucketEvidenceFile | null = null;
  let evidenceError: string | undefined;
  if (!evidenceBytes) evidenceError = `the evidence file ${ref} is not in the scan`;
  else
    try {
      evidence = JSON.parse(evidenceBytes.toString('utf8')) as BucketEvidenceFile;
    } catch {
      // JSON.parse's message quotes the file: the page says which file, never what it holds.
      evidenceError = `the evidence file ${ref} is corrupt: not valid JSON`;
    }
  const ruleIds = new Set(findings.map((f) => f.ruleId));
  return {
    bucket: { account, region, name },
    findings,
    evidence,
    ...(evidenceError ? { evidenceError } : {}),
    rules: view.rules.filter((r) => ruleIds.has(r.id)),
  };
}

/** GET /scans/{id}/rules: the rules' documentation stored with the scan. */
export async function getRules(store: ReportStore, scanId: string): Promise<RuleDocument[]> {
  const view = await loadView(store, await scanIdOrThrow(store, scanId));
  return view?.rules ?? [];
}

function verdictOf(counts: Record<Status, number>): RequirementVerdict {
  if (counts.FAIL > 0) return 'FAIL';
  if (counts.ERROR > 0) return 'ERROR';
  if (counts.PASS > 0) return 'PASS';
  return 'NOT_ASSESSED';
}

/**
 * GET /scans/{id}/compliance: each framework's requirements with the status counts of the
 * findings behind them (the rules mapped in lib/compliance) and a verdict, from the summary;
 * with `posture=now`, from the posture now's counts.
 */
export async function getCompliance(
  store: ReportStore,
  scanId: string,
  query: { posture?: string } = {},
): Promise<ComplianceAnswer> {
  const mode = postureModeOf(query.posture);
  const scan = await scanOrThrow(store, scanId);
  const summary = await store.readSummary(scan.id);
  const layer = await layerFor(store, scan, mode);
  const byRule = layer ? postureTally(layer).tally.byRule : summary.byRule;
  return {
    scanId: summary.scanId,
    ...(layer ? { shows: 'now' as const } : {}),
    frameworks: FRAMEWORKS.map((framework) => ({
      id: framework.id,
      name: framework.name,
      version: framework.version,
      source: framework.source,
      requirements: framework.requirements.map((requirement) => {
        const counts: Record<Status, number> = { PASS: 0, FAIL: 0, ERROR: 0, SKIPPED: 0 };
        for (const rule of requirement.rules)
          for (const status of STATUSES) counts[status] += byRule[rule]?.[status] ?? 0;
        return {
          id: requirement.id,
          title: requirement.title,
          rules: requirement.rules,
          counts,
          verdict: verdictOf(counts),
        };
      }),
    })),
  };
}
