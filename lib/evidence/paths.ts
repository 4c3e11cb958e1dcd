import { ReportStoreError } from '../errors.js';
import type { BucketEvidence, BucketEvidenceFile, ScanEvidence } from './types.js';

/**
 * Turns an untrusted name (bucket names come from evidence files too) into one safe path
 * segment: no separators, no `..`, nothing a shell or spreadsheet would interpret.
 */
export function safeSegment(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200);
  return cleaned === '' || /^\.+$/.test(cleaned) ? `_${cleaned}` : cleaned;
}

/** Where a bucket's evidence lives inside a scan folder. */
export function bucketEvidencePath(accountId: string, region: string, bucket: string): string {
  return `evidence/${safeSegment(accountId)}/${safeSegment(region)}/${safeSegment(bucket)}.json`;
}

/** Where a bucket's per-object CSV lives inside a scan folder. */
export function objectCsvPath(accountId: string, bucket: string): string {
  return `objects/${safeSegment(accountId)}/${safeSegment(bucket)}.csv.gz`;
}

/**
 * The evidence file of one bucket, as both report stores write it: the scan's header, the
 * bucket, and the facts of its default KMS key (so the file can be evaluated on its own).
 */
export function bucketEvidenceFile(evidence: ScanEvidence, bucket: BucketEvidence): string {
  const ref = bucket.defaultKmsKeyRef;
  const key = ref ? evidence.kmsKeys[ref] : undefined;
  const file: BucketEvidenceFile = {
    schemaVersion: evidence.schemaVersion,
    tool: evidence.tool,
    scanId: evidence.scanId,
    scanTime: evidence.scanTime,
    accountId: evidence.accountId,
    partition: evidence.partition,
    bucket,
    kmsKeys: ref && key ? { [ref]: key } : {},
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

/**
 * Where a scan keeps what is not a bucket: an organisation-wide scan's accounts (scanned,
 * failed, skipped), each region's directory bucket listing, and each account's organisation
 * policies (RCPs, SCPs).
 */
export const ACCOUNTS_EVIDENCE_PATH = 'evidence/accounts.json';

/**
 * The accounts file of an organisation-wide scan: a whole-scan bundle with no buckets, so
 * re-evaluating the stored evidence judges the accounts that could not be read again.
 */
export function accountsEvidenceFile(evidence: ScanEvidence): string | undefined {
  if (!evidence.accounts && !evidence.directoryListings && !evidence.policyLayers) return undefined;
  const file: ScanEvidence = {
    schemaVersion: evidence.schemaVersion,
    tool: evidence.tool,
    scanId: evidence.scanId,
    scanTime: evidence.scanTime,
    accountId: evidence.accountId,
    partition: evidence.partition,
    buckets: [],
    kmsKeys: {},
    ...(evidence.accounts ? { accounts: evidence.accounts } : {}),
    ...(evidence.directoryListings ? { directoryListings: evidence.directoryListings } : {}),
    ...(evidence.policyLayers ? { policyLayers: evidence.policyLayers } : {}),
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

/**
 * A path inside a scan folder as the stores write them (`view/index.json`,
 * `evidence/<account>/<region>/<bucket>.json`), or an error naming what is wrong: segments of
 * letters, digits, `.`, `_` and `-`, none of them `.` or `..`, so no path leaves the folder.
 */
export function checkedScanPath(path: string): string {
  const segments = path.split('/');
  if (path.length > 1024 || segments.some((s) => !/^[A-Za-z0-9._-]+$/.test(s) || /^\.+$/.test(s)))
    throw new ReportStoreError(
      `${JSON.stringify(path.slice(0, 100))} is not a path inside a scan folder`,
    );
  return path;
}
