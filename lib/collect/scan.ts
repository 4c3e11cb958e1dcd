import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { distance as levenshtein } from 'fastest-levenshtein';
import pLimit from 'p-limit';
import { errorCode, unreachable } from '../aws/errors.js';
import { CollectError, ConfigError, CredentialsError } from '../errors.js';
import {
  type BucketEvidence,
  EVIDENCE_SCHEMA_VERSION,
  type ScanEvidence,
} from '../evidence/types.js';
import type { ObjectSink } from '../report-store/object-sink.js';
import { globMatch } from '../text/glob.js';
import {
  bucketRegion,
  collectBucket,
  type Limiter,
  type ListedBucket,
  listBuckets,
} from './buckets.js';
import type { AwsClients } from './clients.js';
import { canonicalKeyRef, collectKmsKey } from './kms.js';
import { ObjectAggregator } from './objects/aggregate.js';
import type { HeadTransport } from './objects/direct-head.js';
import { findInventory, InventoryUnavailableError, readInventory } from './objects/inventory.js';
import { type SweepCheckpoint, type SweepResult, sweepBucket } from './objects/sweep.js';
import { verifyInventoryPlaintext } from './objects/verify-plaintext.js';
import { abortOption } from './probe.js';

/** Progress of a running collection, for the CLI's progress line. */
export interface CollectProgress {
  done: number;
  total: number;
  /** Buckets with at least one probe that was denied or failed. */
  errors: number;
}

/** What to collect, and how. */
export interface CollectOptions {
  clients: AwsClients;
  /** Maximum AWS calls in flight. */
  concurrency: number;
  scanId: string;
  scanTime: Date;
  toolVersion: string;
  /** Bucket names or globs; all buckets when empty. */
  buckets?: string[];
  /** Regions to keep; all when empty. */
  regions?: string[];
  onProgress?: (progress: CollectProgress) => void;
  signal?: AbortSignal;
  /** Object-level scanning; bucket-level only when absent. */
  objects?: ObjectScanOptions;
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

/** Collected evidence and how it was collected. */
export interface CollectResult {
  evidence: ScanEvidence;
  /** Set when the scan was interrupted during the object sweep: `evidence` is incomplete. */
  checkpoint?: ScanCheckpoint;
  stats: {
    /** Logical calls (one per SDK `send` or direct HEAD, whatever its retries). */
    s3Calls: number;
    kmsCalls: number;
    stsCalls: number;
    /** HTTP requests really sent, retries included. */
    httpAttempts: number;
    /** Attempts beyond the first of each call: what the faults cost. */
    retries: number;
    bucketsWithErrors: number;
    kmsKeys: number;
  };
}

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
): { s3Limit: Limiter; kmsLimit: Limiter } {
  const limiter = pLimit(concurrency);
  const counted =
    (service: 's3Calls' | 'kmsCalls'): Limiter =>
    (fn) =>
      limiter(() => {
        signal?.throwIfAborted();
        stats[service] += 1;
        return fn();
      });
  return { s3Limit: counted('s3Calls'), kmsLimit: counted('kmsCalls') };
}

/**
 * Collects the evidence of an account: STS for the account id, ListBuckets, the five
 * per-bucket reads, object sweeps when asked, and KMS facts once per distinct key. Every read
 * is a probe; one bucket's failure never stops the others. Throws only when nothing can be
 * listed. When `signal` aborts, at any point, the result carries a checkpoint instead.
 */
export async function collectEvidence(options: CollectOptions): Promise<CollectResult> {
  const stats = {
    s3Calls: 0,
    kmsCalls: 0,
    stsCalls: 0,
    httpAttempts: 0,
    retries: 0,
    bucketsWithErrors: 0,
    kmsKeys: 0,
  };
  const machinery = machineryFor(options.clients, options.concurrency, stats, options.signal);
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
  options: Pick<CollectOptions, 'buckets' | 'regions' | 'objects' | 'signal' | 'onProgress'>,
  machinery: Machinery,
): Promise<CollectResult> {
  let enumeration: Enumeration;
  try {
    machinery.stats.stsCalls += 1;
    enumeration = await enumerateBuckets(
      machinery.clients,
      options,
      machinery.s3Limit,
      options.signal,
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
  options: Pick<CollectOptions, 'objects' | 'signal' | 'onProgress'>,
  machinery: Machinery,
): Promise<CollectResult> {
  const { signal } = options;
  const progress: CollectProgress = {
    done: evidence.buckets.length,
    total: evidence.buckets.length + targets.length,
    errors: machinery.stats.bucketsWithErrors,
  };
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
      );
      if (signal?.aborted) {
        unread.push(target);
        return;
      }
      read.push(bucket);
      progress.done += 1;
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
  const allSweeps = options.objects
    ? { ...sweeps, ...Object.fromEntries(read.map((b) => [b.name, 'pending' as const])) }
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

/** The account and the buckets a scan covers, after the name and region filters. */
export interface Enumeration {
  accountId: string;
  partition: string;
  callerArn: string;
  targets: BucketTarget[];
}

/** A listed bucket with its region: what the bucket reads need. */
export type BucketTarget = ListedBucket & { region: string };

/**
 * STS for the account, then ListBuckets (with MaxBuckets, so regions come back), filtered by
 * bucket globs and regions. Throws CredentialsError without credentials, CollectError when the
 * account cannot be listed.
 */
export async function enumerateBuckets(
  clients: AwsClients,
  options: Pick<CollectOptions, 'buckets' | 'regions'>,
  limit: Limiter,
  signal?: AbortSignal,
): Promise<Enumeration> {
  let accountId: string;
  let callerArn: string;
  try {
    signal?.throwIfAborted();
    const identity = await clients
      .sts()
      .send(new GetCallerIdentityCommand({}), abortOption(signal));
    accountId = identity.Account ?? '';
    callerArn = identity.Arn ?? '';
  } catch (error) {
    if (signal?.aborted) throw error;
    const code = errorCode(error);
    const offline = unreachable(error);
    if (offline)
      throw new CollectError(`sts:GetCallerIdentity failed: ${offline}`, { cause: error });
    if (
      code === 'CredentialsProviderError' ||
      /credential/i.test(String((error as Error).message))
    ) {
      throw new CredentialsError(`no AWS credentials found (${(error as Error).message})`, {
        cause: error,
      });
    }
    throw new CollectError(`sts:GetCallerIdentity failed: ${code}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const partition = callerArn.split(':')[1] || 'aws';
  let listed: ListedBucket[];
  try {
    listed = await listBuckets(clients, limit, signal);
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new CollectError(
      `s3:ListBuckets failed (${errorCode(error)}: ${(error as Error).message}); the scanner needs s3:ListAllMyBuckets`,
      { cause: error },
    );
  }
  const nameFilters = options.buckets ?? [];
  const selected = listed.filter(
    (b) => nameFilters.length === 0 || nameFilters.some((f) => globMatch(f, b.name, false)),
  );
  // A filter that matches nothing is a typo far more often than an intent: say so, and
  // never publish an empty scan as the latest report.
  if (nameFilters.length > 0 && selected.length === 0) {
    throw new ConfigError(
      `--bucket ${nameFilters.join(',')} matches none of the ${listed.length} buckets of account ${accountId}${suggest(
        nameFilters,
        listed.map((b) => b.name),
      )}`,
    );
  }
  const located = await Promise.all(
    selected.map(async (b) => ({
      ...b,
      region:
        b.region ?? (await bucketRegion(clients, b.name, limit, signal)) ?? clients.homeRegion,
    })),
  );
  const regionFilters = options.regions ?? [];
  const targets = located.filter(
    (b) => regionFilters.length === 0 || regionFilters.includes(b.region),
  );
  if (regionFilters.length > 0 && targets.length === 0 && located.length > 0) {
    const regions = [...new Set(located.map((b) => b.region))].sort();
    throw new ConfigError(
      `--region ${regionFilters.join(',')} holds none of the ${located.length} selected buckets; they are in ${regions.join(', ')}`,
    );
  }
  return { accountId, partition, callerArn, targets };
}

/** ": did you mean a, b or c?" with the names closest to what was asked, or "". */
function suggest(asked: string[], names: string[]): string {
  if (names.length === 0) return '';
  const closest = names
    .map((name) => ({
      name,
      distance: Math.min(...asked.map((a) => levenshtein(a.replace(/[*?]/g, ''), name))),
    }))
    .sort((a, b) => a.distance - b.distance || (a.name < b.name ? -1 : 1))
    .slice(0, 3)
    .map((c) => c.name);
  return `; the closest names are ${closest.join(', ')}`;
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
  stats: CollectResult['stats'];
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

interface Machinery {
  clients: AwsClients;
  s3Limit: Limiter;
  kmsLimit: Limiter;
  stats: CollectResult['stats'];
  /** The stats with the HTTP attempts made so far (this run's added to earlier runs'). */
  settled: () => CollectResult['stats'];
}

function machineryFor(
  clients: AwsClients,
  concurrency: number,
  stats: CollectResult['stats'],
  signal: AbortSignal | undefined,
): Machinery {
  const attemptBase = stats.httpAttempts - clients.totalAttempts();
  return {
    clients,
    ...countedLimiters(concurrency, stats, signal),
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
  options: Pick<CollectOptions, 'objects' | 'signal'>,
  machinery: Machinery,
): Promise<CollectResult> {
  const { clients, stats } = machinery;
  if (options.objects && Object.keys(sweeps).length > 0) {
    const left = await sweepObjects(
      new Date(evidence.scanTime),
      evidence.buckets,
      sweeps,
      options.objects,
      clients,
      machinery.s3Limit,
      options.signal,
    );
    if (Object.keys(left).length > 0) return interrupted(evidence, left, options, machinery);
  }
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
 * Sweeps the objects of the listed buckets (a few buckets at a time, calls bounded by the
 * shared limiter), storing the aggregates on each bucket's evidence. Object KMS key ids become
 * canonical ARNs so they meet the key facts collected once per key. Returns the sweeps an
 * abort left unfinished.
 */
async function sweepObjects(
  scanTime: Date,
  buckets: BucketEvidence[],
  sweeps: Record<string, SweepCheckpoint | 'pending'>,
  objects: ObjectScanOptions,
  clients: AwsClients,
  limit: Limiter,
  signal: AbortSignal | undefined,
): Promise<Record<string, SweepCheckpoint | 'pending'>> {
  const bucketLimit = pLimit(objects.bucketConcurrency ?? 4);
  const left: Record<string, SweepCheckpoint | 'pending'> = {};
  await Promise.all(
    buckets
      .filter((bucket) => sweeps[bucket.name] !== undefined)
      .map((bucket) =>
        bucketLimit(async () => {
          const state = sweeps[bucket.name]!;
          if (signal?.aborted) {
            left[bucket.name] = state;
            return;
          }
          const sink = objects.sinkFor?.(bucket);
          try {
            const result = await sweepOne(
              bucket,
              state,
              objects,
              clients,
              limit,
              signal,
              sink,
              scanTime,
            );
            if ('checkpoint' in result) {
              left[bucket.name] = result.checkpoint;
              return;
            }
            const byKmsKey: typeof result.evidence.byKmsKey = {};
            for (const [keyId, tally] of Object.entries(result.evidence.byKmsKey)) {
              byKmsKey[canonicalKeyRef(keyId, bucket) ?? keyId] = tally;
            }
            bucket.objects = { ...result.evidence, byKmsKey };
          } catch (error) {
            // A sample sweep aborted mid-way starts again on resume; anything else is a failure.
            if (!signal?.aborted) throw error;
            left[bucket.name] = state;
          } finally {
            await sink?.close();
          }
        }),
      ),
  );
  return left;
}

/** One bucket's object evidence in the requested mode, falling back from inventory in `auto`. */
async function sweepOne(
  bucket: BucketEvidence,
  state: SweepCheckpoint | 'pending',
  objects: ObjectScanOptions,
  clients: AwsClients,
  limit: Limiter,
  signal: AbortSignal | undefined,
  sink: ObjectSink | undefined,
  scanTime: Date,
): Promise<SweepResult> {
  let fallback: string | undefined;
  if (objects.mode === 'inventory' || objects.mode === 'auto') {
    try {
      const configurations =
        'ok' in bucket.inventoryConfigurations ? bucket.inventoryConfigurations.ok : [];
      const choice = await findInventory({
        s3ForBucket: () => clients.s3(bucket.region),
        bucket: bucket.name,
        configurations,
        versions: objects.versions,
        scanTime,
        maxAgeDays: objects.maxInventoryAgeDays ?? 8,
        limit,
        ...(signal ? { signal } : {}),
      });
      const inventory = await readInventory({
        s3: clients.s3(bucket.region),
        choice,
        limit,
        ...(signal ? { signal } : {}),
      });
      return {
        evidence: await verifyInventoryPlaintext({
          s3: clients.s3(bucket.region),
          bucket: bucket.name,
          owner: bucket.accountId,
          evidence: inventory,
          limit,
          ...(signal ? { signal } : {}),
        }),
      };
    } catch (error) {
      if (signal?.aborted) throw error;
      await sink?.discard();
      const reason =
        error instanceof InventoryUnavailableError
          ? error
          : new InventoryUnavailableError(errorCode(error), String((error as Error).message), {
              cause: error,
            });
      if (objects.mode === 'inventory') {
        const empty = new ObjectAggregator('inventory', objects.versions);
        empty.listFailed(reason.code, reason.message);
        return { evidence: empty.result(false) };
      }
      fallback = `${reason.code}: ${reason.message}`;
    }
  }
  const result = await sweepBucket({
    s3: clients.s3(bucket.region),
    bucket: bucket.name,
    owner: bucket.accountId,
    mode: objects.mode === 'full' ? 'full' : 'sample',
    versions: objects.versions,
    sampleSize: objects.sampleSize,
    ...(objects.prefixConcurrency !== undefined
      ? { prefixConcurrency: objects.prefixConcurrency }
      : {}),
    ...(objects.headTransport !== undefined ? { headTransport: objects.headTransport } : {}),
    limit,
    ...(state !== 'pending' ? { resume: state } : {}),
    ...(signal ? { signal } : {}),
    ...(sink ? { onObject: sink.write } : {}),
  });
  return 'evidence' in result && fallback
    ? { evidence: { ...result.evidence, inventoryUnavailable: fallback } }
    : result;
}

/** Where one bucket's collection stopped, for the next invocation to continue. */
export interface BucketCheckpoint {
  bucket: BucketEvidence;
  sweep: SweepCheckpoint | 'pending';
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
    (await collectBucket(options.clients, options.target, options.account, limit, options.signal));
  options.signal?.throwIfAborted();
  if (!options.objects) return { bucket };
  const left = await sweepObjects(
    options.scanTime,
    [bucket],
    { [bucket.name]: options.resume?.sweep ?? 'pending' },
    options.objects,
    options.clients,
    limit,
    options.signal,
  );
  const sweep = left[bucket.name];
  return sweep ? { checkpoint: { bucket, sweep } } : { bucket };
}
