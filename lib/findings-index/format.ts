import type { EvaluationSummary } from '../engine/evaluate.js';
import type { Finding, ResourceType, Severity, Status } from '../engine/types.js';
import { ReportStoreError } from '../errors.js';

/**
 * The findings index: what the dashboard reads instead of the whole findings file, written
 * inside the scan folder (`view/`) when the scan is stored, so it is published with the scan
 * or not at all. The files:
 *
 * - `view/index.json`: small whatever the scan's size: the counts, where each (status,
 *   severity) group of rows starts, the byte offset of every page, the rules, accounts and
 *   regions. The first screen and the default findings page need nothing else;
 * - `view/pages.bin`: the findings in the index's order, {@link PAGE_ROWS} to a gzip member,
 *   each line `<change kind byte>\t<finding JSON>`, so any finding is one ranged read and one
 *   small gunzip away;
 * - `view/rows.bin`: one small record per finding, as columns (status, severity, change kind,
 *   flags: a byte each; rule: 2 bytes; bucket: 4 bytes), read only by requests that filter or
 *   sort on them;
 * - `view/buckets.json`: the bucket dictionary (name, account, region by id), read with it;
 * - `view/overview.json`: the page's first screen, computed once (see {@link ViewOverview});
 * - `view/rules.json`: the rules' documentation and remediation as they were at scan time.
 *
 * Rows are sorted worst first: status (FAIL, ERROR, PASS, SKIPPED), severity, bucket name,
 * account, region, rule id. Filtering a million rows is a pass over typed arrays; sorting by
 * another key is a counting sort (every key is a small integer), stable over that order.
 */
export const VIEW_DIR = 'view';
export const VIEW_SCHEMA_VERSION = '1';
/** Findings per gzip member of `pages.bin`: a page of 100 reads two or three of them. */
export const PAGE_ROWS = 50;

/** The status order of the index (worst first), each a byte in the status column. */
export const VIEW_STATUSES: readonly Status[] = ['FAIL', 'ERROR', 'PASS', 'SKIPPED'];
/** Severity bytes, most severe first (the engine's order). */
export const VIEW_SEVERITIES: readonly Severity[] = [
  'critical',
  'high',
  'medium',
  'low',
  'informational',
];
/**
 * Change-kind bytes: 0 when there was no previous scan to compare with; otherwise the kind of
 * the finding's change since it (the alerts' drift, computed when the scan was stored).
 */
export const VIEW_CHANGES = [
  'none',
  'new',
  'regressed',
  'resolved',
  'unverifiable',
  'still-failing',
  'unchanged',
  'suppressed',
] as const;
export type ViewChange = (typeof VIEW_CHANGES)[number];

/** Flag bits of a row. */
export const FLAG_SUPPRESSED = 1;

/** Column sections of `rows.bin`, in file order. */
export const COLUMNS = ['status', 'severity', 'change', 'flags', 'rule', 'bucket'] as const;
export type ColumnName = (typeof COLUMNS)[number];
/** Bytes per element of each column. */
export const COLUMN_BYTES: Record<ColumnName, number> = {
  status: 1,
  severity: 1,
  change: 1,
  flags: 1,
  rule: 2,
  bucket: 4,
};

/** (status, severity) groups of rows: group g holds status g / 5 and severity g % 5. */
export const GROUPS = 4 * 5;

/** `view/index.json`. */
export interface ViewIndex {
  schemaVersion: string;
  scanId: string;
  /** Findings in the scan. */
  count: number;
  pageRows: number;
  /** The first row of each (status, severity) group, then `count`: {@link GROUPS} + 1 numbers. */
  groups: number[];
  /** The byte offset of each page in `pages.bin`, then its size. */
  pages: number[];
  /** Byte offset of each column in `rows.bin` (8-byte aligned). */
  columns: Record<ColumnName, number>;
  rowsBytes: number;
  rules: string[];
  accounts: string[];
  regions: string[];
  /** Buckets in `buckets.json`. */
  buckets: number;
  /** The scan the change kinds compare with; null for a first scan of its scope. */
  changesFrom: { scanId: string; scanTime: string } | null;
  /** Why a previous scan exists but could not be compared with. */
  changesUnavailable?: string;
}

/**
 * `view/buckets.json`: every bucket of the findings, sorted by name, account, region, as three
 * parallel lists (a bucket id is a position in them; flat lists parse several times faster
 * than a list of tuples, which matters at 50,000 buckets).
 */
export interface ViewBuckets {
  names: string[];
  /** Positions in the index's `accounts`. */
  accounts: number[];
  /** Positions in the index's `regions`. */
  regions: number[];
}

/** Counts of one bucket class of objects. */
export interface ObjectsAtRisk {
  count: number;
  bytes: number;
  buckets: number;
}

/** A bucket ranked in the overview's "fix first" list. */
export interface BucketRank {
  account: string;
  region: string;
  name: string;
  FAIL: number;
  ERROR: number;
  /** The most severe unsuppressed FAIL. */
  worst: Severity | null;
}

/** The summary's counts the overview repeats (all of it but the per-bucket counts). */
export type OverviewCounts = Pick<
  EvaluationSummary,
  | 'scanId'
  | 'scanTime'
  | 'accountId'
  | 'buckets'
  | 'findings'
  | 'byStatus'
  | 'failedBySeverity'
  | 'suppressed'
  | 'byRule'
>;

/** The overview's counts from a summary. */
export function overviewCounts(summary: EvaluationSummary): OverviewCounts {
  const { scanId, scanTime, accountId, buckets, findings, byStatus, failedBySeverity } = summary;
  const { suppressed, byRule } = summary;
  return {
    scanId,
    scanTime,
    accountId,
    buckets,
    findings,
    byStatus,
    failedBySeverity,
    suppressed,
    byRule,
  };
}

/** `view/overview.json`: everything the first screen needs, small at any scan size. */
export interface ViewOverview extends OverviewCounts {
  schemaVersion: string;
  /** Buckets by failing findings (most severe first on ties), at most {@link TOP_BUCKETS}. */
  topBuckets: BucketRank[];
  /** Per account and per region: status counts. */
  byAccount: Record<string, Record<Status, number>>;
  byRegion: Record<string, Record<Status, number>>;
  /**
   * From the object-level evidence (current and noncurrent versions): plaintext objects,
   * SSE-C objects (S3 keeps no key: only the uploader can read them), objects under a KMS key
   * that is disabled, pending deletion or gone. Null when no bucket's objects were scanned.
   */
  objectsAtRisk: {
    unencrypted: ObjectsAtRisk;
    sseC: ObjectsAtRisk;
    unusableKey: ObjectsAtRisk;
    /** Buckets whose objects were scanned. */
    scannedBuckets: number;
  } | null;
  /** Change counts since the previous scan of the same scope, `gone` included. */
  drift: { from: { scanId: string; scanTime: string }; counts: Record<string, number> } | null;
  /** Why a previous scan exists but could not be compared with. */
  changesUnavailable?: string;
}

export const TOP_BUCKETS = 20;

/** A rule's documentation as stored with the scan (`view/rules.json`). */
export interface RuleDocument {
  id: string;
  title: string;
  severity: Severity;
  /** What the rule judges (absent in scans stored before it was recorded: buckets then). */
  resourceType?: ResourceType;
  description: string;
  rationale: string;
  remediation: { text: string; cli: string; cloudformation: string };
  references: string[];
  /** `framework:requirement` ids the rule gives evidence for. */
  requirements: string[];
}

/**
 * The change kind of every finding, in the findings' order, and the counts of each kind
 * (`gone` too, which no current finding carries): what the scan use case computes from the
 * previous scan before storing.
 */
export interface ChangeColumn {
  from: { scanId: string; scanTime: string };
  kinds: readonly ViewChange[];
  counts: Record<string, number>;
}

/** The columns of `rows.bin`, as typed arrays over one buffer. */
export interface ViewColumns {
  status: Uint8Array;
  severity: Uint8Array;
  change: Uint8Array;
  flags: Uint8Array;
  rule: Uint16Array;
  bucket: Uint32Array;
}

/** Lays the columns out 8-byte aligned; returns each offset and the total size. */
export function columnLayout(count: number): {
  columns: Record<ColumnName, number>;
  bytes: number;
} {
  const columns = {} as Record<ColumnName, number>;
  let at = 0;
  for (const name of COLUMNS) {
    columns[name] = at;
    at += count * COLUMN_BYTES[name];
    at = Math.ceil(at / 8) * 8;
  }
  return { columns, bytes: at };
}

/**
 * The typed-array views of `rows.bin`, checked against the index's sizes: a truncated or
 * foreign file throws instead of answering wrong rows. That every row's ids are inside the
 * dictionaries and in its group is checked by the reader's one pass over the rows
 * (see `findings-view.ts`).
 */
export function decodeColumns(index: ViewIndex, bytes: Uint8Array): ViewColumns {
  const expected = columnLayout(index.count);
  if (bytes.byteLength !== expected.bytes || bytes.byteLength !== index.rowsBytes)
    throw new ReportStoreError(
      `rows.bin has ${bytes.byteLength} bytes; the index describes ${index.rowsBytes} and ${index.count} findings need ${expected.bytes}`,
    );
  // Typed arrays need aligned offsets; a Buffer from a pool may start anywhere.
  const own = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  const view = <T>(name: ColumnName, make: new (b: ArrayBuffer, o: number, n: number) => T): T =>
    new make(own.buffer as ArrayBuffer, own.byteOffset + (index.columns[name] ?? 0), index.count);
  return {
    status: view('status', Uint8Array),
    severity: view('severity', Uint8Array),
    change: view('change', Uint8Array),
    flags: view('flags', Uint8Array),
    rule: view('rule', Uint16Array),
    bucket: view('bucket', Uint32Array),
  };
}

/**
 * The account's posture now: the scan's counts with the buckets rescanned since replaced by
 * their newest rescan (for each bucket, the newest scan that looked at it wins).
 */
export interface PostureOverlay {
  /** The rescans since the scan, oldest first, with the buckets each looked at. */
  rescans: { scanId: string; scanTime: string; buckets: string[] }[];
  /** Distinct buckets whose verdicts come from a rescan. */
  buckets: number;
  /** The status counts now. */
  byStatus: Record<Status, number>;
  /** The status counts as the scan found them. */
  scanned: Record<Status, number>;
}

/** A finding a rescan made, with its change since the look before it and the rescan's time. */
export interface OverlayFinding {
  finding: Finding;
  change: ViewChange;
  seen: { scanId: string; scanTime: string };
  /** What filters and sorts read, when known without the finding (a stored posture). */
  head?: OverlayHead;
}

/** What selecting among the posture now's findings reads of one: no message, no details. */
export interface OverlayHead {
  status: Status;
  severity: Severity;
  name: string;
  account: string;
  region: string;
  rule: string;
  fingerprint: string;
  title: string;
}

/** The head of an overlay finding: stored, or read off the finding. */
export function overlayHead(o: OverlayFinding): OverlayHead {
  if (o.head) return o.head;
  const f = o.finding;
  return {
    status: f.status,
    severity: f.severity,
    name: f.resource.name,
    account: f.resource.account,
    region: f.resource.region,
    rule: f.ruleId,
    fingerprint: f.fingerprint,
    title: f.title,
  };
}

/** Where a rescan keeps the posture now as of its own storing (see {@link PostureFile}). */
export const POSTURE_FILE = `${VIEW_DIR}/posture.json`;
/**
 * The standing rescans' findings of that posture: one line each ({@link PostureHeadsFile} in
 * the same order says what selection needs), so only the findings shown are parsed.
 */
export const POSTURE_OVERLAY_FILE = `${VIEW_DIR}/posture-overlay.ndjson.gz`;
/** The heads of those findings, with each one's change and rescan. */
export const POSTURE_HEADS_FILE = `${VIEW_DIR}/posture-heads.json`;

/**
 * `view/posture-heads.json`: per overlay finding, `[head fields..., change, rescan]` where the
 * rescan is an index into {@link PostureFile.rescans}.
 */
export interface PostureHeadsFile {
  rows: [
    status: Status,
    severity: Severity,
    name: string,
    account: string,
    region: string,
    rule: string,
    fingerprint: string,
    title: string,
    change: ViewChange,
    rescan: number,
  ][];
}

/**
 * `view/posture.json` of a rescan: the posture now of the full scan it updates, computed when
 * the rescan was stored, so the first request after it reads one small file instead of the
 * full scan's rows and every rescan's findings. It answers only while index.json lists exactly
 * the rescans it names over that scan (two rescans stored at once each miss the other: the
 * dashboard then computes the posture on request, as it does for rescans stored before this
 * file existed).
 */
export interface PostureFile {
  schemaVersion: '1';
  /** The full scan overlaid. */
  fullScan: string;
  /** The rescans over it, oldest first, this rescan last. */
  rescans: string[];
  /** The overview of the posture now. */
  overview: ViewOverview;
  /** The posture line: the rescans, the buckets re-read, the counts now and as scanned. */
  posture: PostureOverlay;
  /** Ids in the full scan's bucket dictionary whose findings a rescan replaced. */
  replaced: number[];
  /** Ids in that dictionary that are accounts or listings (never replaced, never ranked). */
  accountLevel: number[];
  /** For each rescanned bucket name, the rescan whose findings stand. */
  newest: Record<string, string>;
}
