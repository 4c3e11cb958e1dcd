import { createHash } from 'node:crypto';
import { ListObjectsV2Command, ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import { errorCode } from '../../aws/errors.js';
import type { ObjectObservation } from '../../evidence/object-observation.js';
import type { ObjectScanEvidence } from '../../evidence/types.js';
import type { Limiter } from '../buckets.js';
import { abortOption } from '../probe.js';
import { ObjectAggregator } from './aggregate.js';
import { classifyHead, classifyHeadError } from './classify.js';
import {
  directHeadObject,
  type HeadObjectFn,
  type HeadTransport,
  sdkHeadObject,
} from './direct-head.js';
import {
  DEFAULT_PREFIX_CONCURRENCY,
  type PrefixLimiter,
  prefixLimiter,
  prefixOf,
} from './prefix-limit.js';

/** IAM actions the object sweep needs (HeadObject is authorised by s3:GetObject). */
export const OBJECT_IAM_ACTIONS = [
  's3:ListBucket',
  's3:ListBucketVersions',
  's3:GetObject',
  's3:GetObjectVersion',
] as const;

/** Where an interrupted sweep stands: enough to continue it and end with the same aggregates. */
export interface SweepCheckpoint {
  bucket: string;
  mode: 'sample' | 'full';
  versions: boolean;
  /** The listing position of the first page not yet folded into `aggregates`. */
  continuationToken?: string;
  keyMarker?: string;
  versionIdMarker?: string;
  pagesDone: number;
  aggregates: ObjectScanEvidence;
}

/** What to sweep and how. */
export interface SweepOptions {
  s3: S3Client;
  bucket: string;
  /** ExpectedBucketOwner on every call. */
  owner: string;
  mode: 'sample' | 'full';
  /** Also HEAD noncurrent versions (ListObjectVersions). */
  versions: boolean;
  /** Objects per bucket in sample mode. */
  sampleSize: number;
  /** Sample mode lists at most this many keys to choose from. */
  sampleListLimit?: number;
  limit: Limiter;
  /**
   * HEADs in flight per key prefix (default 100), on top of `limit`: keeps one hot prefix
   * under S3's per-prefix request rate while other prefixes proceed.
   */
  prefixConcurrency?: number;
  /**
   * `direct` (the default) signs HeadObject with the client's credentials and endpoint rules
   * and sends it on a keep-alive socket, at a fifth of the SDK's CPU per call; it falls back
   * to the SDK for mocked or wrapped clients and S3 Express. `sdk` always uses `s3.send`.
   */
  headTransport?: HeadTransport;
  signal?: AbortSignal;
  /**
   * Sweep only part of the key space (see {@link planPartitions}): the keys under `prefix`,
   * or with `rootOnly` the keys with no `/` at all. Partitions are swept apart (in parallel,
   * as items of their own) and their aggregates merged by `mergeAggregates(…, 'smallest-keys')`.
   */
  partition?: KeyPartition;
  /** Receives every observation once, in listing order, as its page completes. */
  onObject?: (observation: ObjectObservation) => void;
  /**
   * Awaited after each page is handed to `onObject`: the rows' writer has room again. A sweep
   * never runs ahead of its CSV, so its memory stays that of the pages in flight.
   */
  whenWritten?: () => Promise<void>;
  /** Told after each listing page and each classified page: objects listed and classified so far. */
  onProgress?: (progress: SweepProgress) => void;
  resume?: SweepCheckpoint;
}

/** How far a sweep has come: objects listed, and objects classified (their pages folded). */
export interface SweepProgress {
  listed: number;
  classified: number;
}

/** A finished sweep, or where an aborted one stopped. */
export type SweepResult = { evidence: ObjectScanEvidence } | { checkpoint: SweepCheckpoint };

interface Listed {
  key: string;
  versionId?: string;
  isLatest: boolean;
  size: number;
  lastModified?: string;
  storageClass: string;
  deleteMarker?: boolean;
}

/** The options of one sweep run, with its per-prefix limiter and HeadObject sender. */
type Sweep = SweepOptions & { byPrefix: PrefixLimiter; headObject: HeadObjectFn };

async function head(options: Sweep, object: Listed): Promise<ObjectObservation> {
  const base = {
    key: object.key,
    ...(object.versionId !== undefined ? { versionId: object.versionId } : {}),
    isLatest: object.isLatest,
    size: object.size,
    ...(object.lastModified ? { lastModified: object.lastModified } : {}),
    storageClass: object.storageClass,
  };
  if (object.deleteMarker) return { ...base, outcome: { kind: 'delete-marker' } };
  try {
    // The prefix slot is taken first, so a hot prefix queues without holding global slots.
    const output = await options.byPrefix(prefixOf(object.key), () =>
      options.limit(() =>
        options.headObject(
          {
            key: object.key,
            ...(object.versionId !== undefined ? { versionId: object.versionId } : {}),
          },
          options.signal,
        ),
      ),
    );
    return {
      ...base,
      lastModified: output.LastModified?.toISOString() ?? object.lastModified,
      storageClass: output.StorageClass ?? object.storageClass,
      outcome: classifyHead(output),
    } as ObjectObservation;
  } catch (error) {
    if (options.signal?.aborted) throw error;
    return { ...base, outcome: classifyHeadError(error) };
  }
}

/** A part of a bucket's key space: the keys under a prefix, or the keys with no `/`. */
export interface KeyPartition {
  prefix: string;
  rootOnly?: boolean;
}

/** The listing parameters of a partition. */
const partitionInput = (partition: KeyPartition | undefined) =>
  partition ? { Prefix: partition.prefix, ...(partition.rootOnly ? { Delimiter: '/' } : {}) } : {};

/**
 * Splits a bucket's key space for a parallel sweep: one partition per top-level prefix (from
 * a `/`-delimited listing) and one for the keys at the root. Together they hold every key
 * exactly once; a bucket without `/` in its keys is one partition.
 */
export async function planPartitions(options: {
  s3: S3Client;
  bucket: string;
  owner: string;
  limit: Limiter;
  signal?: AbortSignal;
}): Promise<KeyPartition[]> {
  const prefixes: string[] = [];
  let token: string | undefined;
  do {
    const out = await options.limit(() =>
      options.s3.send(
        new ListObjectsV2Command({
          Bucket: options.bucket,
          ExpectedBucketOwner: options.owner,
          Delimiter: '/',
          MaxKeys: 1000,
          ...(token ? { ContinuationToken: token } : {}),
        }),
        abortOption(options.signal),
      ),
    );
    for (const p of out.CommonPrefixes ?? []) if (p.Prefix) prefixes.push(p.Prefix);
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  if (prefixes.length === 0) return [{ prefix: '' }];
  return [{ prefix: '', rootOnly: true }, ...prefixes.map((prefix) => ({ prefix }))];
}

interface Page {
  objects: Listed[];
  next?: { continuationToken?: string; keyMarker?: string; versionIdMarker?: string };
}

async function listPage(
  options: SweepOptions,
  position: Omit<SweepCheckpoint, 'bucket' | 'mode' | 'versions' | 'aggregates' | 'pagesDone'>,
): Promise<Page> {
  if (options.versions) {
    // ListObjectVersions has no SDK paginator: loop on NextKeyMarker + NextVersionIdMarker.
    const out = await options.limit(() =>
      options.s3.send(
        new ListObjectVersionsCommand({
          Bucket: options.bucket,
          ExpectedBucketOwner: options.owner,
          MaxKeys: 1000,
          ...partitionInput(options.partition),
          ...(position.keyMarker !== undefined ? { KeyMarker: position.keyMarker } : {}),
          ...(position.versionIdMarker !== undefined
            ? { VersionIdMarker: position.versionIdMarker }
            : {}),
        }),
        abortOption(options.signal),
      ),
    );
    const objects: Listed[] = [
      ...(out.Versions ?? []).map((v) => ({
        key: v.Key ?? '',
        versionId: v.VersionId ?? 'null',
        isLatest: v.IsLatest === true,
        size: v.Size ?? 0,
        ...(v.LastModified ? { lastModified: new Date(v.LastModified).toISOString() } : {}),
        storageClass: v.StorageClass ?? 'STANDARD',
      })),
      ...(out.DeleteMarkers ?? []).map((m) => ({
        key: m.Key ?? '',
        versionId: m.VersionId ?? 'null',
        isLatest: m.IsLatest === true,
        size: 0,
        storageClass: 'NONE',
        deleteMarker: true,
      })),
    ];
    return {
      objects,
      ...(out.IsTruncated
        ? {
            next: {
              keyMarker: out.NextKeyMarker ?? '',
              versionIdMarker: out.NextVersionIdMarker ?? '',
            },
          }
        : {}),
    };
  }
  const out = await options.limit(() =>
    options.s3.send(
      new ListObjectsV2Command({
        Bucket: options.bucket,
        ExpectedBucketOwner: options.owner,
        MaxKeys: 1000,
        ...partitionInput(options.partition),
        ...(position.continuationToken !== undefined
          ? { ContinuationToken: position.continuationToken }
          : {}),
      }),
      abortOption(options.signal),
    ),
  );
  return {
    objects: (out.Contents ?? []).map((o) => ({
      key: o.Key ?? '',
      isLatest: true,
      size: o.Size ?? 0,
      ...(o.LastModified ? { lastModified: new Date(o.LastModified).toISOString() } : {}),
      storageClass: o.StorageClass ?? 'STANDARD',
    })),
    ...(out.IsTruncated && out.NextContinuationToken
      ? { next: { continuationToken: out.NextContinuationToken } }
      : {}),
  };
}

/** A stable, uniform rank of a key: the sample is the `sampleSize` keys of lowest rank. */
function rank(key: string, versionId?: string): string {
  return createHash('sha1')
    .update(`${key}\u0000${versionId ?? ''}`)
    .digest('hex');
}

async function sweepSample(options: Sweep): Promise<SweepResult> {
  const aggregator = new ObjectAggregator('sample', options.versions);
  const limitKeys = options.sampleListLimit ?? 1_000_000;
  let kept: { rank: string; object: Listed }[] = [];
  let position: Page['next'] = {};
  let listedCount = 0;
  let listFailed = false;
  try {
    while (position && listedCount < limitKeys) {
      const page = await listPage(options, position);
      listedCount += page.objects.length;
      options.onProgress?.({ listed: listedCount, classified: 0 });
      for (const object of page.objects)
        kept.push({ rank: rank(object.key, object.versionId), object });
      // Bottom-k by hash rank: deterministic, spread over the whole listing, constant memory.
      if (kept.length > options.sampleSize * 4) {
        kept.sort((a, b) => (a.rank < b.rank ? -1 : 1));
        kept = kept.slice(0, options.sampleSize);
      }
      position = page.next;
    }
  } catch (error) {
    if (options.signal?.aborted) throw error;
    aggregator.listFailed(errorCode(error), String((error as Error).message));
    listFailed = true;
  }
  aggregator.listed(listedCount);
  kept.sort((a, b) => (a.rank < b.rank ? -1 : 1));
  const sample = kept.slice(0, options.sampleSize).map((k) => k.object);
  sample.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const observations = await Promise.all(sample.map((object) => head(options, object)));
  for (const observation of observations) {
    aggregator.add(observation);
    options.onObject?.(observation);
  }
  return { evidence: aggregator.result(position === undefined && !listFailed) };
}

/** Listing pages launched (listed or being HEADed) and not yet folded into the aggregates. */
const PAGES_IN_FLIGHT = 3;

type Position = NonNullable<Page['next']>;

/** A page on its way: its listing, then the HEADs of every object on it. */
interface LaunchedPage {
  position: Position;
  listed: Promise<Page>;
  observed: Promise<ObjectObservation[]>;
}

async function sweepFull(options: Sweep): Promise<SweepResult> {
  const resume = options.resume;
  const aggregator = new ObjectAggregator('full', options.versions, resume?.aggregates);
  let pagesDone = resume?.pagesDone ?? 0;
  // Where the next listing starts; undefined once the last page is listed.
  let nextPosition: Position | undefined = resume
    ? {
        ...(resume.continuationToken !== undefined
          ? { continuationToken: resume.continuationToken }
          : {}),
        ...(resume.keyMarker !== undefined ? { keyMarker: resume.keyMarker } : {}),
        ...(resume.versionIdMarker !== undefined
          ? { versionIdMarker: resume.versionIdMarker }
          : {}),
      }
    : {};
  let listing = false;
  const window: LaunchedPage[] = [];
  const counts: SweepProgress = {
    listed: resume?.aggregates.listed ?? 0,
    classified: resume?.aggregates.listed ?? 0,
  };

  // Keeps the limiter fed across page boundaries: each listing is queued before the HEADs of
  // the page before it finish, and a listed page queues its HEADs at once. Pages still fold
  // in order, so a checkpoint always points at the first page not yet counted.
  const launch = (): void => {
    if (listing || !nextPosition || window.length >= PAGES_IN_FLIGHT) return;
    const position: Position = nextPosition;
    listing = true;
    const listed = listPage(options, position);
    const observed = listed.then((page) => {
      listing = false;
      nextPosition = page.next;
      counts.listed += page.objects.length;
      options.onProgress?.(counts);
      launch();
      return Promise.all(page.objects.map((object) => head(options, object)));
    });
    observed.catch(() => undefined);
    window.push({ position, listed, observed });
  };

  launch();
  for (let launched = window[0]; launched; launched = window[0]) {
    try {
      const page = await launched.listed;
      const observations = await launched.observed;
      window.shift();
      // A page counts only once all of it is classified, so a resume never counts twice.
      aggregator.listed(page.objects.length);
      for (const observation of observations) {
        aggregator.add(observation);
        options.onObject?.(observation);
      }
      pagesDone += 1;
      counts.classified += page.objects.length;
      options.onProgress?.(counts);
      await options.whenWritten?.();
      launch();
    } catch (error) {
      if (options.signal?.aborted) {
        return {
          checkpoint: {
            bucket: options.bucket,
            mode: 'full',
            versions: options.versions,
            ...launched.position,
            pagesDone,
            aggregates: aggregator.result(false),
          },
        };
      }
      aggregator.listFailed(errorCode(error), String((error as Error).message));
      return { evidence: aggregator.result(false) };
    }
  }
  return { evidence: aggregator.result(true) };
}

/**
 * Classifies a bucket's objects with HeadObject (no KMS permission or quota needed): every
 * object (`full`, optionally every version) or a deterministic sample (`sample`). Memory stays
 * bounded by one listing page; the per-object rows go to `onObject`. On abort, a `full` sweep
 * returns a checkpoint that `resume` continues from.
 */
export async function sweepBucket(options: SweepOptions): Promise<SweepResult> {
  const direct =
    options.headTransport === 'sdk'
      ? undefined
      : await directHeadObject(options.s3, options.bucket, options.owner);
  const sweep: Sweep = {
    ...options,
    byPrefix: prefixLimiter(options.prefixConcurrency ?? DEFAULT_PREFIX_CONCURRENCY),
    headObject: direct ?? sdkHeadObject(options.s3, options.bucket, options.owner),
  };
  return sweep.mode === 'sample' ? sweepSample(sweep) : sweepFull(sweep);
}
