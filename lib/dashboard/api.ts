import { scopeOf } from '../alerts/drift.js';
import { diffFindingStreams, peekFinding } from '../alerts/drift-stream.js';
import { previousScanOf } from '../alerts/run-alerts.js';
import type { Finding } from '../engine/types.js';
import { SEVERITIES, STATUSES } from '../engine/types.js';
import { DashboardRequestError } from '../errors.js';
import type { IndexEntry, ReportStore, StoreIndex } from '../report-store/types.js';

export { DashboardRequestError };

/** Query parameters of GET /scans/{id}/findings. */
export interface FindingsQuery {
  status?: string;
  severity?: string;
  rule?: string;
  bucket?: string;
  /** Free text, case-insensitive, in the bucket name, the rule id or the message. */
  q?: string;
  limit?: string;
  cursor?: string;
}

const MAX_PAGE = 500;
const DEFAULT_PAGE = 100;

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
  if (value === undefined) return undefined;
  const values = value.split(',').filter(Boolean);
  const wrong = values.filter((v) => !allowed.includes(v));
  if (wrong.length > 0)
    throw new DashboardRequestError(
      400,
      `${name} must be one or more of ${allowed.join(', ')}; got ${wrong.join(', ')}`,
    );
  return values;
}

/** The index entry of the scan a request names (`latest` allowed); 404 when there is none. */
async function scanOrThrow(
  store: ReportStore,
  scanId: string,
): Promise<{ id: string; entry: IndexEntry; index: StoreIndex }> {
  const index = await store.readIndex();
  const id = scanId === 'latest' ? index?.latest : scanId;
  const entry = index?.scans.find((s) => s.scanId === id);
  if (!index || !id || !entry) throw new DashboardRequestError(404, `no scan ${scanId}`);
  return { id, entry, index };
}

async function scanIdOrThrow(store: ReportStore, scanId: string): Promise<string> {
  return (await scanOrThrow(store, scanId)).id;
}

/** GET /scans: the scan history, newest first, paginated. */
export async function listScans(store: ReportStore, query: { limit?: string; cursor?: string }) {
  const index = await store.readIndex();
  const all: IndexEntry[] = index?.scans ?? [];
  const offset = decodeCursor(query.cursor);
  const size = pageSize(query.limit);
  const scans = all.slice(offset, offset + size);
  return {
    latest: index?.latest ?? null,
    scans,
    ...(offset + size < all.length ? { nextCursor: encodeCursor(offset + size) } : {}),
  };
}

/** GET /scans/{id}/summary (`latest` allowed): summary.json alone, no finding is read. */
export async function getSummary(store: ReportStore, scanId: string) {
  return store.readSummary(await scanIdOrThrow(store, scanId));
}

/** GET /scans/{id}/findings with filters (status, severity, rule, bucket; comma-separated) and pages. */
export async function getFindings(store: ReportStore, scanId: string, query: FindingsQuery) {
  const statuses = oneOf('status', query.status, STATUSES);
  const severities = oneOf('severity', query.severity, SEVERITIES);
  const rules = query.rule?.split(',').filter(Boolean);
  const buckets = query.bucket?.split(',').filter(Boolean);
  const text = query.q?.trim().toLowerCase();
  if (text !== undefined && text.length > 200)
    throw new DashboardRequestError(400, 'q must be at most 200 characters');
  const size = pageSize(query.limit);
  const offset = decodeCursor(query.cursor);
  const id = await scanIdOrThrow(store, scanId);
  // Streamed: every finding is peeked at (no parse), only the page's are parsed and kept, so a
  // request holds one page whatever the scan's size.
  let total = 0;
  const page: Finding[] = [];
  for await (const batch of store.findingLines(id))
    for (const line of batch) {
      const f = peekFinding(line);
      if (
        (statuses && !statuses.includes(f.status)) ||
        (severities && !severities.includes(f.severity)) ||
        (rules && !rules.includes(f.ruleId)) ||
        (buckets && !buckets.includes(f.resource.name))
      )
        continue;
      // Free text needs the message: only the lines the other filters let through are parsed.
      const parsed = text ? (JSON.parse(line) as Finding) : undefined;
      if (
        parsed &&
        text &&
        !`${parsed.resource.name}\n${parsed.ruleId}\n${parsed.message}`.toLowerCase().includes(text)
      )
        continue;
      if (total >= offset && total < offset + size)
        page.push(parsed ?? (JSON.parse(line) as Finding));
      total += 1;
    }
  return {
    total,
    findings: page,
    ...(offset + size < total ? { nextCursor: encodeCursor(offset + size) } : {}),
  };
}

/**
 * GET /scans/{id}/drift: the counts of each change kind since the previous scan of the same
 * scope (the alerts' rule), streamed over both findings files; `from` is null for a first scan.
 */
export async function getDrift(store: ReportStore, scanId: string) {
  const { id, entry, index } = await scanOrThrow(store, scanId);
  const before = previousScanOf(index.scans, entry);
  const summary = await store.readSummary(id);
  if (!before) return { from: null, to: { scanId: id, scanTime: summary.scanTime }, counts: {} };
  const drift = await diffFindingStreams(
    {
      scanId: before.scanId,
      scanTime: before.scanTime,
      lines: () => store.findingLines(before.scanId),
    },
    { scanId: id, scanTime: summary.scanTime, lines: () => store.findingLines(id) },
    scopeOf(summary),
  );
  return { from: drift.from, to: drift.to, counts: drift.counts };
}
