import pLimit from 'p-limit';
import { objectReadsOf } from '../collect/buckets.js';
import type { AwsClients } from '../collect/clients.js';
import { type BucketCheckpoint, collectSingleBucket } from '../collect/scan.js';
import { ConfigError } from '../errors.js';
import { chunkedObjectSink } from '../report-store/object-chunks.js';
import type { WorkArea } from '../report-store/work-area.js';
import { partsPlanPath, planObjectParts } from './object-parts.js';
import {
  type BucketItem,
  bucketPath,
  checkpointPath,
  type DistributedPlan,
  type PlannedBucket,
  readPlan,
} from './plan.js';

/**
 * Step 2 (one map item): collect one bucket. Stops before the Lambda timeout with a checkpoint
 * and answers `done: false`; the state machine calls again with the same item until done.
 */
export async function scanBucketStep(options: {
  /** The scanner's own clients: its own account's buckets. */
  clients: AwsClients;
  /** A member account's clients, through the plan's member role (organisation-wide scans). */
  memberClients?: MemberClients;
  work: WorkArea;
  item: BucketItem;
  concurrency: number;
  signal?: AbortSignal;
}): Promise<{ done: boolean; item: BucketItem }> {
  const { work, item } = options;
  if (await work.get(bucketPath(item.bucket, item.account))) return { done: true, item };
  const plan = await readPlan(work, `scan ${item.scanId}`);
  const listed = plan.buckets.find(
    (b) => b.bucket === item.bucket && (b.account ?? undefined) === item.account,
  );
  if (!listed)
    throw new ConfigError(
      `bucket ${item.bucket}${item.account ? ` of account ${item.account}` : ''} is not in the plan of scan ${item.scanId}`,
    );
  const member = item.account !== undefined && item.account !== plan.accountId;
  if (member && (!plan.memberRole || !options.memberClients))
    throw new ConfigError(
      `bucket ${item.bucket} belongs to member account ${item.account}, but ${plan.memberRole ? 'this step has no member role access' : 'the plan names no member role'}`,
    );
  const clients =
    member && plan.memberRole && options.memberClients
      ? options.memberClients(item.account!, plan.memberRole, plan.scanId)
      : options.clients;
  try {
    return await scanWith(clients, plan, listed, options);
  } finally {
    if (clients !== options.clients) clients.destroy();
  }
}

/** Clients for a member account through its role; the host caches the role's credentials. */
export type MemberClients = (
  account: string,
  role: { roleName: string; externalId?: string },
  scanId: string,
) => AwsClients;

async function scanWith(
  clients: AwsClients,
  plan: DistributedPlan,
  listed: PlannedBucket,
  options: { work: WorkArea; item: BucketItem; concurrency: number; signal?: AbortSignal },
): Promise<{ done: boolean; item: BucketItem }> {
  const { work, item } = options;
  let resume = await work.get<BucketCheckpoint>(checkpointPath(item.bucket, item.account));
  const startPage = resume && resume.sweep !== 'pending' ? resume.sweep.pagesDone : 0;
  const target = {
    name: item.bucket,
    region: item.region,
    ...(listed.creationDate ? { creationDate: listed.creationDate } : {}),
    ...(listed.kind ? { kind: listed.kind } : {}),
  };
  const account = { accountId: listed.account ?? plan.accountId, partition: plan.partition };
  if (!resume && plan.objectFanOut && plan.objects) {
    // Bucket-level reads first; then, when the objects fan out (inventory files, key-space
    // partitions), they become items of the object-parts map and this step is done.
    const read = await collectSingleBucket({
      clients,
      target,
      account,
      concurrency: options.concurrency,
      scanTime: new Date(plan.scanTime),
      reads: objectReadsOf(plan.objects.mode),
      signal: options.signal,
    }).catch((error: unknown) => {
      if (options.signal?.aborted) return undefined;
      throw error;
    });
    if (!read || !('bucket' in read)) return { done: false, item };
    const limiter = pLimit(options.concurrency);
    const parts = await planObjectParts({
      clients,
      plan,
      bucket: read.bucket,
      listed,
      limit: (fn) => limiter(fn),
      signal: options.signal,
    });
    if (parts) {
      await work.put(partsPlanPath(item.bucket, item.account), parts);
      await work.put(bucketPath(item.bucket, item.account), read.bucket);
      return { done: true, item };
    }
    resume = { bucket: read.bucket, sweep: 'pending' };
  }
  let result: Awaited<ReturnType<typeof collectSingleBucket>>;
  try {
    result = await collectSingleBucket({
      clients,
      target,
      account,
      concurrency: options.concurrency,
      scanTime: new Date(plan.scanTime),
      ...(plan.objects
        ? {
            objects: {
              ...plan.objects,
              sinkFor: (bucket) => chunkedObjectSink(work, bucket, startPage),
            },
          }
        : {}),
      signal: options.signal,
      resume,
    });
  } catch (error) {
    // Aborted before the sweep began: nothing to keep, the next call starts this bucket again.
    if (options.signal?.aborted) return { done: false, item };
    throw error;
  }
  if ('checkpoint' in result) {
    await work.put(checkpointPath(item.bucket, item.account), result.checkpoint);
    return { done: false, item };
  }
  await work.put(bucketPath(item.bucket, item.account), result.bucket);
  return { done: true, item };
}
