import {
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetBucketVersioningCommand,
  HeadBucketCommand,
  ListBucketInventoryConfigurationsCommand,
  ListBucketsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { errorCode, httpStatus } from '../aws/errors.js';
import { AwsResponseError } from '../errors.js';
import type { Probe } from '../evidence/probe.js';
import type {
  BucketEvidence,
  BucketVersioning,
  InventoryConfiguration,
  ServerSideEncryptionConfiguration,
} from '../evidence/types.js';
import type { AwsClients } from './clients.js';
import { collectDirectoryBucket, DIRECTORY_BUCKET_IAM_ACTIONS } from './directory-buckets.js';
import { canonicalKeyRef } from './kms.js';
import { abortOption, jsonSafe, probe, probeFromError, redirectRegion } from './probe.js';

/** A bucket as ListBuckets (or, `kind: 'directory'`, ListDirectoryBuckets) returned it. */
export interface ListedBucket {
  name: string;
  kind?: 'directory';
  region?: string;
  creationDate?: string;
}

/** Runs a function under the scan's call limiter (bounded concurrency, call counting). */
export type Limiter = <T>(fn: () => Promise<T>) => Promise<T>;

type BucketProbeField =
  | 'encryption'
  | 'policy'
  | 'policyStatus'
  | 'versioning'
  | 'inventoryConfigurations';

interface BucketRead<T> {
  field: BucketProbeField;
  /** The IAM action the call needs; serverless.yml must grant every one. */
  iamAction: string;
  /** Error codes that mean "not configured". */
  absentCodes: readonly string[];
  read: (s3: S3Client, bucket: string, owner: string, signal?: AbortSignal) => Promise<T>;
}

const encryptionRead: BucketRead<ServerSideEncryptionConfiguration> = {
  field: 'encryption',
  iamAction: 's3:GetEncryptionConfiguration',
  // Unmodeled; only old endpoints and emulators still answer it (real S3 has SSE-S3 since 2023).
  absentCodes: ['ServerSideEncryptionConfigurationNotFoundError'],
  read: async (s3, Bucket, ExpectedBucketOwner, signal) => {
    const out = await s3.send(
      new GetBucketEncryptionCommand({ Bucket, ExpectedBucketOwner }),
      abortOption(signal),
    );
    const config = jsonSafe<{
      ServerSideEncryptionConfiguration?: ServerSideEncryptionConfiguration;
    }>(out).ServerSideEncryptionConfiguration;
    return { Rules: config?.Rules ?? [] };
  },
};

const policyRead: BucketRead<string> = {
  field: 'policy',
  iamAction: 's3:GetBucketPolicy',
  absentCodes: ['NoSuchBucketPolicy'],
  read: async (s3, Bucket, ExpectedBucketOwner, signal) => {
    const out = await s3.send(
      new GetBucketPolicyCommand({ Bucket, ExpectedBucketOwner }),
      abortOption(signal),
    );
    if (typeof out.Policy !== 'string')
      throw new AwsResponseError('GetBucketPolicy returned no Policy', { name: 'EmptyPolicy' });
    return out.Policy;
  },
};

const policyStatusRead: BucketRead<{ IsPublic?: boolean }> = {
  field: 'policyStatus',
  iamAction: 's3:GetBucketPolicyStatus',
  absentCodes: ['NoSuchBucketPolicy'],
  read: async (s3, Bucket, ExpectedBucketOwner, signal) =>
    jsonSafe<{ PolicyStatus?: { IsPublic?: boolean } }>(
      await s3.send(
        new GetBucketPolicyStatusCommand({ Bucket, ExpectedBucketOwner }),
        abortOption(signal),
      ),
    ).PolicyStatus ?? {},
};

const versioningRead: BucketRead<BucketVersioning> = {
  field: 'versioning',
  iamAction: 's3:GetBucketVersioning',
  absentCodes: [],
  read: async (s3, Bucket, ExpectedBucketOwner, signal) =>
    jsonSafe<BucketVersioning>(
      await s3.send(
        new GetBucketVersioningCommand({ Bucket, ExpectedBucketOwner }),
        abortOption(signal),
      ),
    ),
};

const inventoryRead: BucketRead<InventoryConfiguration[]> = {
  field: 'inventoryConfigurations',
  iamAction: 's3:GetInventoryConfiguration',
  absentCodes: [],
  read: async (s3, Bucket, ExpectedBucketOwner, signal) => {
    const configurations: InventoryConfiguration[] = [];
    let ContinuationToken: string | undefined;
    // No SDK paginator exists for this call: loop on NextContinuationToken while truncated.
    for (let page = 0; page < 1000; page++) {
      const out = await s3.send(
        new ListBucketInventoryConfigurationsCommand({
          Bucket,
          ExpectedBucketOwner,
          ContinuationToken,
        }),
        abortOption(signal),
      );
      configurations.push(
        ...(jsonSafe<{ InventoryConfigurationList?: InventoryConfiguration[] }>(out)
          .InventoryConfigurationList ?? []),
      );
      if (!out.IsTruncated || !out.NextContinuationToken) break;
      ContinuationToken = out.NextContinuationToken;
    }
    return configurations;
  },
};

/** Every per-bucket read, with the IAM action it needs. */
export const BUCKET_READS = [
  encryptionRead,
  policyRead,
  policyStatusRead,
  versioningRead,
  inventoryRead,
] as const;

/**
 * IAM actions the bucket collector needs: ListBuckets and the per-bucket reads, then the
 * directory buckets' listing and reads.
 */
export const S3_IAM_ACTIONS = [
  's3:ListAllMyBuckets',
  ...BUCKET_READS.map((r) => r.iamAction),
  ...DIRECTORY_BUCKET_IAM_ACTIONS,
];

const WRONG_REGION_CODES = new Set([
  'PermanentRedirect',
  'AuthorizationHeaderMalformed',
  'IllegalLocationConstraintException',
]);

/**
 * One read, retried once in the region S3 names when the bucket turns out to live elsewhere:
 * a 301 with `x-amz-bucket-region`, `AuthorizationHeaderMalformed` ("expecting 'eu-west-1'")
 * or `IllegalLocationConstraintException`. The corrected region is recorded in the evidence.
 */
async function readWithRegionRetry<T>(
  clients: AwsClients,
  bucket: { name: string; region: string; accountId: string },
  read: BucketRead<T>,
  limit: Limiter,
  corrected: { region?: string },
  signal: AbortSignal | undefined,
): Promise<Probe<T>> {
  const attempt = (region: string) =>
    limit(() => read.read(clients.s3(region), bucket.name, bucket.accountId, signal));
  try {
    return { ok: await attempt(corrected.region ?? bucket.region) };
  } catch (error) {
    const region = redirectRegion(error);
    const wrongRegion = httpStatus(error) === 301 || WRONG_REGION_CODES.has(errorCode(error));
    if (wrongRegion && region && region !== (corrected.region ?? bucket.region)) {
      corrected.region = region;
      return probe(() => attempt(region), read.absentCodes);
    }
    return probeFromError<T>(error, read.absentCodes);
  }
}

/** Which reads beyond the bucket verdicts' own a scan needs, from its object mode. */
export interface ObjectReads {
  /** GetBucketVersioning: any object mode (noncurrent versions). */
  versioning: boolean;
  /** ListBucketInventoryConfigurations: the modes that may read an inventory. */
  inventory: boolean;
}

/** The reads an object mode needs; no object mode needs neither. */
export function objectReadsOf(mode: string | undefined): ObjectReads {
  return {
    versioning: mode !== undefined && mode !== 'none',
    inventory: mode === 'inventory' || mode === 'auto',
  };
}

/**
 * Collects the bucket-level probes of one bucket; never throws. The bucket verdicts need
 * encryption, policy and policy status; versioning and the inventory configurations are read
 * only when `reads` asks (an object mode that uses them).
 */
export async function collectBucket(
  clients: AwsClients,
  listed: ListedBucket & { region: string },
  account: { accountId: string; partition: string },
  limit: Limiter,
  signal?: AbortSignal,
  reads: ObjectReads = { versioning: true, inventory: true },
): Promise<BucketEvidence> {
  if (listed.kind === 'directory')
    return collectDirectoryBucket(clients, listed, account, limit, signal);
  const target = { name: listed.name, region: listed.region, accountId: account.accountId };
  const corrected: { region?: string } = {};
  const [encryption, policy, policyStatus, versioning, inventoryConfigurations] = await Promise.all(
    [
      readWithRegionRetry(clients, target, encryptionRead, limit, corrected, signal),
      readWithRegionRetry(clients, target, policyRead, limit, corrected, signal),
      readWithRegionRetry(clients, target, policyStatusRead, limit, corrected, signal),
      reads.versioning
        ? readWithRegionRetry(clients, target, versioningRead, limit, corrected, signal)
        : undefined,
      reads.inventory
        ? readWithRegionRetry(clients, target, inventoryRead, limit, corrected, signal)
        : undefined,
    ],
  );
  const region = corrected.region ?? listed.region;
  const evidence: BucketEvidence = {
    name: listed.name,
    arn: `arn:${account.partition}:s3:::${listed.name}`,
    region,
    accountId: account.accountId,
    partition: account.partition,
    ...(listed.creationDate ? { creationDate: listed.creationDate } : {}),
    encryption,
    policy,
    policyStatus,
    ...(versioning ? { versioning } : {}),
    ...(inventoryConfigurations ? { inventoryConfigurations } : {}),
  };
  if ('ok' in encryption) {
    const rule = encryption.ok.Rules.find(
      (r) => r.ApplyServerSideEncryptionByDefault?.SSEAlgorithm,
    );
    const algorithm = rule?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm;
    if (algorithm === 'aws:kms' || algorithm === 'aws:kms:dsse') {
      const ref = canonicalKeyRef(rule?.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID, {
        region,
        accountId: account.accountId,
        partition: account.partition,
      });
      if (ref) evidence.defaultKmsKeyRef = ref;
    }
  }
  return evidence;
}

/**
 * Lists every general purpose bucket, paginated. `MaxBuckets` is always sent, because S3
 * returns `BucketRegion` only when the request has a parameter; that spares a
 * GetBucketLocation per bucket.
 */
export async function listBuckets(
  clients: AwsClients,
  limit: Limiter,
  signal?: AbortSignal,
): Promise<ListedBucket[]> {
  const buckets: ListedBucket[] = [];
  const s3 = clients.s3(clients.homeRegion);
  let ContinuationToken: string | undefined;
  // A bounded loop: 10,000 pages of 1,000 is far beyond any account's bucket quota.
  for (let page = 0; page < 10_000; page++) {
    const out = await limit(() =>
      s3.send(new ListBucketsCommand({ MaxBuckets: 1000, ContinuationToken }), abortOption(signal)),
    );
    for (const b of out.Buckets ?? []) {
      if (!b.Name) continue;
      buckets.push({
        name: b.Name,
        ...(b.BucketRegion ? { region: b.BucketRegion } : {}),
        ...(b.CreationDate ? { creationDate: new Date(b.CreationDate).toISOString() } : {}),
      });
    }
    if (!out.ContinuationToken) break;
    ContinuationToken = out.ContinuationToken;
  }
  return buckets;
}

/** The region of a bucket that ListBuckets did not place: HeadBucket answers it even on 403. */
export async function bucketRegion(
  clients: AwsClients,
  name: string,
  limit: Limiter,
  signal?: AbortSignal,
): Promise<string | undefined> {
  try {
    const out = await limit(() =>
      clients
        .s3(clients.homeRegion)
        .send(new HeadBucketCommand({ Bucket: name }), abortOption(signal)),
    );
    return out.BucketRegion;
  } catch (error) {
    return redirectRegion(error);
  }
}
