import type { EvaluationSummary } from '../engine/evaluate.js';
import type { Finding } from '../engine/types.js';
import type { ScanEvidence } from '../evidence/types.js';
import type {
  ChangeColumn,
  OverlayFinding,
  PostureFile,
  RuleDocument,
} from '../findings-index/format.js';
import type { IndexEntry, StoredScope, StoreIndex } from './index-types.js';

// The index's types are DOM-safe (the dashboard page imports them): they live apart.
export type { IndexEntry, StoredScope, StoreIndex };

/**
 * Where a scan's config came from, recorded in every summary so an auditor can tell which
 * suppressions, overrides and allowed keys applied.
 */
export interface ConfigProvenance {
  /** `default`: no config (built-in defaults); else the kind of place it was read from. */
  origin: 'default' | 'file' | 's3' | 'ssm';
  /** The file path, `s3://bucket/key` or `ssm:<parameter>`; for defaults, where no config was found. */
  location?: string;
  /** SHA-256 (hex) of the config's bytes as read; absent for defaults. */
  sha256?: string;
  /** The S3 ETag or SSM parameter version read. */
  version?: string;
}

/** summary.json: the evaluation summary plus how the scan ran. */
export interface ScanSummaryFile extends EvaluationSummary {
  schemaVersion: string;
  source: 'scan' | 'evaluate' | 'demo' | 'rescan';
  /**
   * A rescan (`source: 'rescan'`): the buckets an event asked to re-read, scanned on their own
   * and linked to the full scan they update, with the events that asked.
   */
  rescanOf?: { scanId: string; scanTime: string; events: string[] };
  /**
   * This scan is a second write of the scan with this id: an earlier write of it stopped
   * before index.json and left files that are never replaced (an S3 store creates each file
   * once), so the same evidence and findings were stored under this new id.
   */
  retryOf?: string;
  timings?: Record<string, number>;
  collection?: Record<string, number>;
  /**
   * A re-evaluation (`evaluate --store`, `demo`) is a scan of its own: which recorded
   * evidence it judged again. The evidence files keep the scan id that collected them.
   */
  evaluatedFrom?: { scanId: string; scanTime: string; evidence: string };
  /** The config the findings were judged with: where it came from and its SHA-256. */
  config?: ConfigProvenance;
  /** The buckets the scan looked at (globs and regions; empty: all): drift compares within it. */
  scope?: StoredScope;
}

/** One bucket's per-object CSV: gzip members in order, read as the store writes them. */
export interface ObjectFile {
  accountId: string;
  bucket: string;
  chunks: () => AsyncIterable<Buffer>;
}

/** Everything one scan writes. */
export interface ScanRecord {
  summary: ScanSummaryFile;
  findings: Finding[];
  evidence: ScanEvidence;
  /** Per-object CSVs written elsewhere while the scan ran (the Lambdas' work area). */
  objectFiles?: ObjectFile[];
  /** Each finding's change since the previous scan of its scope, for the findings index. */
  changes?: ChangeColumn;
  /** Why there are no change kinds although a previous scan exists (it could not be read). */
  changesUnavailable?: string;
  /** The documentation of the rules that judged the scan, stored with it. */
  rules?: RuleDocument[];
  /** A rescan's posture now of the full scan it updates, and its standing findings. */
  posture?: { file: PostureFile; overlay: OverlayFinding[] };
}

/**
 * The alert ledger of one store: small JSON records under `alerts/<scanId>/`, named by the
 * alert dispatcher (`<sink>/<batch>.<attempt>.claim`, `….result`, `state`, `outcome`).
 * `create` is the conditional write that makes sending exactly once: of two runs that claim
 * the same batch, one wins and the other learns that it lost.
 */
export interface AlertLedgerStore {
  /** The names of every record of a scan, in no particular order. */
  list(scanId: string): Promise<string[]>;
  read(scanId: string, name: string): Promise<unknown | undefined>;
  /** Writes the record only if it does not exist; false when it already did. */
  create(scanId: string, name: string, record: unknown): Promise<boolean>;
  /** Writes or replaces the record, atomically. */
  write(scanId: string, name: string, record: unknown): Promise<void>;
  /** Human-readable location, for messages. */
  describe(scanId: string): string;
}

/** The fix records: the ledger's operations per fix id, and the ids of every fix stored. */
export interface FixRecordStore extends AlertLedgerStore {
  ids(): Promise<string[]>;
}

/** Where reports live: a local folder now, the S3 report bucket in the Lambda deployment. */
export interface ReportStore {
  /** The ledger of what alerts were sent for each scan. */
  alertLedger(): AlertLedgerStore;
  /** The records of each fix (`fixes/<fixId>/`: its plan, and what applying it changed). */
  fixRecords(): FixRecordStore;
  /** Writes a scan, then points index.json at it. Returns where the scan was written. */
  writeScan(record: ScanRecord): Promise<string>;
  readIndex(): Promise<StoreIndex | undefined>;
  readScan(scanId: string): Promise<{ summary: ScanSummaryFile; findings: Finding[] }>;
  /** summary.json alone, without reading the findings. */
  readSummary(scanId: string): Promise<ScanSummaryFile>;
  /**
   * The scan's findings as NDJSON lines, streamed in batches (gunzipped as read): what drift
   * reads, so a million findings never sit in memory at once.
   */
  findingLines(scanId: string): AsyncIterable<string[]>;
  /**
   * A file of a stored scan by its path inside the scan folder (`view/index.json`, a finding's
   * `evidenceRef`); undefined when the scan has no such file. Paths are checked: no `..`, no
   * absolute path, only the characters the store itself writes.
   */
  readScanFile(scanId: string, path: string): Promise<Buffer | undefined>;
  /** Bytes `[start, end)` of a scan's file: one page of the findings index. */
  readScanFileRange(scanId: string, path: string, start: number, end: number): Promise<Buffer>;
  /** Human-readable location of a scan, for messages. */
  describe(scanId?: string): string;
  /**
   * A few of the names at the store's top level that a report store never holds: a folder
   * that is something else (a mistyped `--store`). Empty for a store, new or not; only a
   * local store can tell.
   */
  foreignEntries?(): Promise<string[]>;
}
