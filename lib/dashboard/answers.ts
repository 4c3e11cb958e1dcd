/**
 * The dashboard API's answers, as types only: the server (api.ts) builds them and the page
 * (web/) reads them, so both are checked against one definition. DOM-safe: nothing here may
 * import Node or server code (web/tsconfig.json type-checks this file too).
 */
import type { Finding, Status } from '../engine/types.js';
import type { BucketEvidenceFile } from '../evidence/types.js';
import type { PostureOverlay, RuleDocument, ViewOverview } from '../findings-index/format.js';

export type { PostureOverlay };

import type { IndexEntry } from '../report-store/index-types.js';

/** GET /scans. */
export interface ScanList {
  latest: string | null;
  scans: IndexEntry[];
  nextCursor?: string;
}

/** Which findings an answer is of: the scan as it was stored, or the posture now. */
export type PostureMode = 'scan' | 'now';

/**
 * GET /scans/{id}/overview[?posture=now]: `indexed` is false for a scan stored before the
 * findings index; `shows` is `now` when the counts are the posture now (rescans overlaid).
 */
export type OverviewAnswer = ViewOverview & {
  indexed: boolean;
  /**
   * A scan stored before the findings index: the command that judges its evidence again into
   * a new, indexed scan (its counts come from summary.json; its findings are read whole).
   */
  reindex?: string;
  posture?: PostureOverlay;
  shows?: PostureMode;
};

/** The scan a finding of the posture now comes from: the full scan, or a rescan since. */
export interface SeenIn {
  scanId: string;
  scanTime: string;
}

/** GET /scans/{id}/findings: a page of findings and the total that meet the filters. */
export interface FindingsPage {
  /** The scan the page is of (`latest` resolved). */
  scanId?: string;
  total: number;
  findings: Finding[];
  /**
   * Each finding's change since the previous scan of its scope, in the same order; absent
   * when the scan has no findings index, `none` for a first scan.
   */
  changes?: string[];
  /** With `posture=now`, when rescans followed: the scan each finding comes from. */
  seen?: SeenIn[];
  nextCursor?: string;
}

/** One changed finding in a compare view. */
export interface ChangedFinding {
  kind: string;
  ruleId: string;
  bucket: string;
  account: string;
  region: string;
  before: { status: Status; severity: string } | null;
  after: { status: Status; severity: string } | null;
}

/** GET /scans/{id}/drift[?from=]: counts per change kind; with `from`, the changes too. */
export interface DriftAnswer {
  from: { scanId: string; scanTime: string } | null;
  to: { scanId: string; scanTime: string };
  counts: Record<string, number>;
  changes?: Record<string, ChangedFinding[]>;
}

/** GET /scans/{id}/buckets/{name}. */
export interface BucketDetail {
  bucket: { account: string; region: string; name: string };
  findings: Finding[];
  evidence: BucketEvidenceFile | null;
  evidenceError?: string;
  rules: RuleDocument[];
  /** With `posture=now`: the rescan these findings and evidence come from. */
  seenIn?: SeenIn;
}

/** A requirement's verdict: FAIL if any finding behind it fails, ERROR if any is unverifiable. */
export type RequirementVerdict = 'FAIL' | 'ERROR' | 'PASS' | 'NOT_ASSESSED';

/** GET /scans/{id}/compliance. */
export interface ComplianceAnswer {
  scanId: string;
  /** `now` when the counts are the posture now (rescans overlaid). */
  shows?: PostureMode;
  frameworks: {
    id: string;
    name: string;
    version: string;
    source: string;
    requirements: {
      id: string;
      title: string;
      rules: string[];
      counts: Record<Status, number>;
      verdict: RequirementVerdict;
    }[];
  }[];
}

/** One run of a fix about this bucket and rule. */
export interface FixRun {
  mode: 'apply' | 'undo' | 'dry-run' | 'refused' | 'interrupted';
  at: string;
  by?: string;
  status: string;
  reason?: string;
  verified?: boolean;
  verdict?: { status: string; message: string };
  rescanId?: string;
  /** The setting as read before the write, and after it. */
  before?: unknown;
  after?: unknown;
}

/** One fix of the bucket, planned, and what became of it. */
export interface FixHistoryEntry {
  fixId: string;
  createdAt: string;
  /** The scan the plan was made from. */
  scanId: string;
  automatic: boolean;
  rule: string;
  setting: string;
  change: string;
  /** The planned change as `-`/`+` lines. */
  diff: string[];
  runs: FixRun[];
  /** Where it stands now, in a word or two. */
  state:
    | 'planned'
    | 'dry run'
    | 'proven'
    | 'not proven'
    | 'undone'
    | 'refused'
    | 'failed'
    | 'interrupted';
  /** The command that goes on from here (apply a fresh plan, or undo). */
  next: string;
}

/** An object job of the bucket. */
export interface FixJobEntry {
  fixId: string;
  operation: string;
  objects: number;
  jobId?: string;
  status: string;
  reason?: string;
}

/** The dashboard's answer: a bucket's fixes, newest first. */
export interface FixHistoryAnswer {
  bucket: string;
  fixes: FixHistoryEntry[];
  jobs: FixJobEntry[];
  /** Fix records that could not be read, by id: shown, never hidden. */
  unreadable: string[];
}
