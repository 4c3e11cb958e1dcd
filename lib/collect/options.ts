import type { BucketEvidence, ObjectScanEvidence } from '../evidence/types.js';
import type { ObjectSink } from '../report-store/object-sink.js';
import type { AwsClients } from './clients.js';
import type { HeadTransport } from './objects/direct-head.js';

/** Progress of a running collection, for the CLI's progress line. */
export interface CollectProgress {
  /** Buckets finished: their bucket reads and, when the scan reads objects, their objects. */
  done: number;
  total: number;
  /** Buckets with at least one probe that was denied or failed. */
  errors: number;
  /** Buckets whose objects are being read: objects listed and classified so far. */
  sweeping: Record<string, { listed: number; classified: number }>;
}

/** What to collect, and how. */
export interface CollectOptions {
  clients: AwsClients;
  /** Maximum AWS calls in flight. */
  concurrency: number;
  /**
   * A bound shared with other collections (the accounts of an organisation-wide scan), so
   * `concurrency` holds for the whole scan, not per account; replaces the collection's own.
   */
  sharedLimit?: <T>(fn: () => Promise<T>) => Promise<T>;
  scanId: string;
  scanTime: Date;
  toolVersion: string;
  /** Bucket names or globs; all buckets when empty. */
  buckets?: string[];
  /** Regions to keep; all when empty. */
  regions?: string[];
  /**
   * A `buckets` list naming buckets that no longer exist is not a typo but a deletion (a
   * rescan after DeleteBucket): they are simply not found, and drift calls them gone.
   */
  missingBucketsOk?: boolean;
  /** False: general purpose buckets only (S3-compatible stores have no directory buckets). */
  directoryBuckets?: boolean;
  /** Regions to list directory buckets in besides those holding general purpose buckets. */
  directoryBucketRegions?: string[];
  onProgress?: (progress: CollectProgress) => void;
  signal?: AbortSignal;
  /** Object-level scanning; bucket-level only when absent. */
  objects?: ObjectScanOptions;
  /**
   * Without `objects`: the object evidence an earlier scan recorded for a bucket, kept as the
   * bucket's (a rescan), so object rules judge it with its keys described again instead of
   * saying SKIPPED, which drift would read as every object problem resolved.
   */
  carriedObjects?: (bucket: {
    accountId: string;
    region: string;
    name: string;
  }) => ObjectScanEvidence | undefined;
}

/** How to scan objects. */
export interface ObjectScanOptions {
  /** `auto`: inventory when a fresh delivery with EncryptionStatus exists, else `sample`. */
  mode: 'sample' | 'full' | 'inventory' | 'auto';
  /** The newest inventory delivery may be at most this old (default 8 days). */
  maxInventoryAgeDays?: number;
  versions: boolean;
  sampleSize: number;
  /** HEADs in flight per key prefix (default 100; S3 serves 5,500 HEAD/s per prefix). */
  prefixConcurrency?: number;
  /** `direct` (default) signs HEADs itself at a fifth of the SDK's CPU; `sdk` uses s3.send. */
  headTransport?: HeadTransport;
  /** Buckets swept at the same time (each holds up to three listing pages in memory). */
  bucketConcurrency?: number;
  sinkFor?: (bucket: BucketEvidence) => ObjectSink | undefined;
}

/** How a collection went: calls, attempts and failures. */
export type CollectStats = {
  /** Logical calls (one per SDK `send` or direct HEAD, whatever its retries). */
  s3Calls: number;
  kmsCalls: number;
  stsCalls: number;
  /** AWS Organizations calls reading the RCPs and SCPs of the scanned accounts. */
  organizationsCalls: number;
  /** HTTP requests really sent, retries included. */
  httpAttempts: number;
  /** Attempts beyond the first of each call: what the faults cost. */
  retries: number;
  bucketsWithErrors: number;
  kmsKeys: number;
};

/** Stats of a collection that has made no call yet. */
export function emptyStats(): CollectStats {
  return {
    s3Calls: 0,
    kmsCalls: 0,
    stsCalls: 0,
    organizationsCalls: 0,
    httpAttempts: 0,
    retries: 0,
    bucketsWithErrors: 0,
    kmsKeys: 0,
  };
}
