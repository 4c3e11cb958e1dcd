import {
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  ListDirectoryBucketsCommand,
} from '@aws-sdk/client-s3';
import { errorCode, httpStatus } from '../aws/errors.js';
import { AwsResponseError } from '../errors.js';
import type { Probe } from '../evidence/probe.js';
import type {
  BucketEvidence,
  DirectoryListing,
  ServerSideEncryptionConfiguration,
} from '../evidence/types.js';
import type { AwsClients } from './clients.js';
import { canonicalKeyRef } from './kms.js';
import { abortOption, jsonSafe, probe, probeFromError } from './probe.js';

/**
 * The IAM actions directory buckets need. They are `s3express:` actions, granted by identity
 * policies only (a directory bucket's policy cannot grant its bucket-level reads), on the
 * regional `s3express-control` endpoint; same account only. aws-facts.md 4.4, and
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3express.html
 */
export const DIRECTORY_BUCKET_IAM_ACTIONS = [
  's3express:ListAllMyDirectoryBuckets',
  's3express:GetEncryptionConfiguration',
  's3express:GetBucketPolicy',
] as const;

/**
 * Directory bucket names end in `--<zone-id>--x-s3` (Availability Zones and Local Zones
 * alike): https://docs.aws.amazon.com/AmazonS3/latest/userguide/directory-bucket-naming-rules.html
 */
const DIRECTORY_NAME = /^[a-z0-9][a-z0-9.-]*--[a-z0-9-]+--x-s3$/;

/** True when the name is a directory bucket's. */
export function isDirectoryBucketName(name: string): boolean {
  return DIRECTORY_NAME.test(name);
}

/** Runs a call under the scan's limiter (the same shape as the bucket collector's). */
type Limiter = <T>(fn: () => Promise<T>) => Promise<T>;

/** A directory bucket as ListDirectoryBuckets returned it, in the region asked. */
interface ListedDirectoryBucket {
  name: string;
  region: string;
  creationDate?: string;
}

/** The directory buckets of one region, or why they could not be listed. */
export interface RegionDirectoryBuckets {
  listing: DirectoryListing;
  buckets: ListedDirectoryBucket[];
}

/** Codes an endpoint answers when it has no directory buckets at all (emulators, S3-compatible stores). */
const UNSUPPORTED_CODES = new Set(['NotImplemented', 'MethodNotAllowed', 'InvalidRequest']);

/**
 * ListDirectoryBuckets in one region, every page. It is regional (`s3express-control.<region>`;
 * the SDK's endpoint rules route it) and lists only that region's directory buckets, so s3scan
 * calls it once per region it looks at (aws-facts.md 4.4: "Call it per region"). ListBuckets
 * never returns them. The answer has no BucketRegion: the region asked is the bucket's.
 *
 * An endpoint that is not AWS may answer a general purpose listing instead: names that are not
 * directory bucket names mean the endpoint has none, said as `absent`, never guessed.
 */
export async function listDirectoryBuckets(
  clients: AwsClients,
  account: string,
  region: string,
  limit: Limiter,
  signal?: AbortSignal,
): Promise<RegionDirectoryBuckets> {
  const buckets: ListedDirectoryBucket[] = [];
  const s3 = clients.s3(region);
  let ContinuationToken: string | undefined;
  try {
    for (let page = 0; page < 1000; page++) {
      const out = await limit(() =>
        s3.send(
          new ListDirectoryBucketsCommand({ MaxDirectoryBuckets: 1000, ContinuationToken }),
          abortOption(signal),
        ),
      );
      const names = (out.Buckets ?? []).map((b) => b.Name).filter((n): n is string => !!n);
      const strangers = names.filter((n) => !isDirectoryBucketName(n));
      if (strangers.length > 0)
        return {
          listing: {
            accountId: account,
            region,
            result: {
              absent: `the endpoint answered ListDirectoryBuckets with general purpose bucket names (${strangers.slice(0, 3).join(', ')}): it offers no directory buckets`,
            },
          },
          buckets: [],
        };
      for (const b of out.Buckets ?? [])
        if (b.Name)
          buckets.push({
            name: b.Name,
            region,
            ...(b.CreationDate ? { creationDate: new Date(b.CreationDate).toISOString() } : {}),
          });
      if (!out.ContinuationToken) break;
      ContinuationToken = out.ContinuationToken;
    }
  } catch (error) {
    if (signal?.aborted) throw error;
    const code = errorCode(error);
    const result: Probe<{ buckets: number }> =
      UNSUPPORTED_CODES.has(code) || httpStatus(error) === 501
        ? { absent: `the endpoint does not offer directory buckets (${code})` }
        : probeFromError<{ buckets: number }>(error, []);
    return { listing: { accountId: account, region, result }, buckets: [] };
  }
  return {
    listing: { accountId: account, region, result: { ok: { buckets: buckets.length } } },
    buckets,
  };
}

const NOT_SUPPORTED = 'not supported for directory buckets';

/**
 * The bucket-level reads of a directory bucket: GetBucketEncryption and GetBucketPolicy (on
 * `s3express-control`, routed by the SDK from the `--x-s3` name). GetBucketPolicyStatus,
 * versioning and inventory configurations do not exist for directory buckets (aws-facts 3.1,
 * 4.4: "No versioning"), so those probes say so instead of failing. Their encryption is SSE-S3
 * or SSE-KMS with one customer managed key for life, and S3 Bucket Keys are always on.
 */
export async function collectDirectoryBucket(
  clients: AwsClients,
  listed: ListedDirectoryBucket,
  account: { accountId: string; partition: string },
  limit: Limiter,
  signal?: AbortSignal,
): Promise<BucketEvidence> {
  const s3 = clients.s3(listed.region);
  const [encryption, policy] = await Promise.all([
    probe<ServerSideEncryptionConfiguration>(async () => {
      const out = await limit(() =>
        s3.send(new GetBucketEncryptionCommand({ Bucket: listed.name }), abortOption(signal)),
      );
      const config = jsonSafe<{
        ServerSideEncryptionConfiguration?: ServerSideEncryptionConfiguration;
      }>(out).ServerSideEncryptionConfiguration;
      return { Rules: config?.Rules ?? [] };
    }, []),
    probe<string>(async () => {
      const out = await limit(() =>
        s3.send(new GetBucketPolicyCommand({ Bucket: listed.name }), abortOption(signal)),
      );
      if (typeof out.Policy !== 'string')
        throw new AwsResponseError('GetBucketPolicy returned no Policy', { name: 'EmptyPolicy' });
      return out.Policy;
    }, ['NoSuchBucketPolicy']),
  ]);
  const evidence: BucketEvidence = {
    name: listed.name,
    kind: 'directory',
    // Directory buckets have regional ARNs in the s3express namespace.
    arn: `arn:${account.partition}:s3express:${listed.region}:${account.accountId}:bucket/${listed.name}`,
    region: listed.region,
    accountId: account.accountId,
    partition: account.partition,
    ...(listed.creationDate ? { creationDate: listed.creationDate } : {}),
    encryption,
    policy,
    policyStatus: { absent: NOT_SUPPORTED },
    versioning: { absent: NOT_SUPPORTED },
    inventoryConfigurations: { absent: NOT_SUPPORTED },
  };
  if ('ok' in encryption) {
    const rule = encryption.ok.Rules.find(
      (r) => r.ApplyServerSideEncryptionByDefault?.SSEAlgorithm,
    );
    if (rule?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm === 'aws:kms') {
      const ref = canonicalKeyRef(rule.ApplyServerSideEncryptionByDefault.KMSMasterKeyID, {
        region: listed.region,
        accountId: account.accountId,
        partition: account.partition,
      });
      if (ref) evidence.defaultKmsKeyRef = ref;
    }
  }
  return evidence;
}
