import type { EvaluationSummary } from '../engine/evaluate.js';

/** One line of the scan history in index.json. */
export interface IndexEntry {
  scanId: string;
  scanTime: string;
  accountId: string;
  buckets: number;
  byStatus: EvaluationSummary['byStatus'];
  failedBySeverity: EvaluationSummary['failedBySeverity'];
  /** The scan's scope; absent in older indexes (and for unrestricted scans written before it). */
  scope?: { buckets: string[]; regions: string[] };
}

/** index.json: the scan history, newest first; written last and atomically. */
export interface StoreIndex {
  schemaVersion: string;
  latest: string;
  scans: IndexEntry[];
}
