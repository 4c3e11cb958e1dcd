import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { distance as levenshtein } from 'fastest-levenshtein';
import { errorCode, unreachable } from '../aws/errors.js';
import { CollectError, ConfigError, CredentialsError } from '../errors.js';
import type { DirectoryListing } from '../evidence/types.js';
import { globMatch } from '../text/glob.js';
import { bucketRegion, type Limiter, type ListedBucket, listBuckets } from './buckets.js';
import type { AwsClients } from './clients.js';
import { listDirectoryBuckets } from './directory-buckets.js';
import type { CollectOptions } from './options.js';
import { abortOption } from './probe.js';

/** The account and the buckets a scan covers, after the name and region filters. */
export interface Enumeration {
  accountId: string;
  partition: string;
  callerArn: string;
  targets: BucketTarget[];
  /** Each region's ListDirectoryBuckets outcome (none when directory buckets are not listed). */
  directoryListings: DirectoryListing[];
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
  options: Pick<
    CollectOptions,
    'buckets' | 'regions' | 'directoryBuckets' | 'directoryBucketRegions' | 'missingBucketsOk'
  >,
  limit: Limiter,
  signal?: AbortSignal,
  /** Bounds (and counts) the STS call like the S3 ones; uncounted and unbounded when absent. */
  stsLimit: Limiter = (fn) => fn(),
): Promise<Enumeration> {
  let accountId: string;
  let callerArn: string;
  try {
    signal?.throwIfAborted();
    const identity = await stsLimit(() =>
      clients.sts().send(new GetCallerIdentityCommand({}), abortOption(signal)),
    );
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
  const named = (b: ListedBucket) =>
    nameFilters.length === 0 || nameFilters.some((f) => globMatch(f, b.name, false));
  const selected = listed.filter(named);
  const located = await Promise.all(
    selected.map(async (b) => ({
      ...b,
      region:
        b.region ?? (await bucketRegion(clients, b.name, limit, signal)) ?? clients.homeRegion,
    })),
  );
  const regionFilters = options.regions ?? [];
  // ListDirectoryBuckets is regional: the regions asked for, else every region the account
  // has general purpose buckets in, the home region and the configured extra regions.
  const directoryRegions =
    options.directoryBuckets === false
      ? []
      : regionFilters.length > 0
        ? regionFilters
        : [
            ...new Set([
              clients.homeRegion,
              // Every listed bucket's region, filtered or not: a --bucket glob may name only
              // directory buckets, and they live in regions the account uses.
              ...listed.flatMap((b) => (b.region ? [b.region] : [])),
              ...located.map((b) => b.region),
              ...(options.directoryBucketRegions ?? []),
            ]),
          ].sort();
  const directories = await Promise.all(
    directoryRegions.map((region) =>
      listDirectoryBuckets(clients, accountId, region, limit, signal),
    ),
  );
  const directoryTargets: BucketTarget[] = directories
    .flatMap((d) => d.buckets)
    .filter(named)
    .map((b) => ({ ...b, kind: 'directory' as const }));
  // A filter that matches nothing is a typo far more often than an intent: say so, and
  // never publish an empty scan as the latest report.
  if (
    nameFilters.length > 0 &&
    selected.length === 0 &&
    directoryTargets.length === 0 &&
    !options.missingBucketsOk
  ) {
    throw new ConfigError(
      `--bucket ${nameFilters.join(',')} matches none of the ${listed.length} buckets of account ${accountId}${suggest(
        nameFilters,
        listed.map((b) => b.name),
      )}`,
    );
  }
  const generalTargets = located.filter(
    (b) => regionFilters.length === 0 || regionFilters.includes(b.region),
  );
  const targets = [...generalTargets, ...directoryTargets];
  if (regionFilters.length > 0 && targets.length === 0 && located.length > 0) {
    const regions = [...new Set(located.map((b) => b.region))].sort();
    throw new ConfigError(
      `--region ${regionFilters.join(',')} holds none of the ${located.length} selected buckets; they are in ${regions.join(', ')}`,
    );
  }
  const directoryListings = directories.map((d) => d.listing);
  return { accountId, partition, callerArn, targets, directoryListings };
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
