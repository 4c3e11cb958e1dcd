import { chainedEntry } from './integrity.js';
import type { IndexEntry, ScanSummaryFile, StoreIndex } from './types.js';

/** How many scans index.json lists; older scan folders stay where they are. */
export const INDEX_HISTORY = 500;
const INDEX_SCHEMA_VERSION = '1';

/** The line of index.json that stands for a scan. */
export function indexEntryOf(summary: ScanSummaryFile): IndexEntry {
  return {
    scanId: summary.scanId,
    scanTime: summary.scanTime,
    accountId: summary.accountId,
    buckets: summary.buckets,
    byStatus: summary.byStatus,
    failedBySeverity: summary.failedBySeverity,
    ...(summary.scope ? { scope: summary.scope } : {}),
    ...(summary.rescanOf ? { rescanOf: summary.rescanOf.scanId } : {}),
    ...(summary.retryOf ? { retryOf: summary.retryOf } : {}),
    ...(summary.accounts
      ? {
          accounts: {
            scanned: summary.accounts.filter((a) => a.status === 'scanned').length,
            failed: summary.accounts.filter((a) => a.status === 'failed').length,
            skipped: summary.accounts.filter((a) => a.status === 'skipped').length,
          },
        }
      : {}),
  };
}

/**
 * The index with a scan added (or replaced), newest first. `latest` is the scan just written,
 * or with `latest: 'newest'` the newest by scan time (concurrent finalizers agree on it).
 */
export function indexWith(
  current: StoreIndex | undefined,
  summary: ScanSummaryFile,
  latest: 'written' | 'newest' = 'written',
  digest?: string,
): StoreIndex {
  const entry: IndexEntry = {
    ...indexEntryOf(summary),
    ...(digest ? { integrity: chainedEntry(current, summary.scanId, digest) } : {}),
  };
  const scans = [entry, ...(current?.scans ?? []).filter((s) => s.scanId !== entry.scanId)]
    .sort((a, b) => (a.scanTime < b.scanTime ? 1 : a.scanTime > b.scanTime ? -1 : 0))
    .slice(0, INDEX_HISTORY);
  // A rescan of a few buckets is listed, but `latest` stays the newest whole scan: the
  // report, the dashboard and diff read `latest` as the account's posture.
  const whole = scans.filter((s) => !s.rescanOf);
  const newest = whole[0]?.scanId ?? scans[0]?.scanId ?? entry.scanId;
  return {
    schemaVersion: INDEX_SCHEMA_VERSION,
    latest: entry.rescanOf
      ? (current?.latest ?? newest)
      : latest === 'newest'
        ? newest
        : entry.scanId,
    scans,
  };
}
