import pLimit from 'p-limit';
import {
  type BucketEvidence,
  EVIDENCE_SCHEMA_VERSION,
  type ScanEvidence,
} from '../evidence/types.js';
import { collectAccessPoints } from './access-points.js';
import { type BucketTarget, type Enumeration, enumerateBuckets } from './account.js';
import {
  collectBucket,
  type Limiter,
  type ListedBucket,
  type ObjectReads,
  objectReadsOf,
} from './buckets.js';
import type { BucketCheckpoint, CollectResult, ScanCheckpoint } from './checkpoint.js';
import type { AwsClients } from './clients.js';
import { collectKmsKey } from './kms.js';
import { sweepObjects } from './object-source.js';
import type { SweepCheckpoint, SweepProgress } from './objects/sweep.js';
import {
  type CollectOptions,
  type CollectProgress,
  emptyStats,
  type ObjectScanOptions,
} from './options.js';

// This module runs a collection (whole account, resume, one bucket); its parts live beside it:
// account listing (account.ts), object-source choice (object-source.ts), checkpoints
// (checkpoint.ts), the option and result types (options.ts). They are re-exported here.
export type { BucketTarget, Enumeration } from './account.js';
export { enumerateBuckets } from './account.js';
export type { BucketCheckpoint, CollectResult, ScanCheckpoint } from './checkpoint.js';
export { describeCheckpoint, isScanCheckpoint } from './checkpoint.js';
export type {
  CollectOptions,
  CollectProgress,
  CollectStats,
  ObjectScanOptions,
} from './options.js';

function hasFailedProbe(bucket: object): boolean {
  return Object.values(bucket).some(
    (v) => typeof v === 'object' && v !== null && ('denied' in v || 'error' in v),
  );
}

/**
 * S3 and KMS limiters sharing one concurrency bound; each call is counted in `stats` and
 * refused once `signal` aborts.
 */
function countedLimiters(
  concurrency: number,
  stats: CollectResult['stats'],
  signal: AbortSignal | undefined,
  shared: Limiter | undefined,
): { s3Limit: Limiter; kmsLimit: Limiter; stsLimit: Limiter } {
  const limiter: Limiter = shared ?? pLimit(concurrency);
  const counted =
    (service: 's3Calls' | 'kmsCalls' | 'stsCalls'): Limiter =>
    (fn) =>
      limiter(() => {
        signal?.throwIfAborted();
        stats[service] += 1;
        return fn();
      });
  return {
    s3Limit: counted('s3Calls'),
    kmsLimit: counted('kmsCalls'),
    stsLimit: counted('stsCalls'),
  };
}

/**
 * Collects the evidence of an account: STS for the account id, ListBuckets, the five
 * per-bucket reads, object sweeps when asked, and KMS facts once per distinct key. Every read
 * is a probe; one bucket's failure never stops the others. Throws only when nothing can be
 * listed. When `signal` aborts, at any point, the result carries a checkpoint instead.
 */
export async function collectEvidence(options: CollectOptions): Promise<CollectResult> {
  const stats = emptyStats();
  const machinery = machineryFor(
    options.clients,
    options.concurrency,
    stats,
    options.signal,
    options.sharedLimit,
  );
  const evidence: ScanEvidence = {
    schemaVersion: EVIDENCE_SCHEMA_VERSION,
    tool: { name: 's3scan', version: options.toolVersion },
    scanId: options.scanId,
    scanTime: options.scanTime.toISOString(),
    accountId: '',
    partition: 'aws',
    buckets: [],
    kmsKeys: {},
  };
  return listAndRead(evidence, options, machinery);
}

/** STS and ListBuckets, then the bucket reads; a checkpoint that lists again when interrupted. */
async function listAndRead(
  evidence: ScanEvidence,
  options: Pick<
    CollectOptions,
    | 'buckets'
    | 'regions'
    | 'directoryBuckets'
    | 'directoryBucketRegions'
    | 'missingBucketsOk'
    | 'objects'
    | 'carriedObjects'
    | 'signal'
    | 'onProgress'
  >,
  machinery: Machinery,
): Promise<CollectResult> {
  let enumeration: Enumeration;
  try {
    enumeration = await enumerateBuckets(
      machinery.clients,
      options,
      machinery.s3Limit,
      options.signal,
      machinery.stsLimit,
    );
  } catch (error) {
    if (!options.signal?.aborted) throw error;
    return interrupted(evidence, {}, options, machinery, {
      listing: { buckets: options.buckets ?? [], regions: options.regions ?? [] },
    });
  }
  const listed: ScanEvidence = {
    ...evidence,
    accountId: enumeration.accountId,
    partition: enumeration.partition,
    callerArn: enumeration.callerArn,
    ...(enumeration.directoryListings.length > 0
      ? { directoryListings: enumeration.directoryListings }
      : {}),
  };
  return readBuckets(listed, enumeration.targets, {}, options, machinery);
}

/**
 * The five reads of each target bucket. A bucket whose reads an abort cut short is kept for
 * the resume to read again (its probes may hold aborts, which are not what AWS said).
 */
async function readBuckets(
  evidence: ScanEvidence,
  targets: BucketTarget[],
  sweeps: Record<string, SweepCheckpoint | 'pending'>,
  options: Pick<CollectOptions, 'objects' | 'carriedObjects' | 'signal' | 'onProgress'>,
  machinery: Machinery,
): Promise<CollectResult> {
  const { signal } = options;
  const carry = options.objects ? undefined : options.carriedObjects;
  // A bucket whose objects are still to be read is not done (a resumed scan's pending sweeps).
  const progress: CollectProgress = {
    done: evidence.buckets.length - (options.objects ? Object.keys(sweeps).length : 0),
    total: evidence.buckets.length + targets.length,
    errors: machinery.stats.bucketsWithErrors,
    sweeping: {},
  };
  machinery.progress = progress;
  options.onProgress?.(progress);
  const read: BucketEvidence[] = [];
  const unread: BucketTarget[] = [];
  await Promise.all(
    targets.map(async (target) => {
      const bucket = await collectBucket(
        machinery.clients,
        target,
        { accountId: evidence.accountId, partition: evidence.partition },
        machinery.s3Limit,
        signal,
        objectReadsOf(options.objects?.mode),
      );
      if (signal?.aborted) {
        unread.push(target);
        return;
      }
      const carried = carry?.(bucket);
      read.push(carried ? { ...bucket, objects: carried } : bucket);
      // With objects to read, the bucket is done when they are (see finish).
      if (!options.objects || bucket.kind === 'directory') progress.done += 1;
      if (hasFailedProbe(bucket)) progress.errors += 1;
      options.onProgress?.(progress);
    }),
  );
  machinery.stats.bucketsWithErrors = progress.errors;
  const withRead: ScanEvidence = {
    ...evidence,
    buckets: [...evidence.buckets, ...read].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    ),
  };
  // Directory buckets are not swept: their objects are reached through zonal endpoints and
  // CreateSession, and the object rules say SKIPPED for them.
  const allSweeps = options.objects
    ? {
        ...sweeps,
        ...Object.fromEntries(
          read.filter((b) => b.kind !== 'directory').map((b) => [b.name, 'pending' as const]),
        ),
      }
    : {};
  if (unread.length > 0) {
    return interrupted(withRead, allSweeps, options, machinery, {
      unread: unread.sort((a, b) => (a.name < b.name ? -1 : 1)),
    });
  }
  return finish(withRead, allSweeps, options, machinery);
}

/** The result of a collection that an abort stopped: what was seen, and what is left. */
function interrupted(
  evidence: ScanEvidence,
  sweeps: Record<string, SweepCheckpoint | 'pending'>,
  options: Pick<CollectOptions, 'objects'>,
  machinery: Machinery,
  left: Pick<ScanCheckpoint, 'unread' | 'listing'> = {},
): CollectResult {
  const stats = machinery.settled();
  const objects = options.objects ? withoutSink(options.objects) : undefined;
  return {
    evidence,
    stats,
    checkpoint: {
      schemaVersion: '1',
      evidence,
      ...(objects ? { objects } : {}),
      sweeps,
      ...left,
      stats,
    },
  };
}

function withoutSink(objects: ObjectScanOptions): Omit<ObjectScanOptions, 'sinkFor'> {
  const { sinkFor: _sink, ...rest } = objects;
  return rest;
}

/** KMS facts once per distinct key the buckets use (default keys and object keys). */
export async function collectKeyFacts(
  clients: AwsClients,
  buckets: BucketEvidence[],
  limit: Limiter,
  signal?: AbortSignal,
): Promise<ScanEvidence['kmsKeys']> {
  const refs = [
    ...new Set(
      buckets.flatMap((b) => [
        ...(b.defaultKmsKeyRef ? [b.defaultKmsKeyRef] : []),
        ...Object.keys(b.objects?.byKmsKey ?? {}),
      ]),
    ),
  ].sort();
  const keys = await Promise.all(refs.map((ref) => collectKmsKey(clients, ref, limit, signal)));
  return Object.fromEntries(keys.map((k) => [k.ref, k]));
}

interface Machinery {
  clients: AwsClients;
  s3Limit: Limiter;
  kmsLimit: Limiter;
  stsLimit: Limiter;
  stats: CollectResult['stats'];
  /** The stats with the HTTP attempts made so far (this run's added to earlier runs'). */
  settled: () => CollectResult['stats'];
  /** The progress the bucket reads started, which the object sweeps carry on. */
  progress?: CollectProgress;
}

function machineryFor(
  clients: AwsClients,
  concurrency: number,
  stats: CollectResult['stats'],
  signal: AbortSignal | undefined,
  shared?: Limiter,
): Machinery {
  const attemptBase = stats.httpAttempts - clients.totalAttempts();
  return {
    clients,
    ...countedLimiters(concurrency, stats, signal, shared),
    stats,
    settled: () => {
      stats.httpAttempts = attemptBase + clients.totalAttempts();
      stats.retries = Math.max(
        0,
        stats.httpAttempts - stats.s3Calls - stats.kmsCalls - stats.stsCalls,
      );
      return stats;
    },
  };
}

/** Sweeps what is left, then collects KMS facts once per key; or stops with a checkpoint. */
async function finish(
  evidence: ScanEvidence,
  sweeps: Record<string, SweepCheckpoint | 'pending'>,
  options: Pick<CollectOptions, 'objects' | 'signal' | 'onProgress'>,
  machinery: Machinery,
): Promise<CollectResult> {
  const { clients, stats } = machinery;
  if (options.objects && Object.keys(sweeps).length > 0) {
    const progress = machinery.progress;
    const left = await sweepObjects({
      scanTime: new Date(evidence.scanTime),
      buckets: evidence.buckets,
      sweeps,
      objects: options.objects,
      clients,
      limit: machinery.s3Limit,
      signal: options.signal,
      ...(progress && options.onProgress
        ? {
            onProgress: (bucket: string, sweep: SweepProgress & { done: boolean }) => {
              if (sweep.done) {
                delete progress.sweeping[bucket];
                progress.done += 1;
              } else
                progress.sweeping[bucket] = { listed: sweep.listed, classified: sweep.classified };
              options.onProgress?.(progress);
            },
          }
        : {}),
    });
    if (Object.keys(left).length > 0) return interrupted(evidence, left, options, machinery);
  }
  if (options.signal?.aborted) return interrupted(evidence, {}, options, machinery);
  // Access points: one listing per region, then each one's policy.
  await collectAccessPoints(
    clients,
    evidence.accountId,
    evidence.buckets,
    machinery.s3Limit,
    options.signal,
  );
  if (options.signal?.aborted) return interrupted(evidence, {}, options, machinery);
  const kmsKeys = await collectKeyFacts(
    clients,
    evidence.buckets,
    machinery.kmsLimit,
    options.signal,
  );
  // Key facts an abort cut short are not what KMS said: describe them all again on resume.
  if (options.signal?.aborted) return interrupted(evidence, {}, options, machinery);
  stats.kmsKeys = Object.keys(kmsKeys).length;
  return { evidence: { ...evidence, kmsKeys }, stats: machinery.settled() };
}

/** Continues an interrupted scan from its checkpoint; same result as if it had never stopped. */
export async function resumeCollection(
  checkpoint: ScanCheckpoint,
  options: Pick<CollectOptions, 'clients' | 'concurrency' | 'signal' | 'onProgress'> & {
    sinkFor?: ObjectScanOptions['sinkFor'];
  },
): Promise<CollectResult> {
  // Checkpoints written before attempts were counted lack the two counters.
  const stats = {
    ...checkpoint.stats,
    httpAttempts: checkpoint.stats.httpAttempts ?? 0,
    retries: checkpoint.stats.retries ?? 0,
  };
  const machinery = machineryFor(options.clients, options.concurrency, stats, options.signal);
  const evidence = structuredClone(checkpoint.evidence);
  const resumed = {
    ...(checkpoint.objects
      ? {
          objects: {
            ...checkpoint.objects,
            ...(options.sinkFor ? { sinkFor: options.sinkFor } : {}),
          },
        }
      : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  };
  if (checkpoint.listing)
    return listAndRead(evidence, { ...resumed, ...checkpoint.listing }, machinery);
  if (checkpoint.unread?.length)
    return readBuckets(evidence, checkpoint.unread, checkpoint.sweeps, resumed, machinery);
  return finish(evidence, checkpoint.sweeps, resumed, machinery);
}

/**
 * Collects one bucket (probes, then objects when asked), for hosts that fan out per bucket
 * (the Step Functions map). Stops with a checkpoint when `signal` aborts during the sweep.
 */
export async function collectSingleBucket(options: {
  clients: AwsClients;
  target: ListedBucket & { region: string };
  account: { accountId: string; partition: string };
  concurrency: number;
  scanTime: Date;
  objects?: ObjectScanOptions;
  /** Bucket reads for an object mode whose objects are read elsewhere (a fanned-out map). */
  reads?: ObjectReads;
  signal?: AbortSignal;
  resume?: BucketCheckpoint;
}): Promise<{ bucket: BucketEvidence } | { checkpoint: BucketCheckpoint }> {
  const limiter = pLimit(options.concurrency);
  const limit: Limiter = (fn) =>
    limiter(() => {
      options.signal?.throwIfAborted();
      return fn();
    });
  const bucket =
    options.resume?.bucket ??
    (await collectBucket(
      options.clients,
      options.target,
      options.account,
      limit,
      options.signal,
      options.reads ?? objectReadsOf(options.objects?.mode),
    ));
  options.signal?.throwIfAborted();
  if (!options.objects || bucket.kind === 'directory') return { bucket };
  const left = await sweepObjects({
    scanTime: options.scanTime,
    buckets: [bucket],
    sweeps: { [bucket.name]: options.resume?.sweep ?? 'pending' },
    objects: options.objects,
    clients: options.clients,
    limit,
    signal: options.signal,
  });
  const sweep = left[bucket.name];
  return sweep ? { checkpoint: { bucket, sweep } } : { bucket };
}
