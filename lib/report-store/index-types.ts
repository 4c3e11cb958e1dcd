import type { EvaluationSummary } from '../engine/evaluate.js';

/**
 * What a scan looked at, for drift: bucket globs and regions (empty: all) and, for an
 * organisation-wide scan, its accounts and the ones among them it could not read.
 */
export interface StoredScope {
  buckets: string[];
  regions: string[];
  /** Every account an organisation-wide scan covered; absent: the scan's own account. */
  accounts?: string[];
  /**
   * Accounts it could not read: what an earlier scan saw in them is unverifiable now,
   * never gone.
   */
  unreachableAccounts?: string[];
}

/** One line of the scan history in index.json. */
export interface IndexEntry {
  scanId: string;
  scanTime: string;
  accountId: string;
  buckets: number;
  byStatus: EvaluationSummary['byStatus'];
  failedBySeverity: EvaluationSummary['failedBySeverity'];
  /** The scan's scope; absent in older indexes (and for unrestricted scans written before it). */
  scope?: StoredScope;
  /** A scoped rescan of a few buckets (never the index's `latest`): the full scan it updates. */
  rescanOf?: string;
  /** The scan id whose unfinished write this scan replaces (see ScanSummaryFile.retryOf). */
  retryOf?: string;
  /** Organisation-wide scans: how many accounts were scanned, failed and skipped. */
  accounts?: { scanned: number; failed: number; skipped: number };
  /**
   * The scan's place in the chain of writes: `seq` counts scans in the order they were
   * stored, `digest` is the SHA-256 of its manifest.json, `previous` the chain value of the
   * line stored before it, `chain` the SHA-256 of previous, scan id and digest. Absent for
   * scans stored before s3scan recorded digests.
   */
  integrity?: { seq: number; digest: string; previous?: string; chain: string };
}

/** index.json: the scan history, newest first; written last and atomically. */
export interface StoreIndex {
  schemaVersion: string;
  latest: string;
  scans: IndexEntry[];
}
