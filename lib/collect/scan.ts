import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import pLimit from 'p-limit';
import { CollectError, CredentialsError } from '../errors.js';
import {
  type BucketEvidence,
  EVIDENCE_SCHEMA_VERSION,
  type ScanEvidence,
} from '../evidence/types.js';
import { globMatch } from '../policy/glob.js';
import { bucketRegion, collectBucket, type Limiter, listBuckets } from './buckets.js';
import type { AwsClients } from './clients.js';
import { canonicalKeyRef, collectKmsKey } from './kms.js';
import type { ObjectObservation } from './objects/classify.js';
import { sweepBucket } from './objects/sweep.js';
import { errorCode } from './probe.js';

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

/** Where the per-object rows of one bucket go (the store's objects CSV). */
export interface ObjectSink {
  write: (observation: ObjectObservation) => void;
  close: () => Promise<void>;
}

/** How to scan objects. */
export interface ObjectScanOptions {
  mode: 'sample' | 'full';
  versions: boolean;
  sampleSize: number;
  /** Buckets swept at the same time (each holds up to two listing pages in memory). */
  bucketConcurrency?: number;
  sinkFor?: (bucket: BucketEvidence) => ObjectSink | undefined;
}

/** Collected evidence and how it was collected. */
export interface CollectResult {
  evidence: ScanEvidence;
  stats: {
    s3Calls: number;
    kmsCalls: number;
    stsCalls: number;
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
 * Collects the bucket-level evidence of an account: STS for the account id, ListBuckets, the
 * five per-bucket reads, and KMS facts once per distinct default key. Every read is a probe;
 * one bucket's failure never stops the others. Throws only when nothing can be listed.
 */
export async function collectEvidence(options: CollectOptions): Promise<CollectResult> {
  const { clients } = options;
  const limiter = pLimit(options.concurrency);
  const stats = { s3Calls: 0, kmsCalls: 0, stsCalls: 0, bucketsWithErrors: 0, kmsKeys: 0 };
  const counted =
    (service: 's3Calls' | 'kmsCalls'): Limiter =>
    (fn) =>
      limiter(() => {
        options.signal?.throwIfAborted();
        stats[service] += 1;
        return fn();
      });
  const s3Limit = counted('s3Calls');
  const kmsLimit = counted('kmsCalls');

  let accountId: string;
  let callerArn: string;
  try {
    stats.stsCalls += 1;
    const identity = await clients.sts().send(new GetCallerIdentityCommand({}));
    accountId = identity.Account ?? '';
    callerArn = identity.Arn ?? '';
  } catch (error) {
    const code = errorCode(error);
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

  let listed: Awaited<ReturnType<typeof listBuckets>>;
  try {
    listed = await listBuckets(clients, s3Limit);
  } catch (error) {
    throw new CollectError(
      `s3:ListBuckets failed (${errorCode(error)}: ${(error as Error).message}); the scanner needs s3:ListAllMyBuckets`,
      { cause: error },
    );
  }
  const nameFilters = options.buckets ?? [];
  const selected = listed.filter(
    (b) => nameFilters.length === 0 || nameFilters.some((f) => globMatch(f, b.name, false)),
  );
  const located = await Promise.all(
    selected.map(async (b) => ({
      ...b,
      region: b.region ?? (await bucketRegion(clients, b.name, s3Limit)) ?? clients.homeRegion,
    })),
  );
  const regionFilters = options.regions ?? [];
  const targets = located.filter(
    (b) => regionFilters.length === 0 || regionFilters.includes(b.region),
  );

  const progress: CollectProgress = { done: 0, total: targets.length, errors: 0 };
  options.onProgress?.(progress);
  const buckets = await Promise.all(
    targets.map(async (target) => {
      const evidence = await collectBucket(clients, target, { accountId, partition }, s3Limit);
      progress.done += 1;
      if (hasFailedProbe(evidence)) progress.errors += 1;
      options.onProgress?.(progress);
      return evidence;
    }),
  );
  stats.bucketsWithErrors = progress.errors;

  if (options.objects)
    await sweepObjects(buckets, options.objects, clients, s3Limit, options.signal);

  const refs = [
    ...new Set(
      buckets.flatMap((b) => [
        ...(b.defaultKmsKeyRef ? [b.defaultKmsKeyRef] : []),
        ...Object.keys(b.objects?.byKmsKey ?? {}),
      ]),
    ),
  ].sort();
  const keys = await Promise.all(refs.map((ref) => collectKmsKey(clients, ref, kmsLimit)));
  stats.kmsKeys = keys.length;

  return {
    evidence: {
      schemaVersion: EVIDENCE_SCHEMA_VERSION,
      tool: { name: 's3scan', version: options.toolVersion },
      scanId: options.scanId,
      scanTime: options.scanTime.toISOString(),
      accountId,
      partition,
      callerArn,
      buckets: buckets.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
      kmsKeys: Object.fromEntries(keys.map((k) => [k.ref, k])),
    },
    stats,
  };
}

/**
 * Sweeps the objects of every bucket (a few buckets at a time, calls bounded by the shared
 * limiter), storing the aggregates on each bucket's evidence. Object KMS key ids are made
 * canonical ARNs so they meet the key facts collected once per key.
 */
async function sweepObjects(
  buckets: BucketEvidence[],
  objects: ObjectScanOptions,
  clients: AwsClients,
  limit: Limiter,
  signal: AbortSignal | undefined,
): Promise<void> {
  const bucketLimit = pLimit(objects.bucketConcurrency ?? 4);
  await Promise.all(
    buckets.map((bucket) =>
      bucketLimit(async () => {
        const sink = objects.sinkFor?.(bucket);
        try {
          const result = await sweepBucket({
            s3: clients.s3(bucket.region),
            bucket: bucket.name,
            owner: bucket.accountId,
            mode: objects.mode,
            versions: objects.versions,
            sampleSize: objects.sampleSize,
            limit,
            ...(signal ? { signal } : {}),
            ...(sink ? { onObject: sink.write } : {}),
          });
          if ('checkpoint' in result) throw signal?.reason ?? new Error('object sweep aborted');
          const byKmsKey: typeof result.evidence.byKmsKey = {};
          for (const [keyId, tally] of Object.entries(result.evidence.byKmsKey)) {
            byKmsKey[canonicalKeyRef(keyId, bucket) ?? keyId] = tally;
          }
          bucket.objects = { ...result.evidence, byKmsKey };
        } finally {
          await sink?.close();
        }
      }),
    ),
  );
}
