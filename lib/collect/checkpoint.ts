import type { BucketEvidence, ScanEvidence } from '../evidence/types.js';
import type { BucketTarget } from './account.js';
import type { SweepCheckpoint } from './objects/sweep.js';
import type { CollectStats, ObjectScanOptions } from './options.js';

/**
 * An interrupted scan: the bucket-level evidence, and where each object sweep stands.
 * `s3scan scan --resume` (and the Lambdas) continue it with {@link resumeCollection}.
 */
export interface ScanCheckpoint {
  schemaVersion: '1';
  /** What was seen so far: the buckets read (their sweeps may be unfinished). */
  evidence: ScanEvidence;
  /** The object scan asked for; absent for a bucket-level scan. */
  objects?: Omit<ObjectScanOptions, 'sinkFor'>;
  /** Buckets whose sweep has not finished: a sweep checkpoint, or not started. */
  sweeps: Record<string, SweepCheckpoint | 'pending'>;
  /** Listed buckets whose reads had not all finished: read again on resume. */
  unread?: BucketTarget[];
  /** Set when the scan stopped before the account was listed: resume lists it again. */
  listing?: { buckets: string[]; regions: string[] };
  stats: CollectStats;
  /** The buckets and regions the scan was asked for (kept for its summary when resumed). */
  scope?: { buckets: string[]; regions: string[] };
}

/** True for a value that is a checkpoint this version can resume (a stored one, read back). */
export function isScanCheckpoint(value: unknown): value is ScanCheckpoint {
  const checkpoint = value as Partial<ScanCheckpoint> | null;
  return (
    typeof checkpoint === 'object' &&
    checkpoint !== null &&
    checkpoint.schemaVersion === '1' &&
    typeof checkpoint.evidence === 'object' &&
    checkpoint.evidence !== null &&
    typeof checkpoint.sweeps === 'object' &&
    checkpoint.sweeps !== null
  );
}

/** Where one bucket's collection stopped, for the next invocation to continue. */
export interface BucketCheckpoint {
  bucket: BucketEvidence;
  sweep: SweepCheckpoint | 'pending';
}

/** What an interrupted scan has left to do, in words. */
export function describeCheckpoint(checkpoint: ScanCheckpoint): string {
  if (checkpoint.listing) return 'stopped before the account was listed';
  const parts = [
    ...(checkpoint.unread?.length ? [`${checkpoint.unread.length} buckets not yet read`] : []),
    ...(Object.keys(checkpoint.sweeps).length
      ? [`${Object.keys(checkpoint.sweeps).length} object sweeps unfinished`]
      : []),
  ];
  return parts.length > 0 ? parts.join(', ') : 'KMS keys not yet described';
}

/** Collected evidence and how it was collected. */
export interface CollectResult {
  evidence: ScanEvidence;
  /** Set when the scan was interrupted: `evidence` is incomplete, the checkpoint continues it. */
  checkpoint?: ScanCheckpoint;
  stats: CollectStats;
}
