import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import pLimit from 'p-limit';
import { CollectError, CredentialsError } from '../errors.js';
import { EVIDENCE_SCHEMA_VERSION, type ScanEvidence } from '../evidence/types.js';
import { globMatch } from '../policy/glob.js';
import { bucketRegion, collectBucket, type Limiter, listBuckets } from './buckets.js';
import type { AwsClients } from './clients.js';
import { collectKmsKey } from './kms.js';
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

  const refs = [
    ...new Set(buckets.flatMap((b) => (b.defaultKmsKeyRef ? [b.defaultKmsKeyRef] : []))),
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
