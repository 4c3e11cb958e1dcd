import type { AwsClients } from '../collect/clients.js';
import { type BucketCheckpoint, collectSingleBucket } from '../collect/scan.js';
import { chunkedObjectSink } from '../report-store/object-chunks.js';
import type { WorkArea } from '../report-store/work-area.js';
import { type BucketItem, bucketPath, checkpointPath, readPlan } from './plan.js';

/**
 * Step 2 (one map item): collect one bucket. Stops before the Lambda timeout with a checkpoint
 * and answers `done: false`; the state machine calls again with the same item until done.
 */
export async function scanBucketStep(options: {
  clients: AwsClients;
  work: WorkArea;
  item: BucketItem;
  concurrency: number;
  signal?: AbortSignal;
}): Promise<{ done: boolean; item: BucketItem }> {
  const { work, item } = options;
  if (await work.get(bucketPath(item.bucket))) return { done: true, item };
  const plan = await readPlan(work, `scan ${item.scanId}`);
  const listed = plan.buckets.find((b) => b.bucket === item.bucket);
  const resume = await work.get<BucketCheckpoint>(checkpointPath(item.bucket));
  const startPage = resume && resume.sweep !== 'pending' ? resume.sweep.pagesDone : 0;
  let result: Awaited<ReturnType<typeof collectSingleBucket>>;
  try {
    result = await collectSingleBucket({
      clients: options.clients,
      target: {
        name: item.bucket,
        region: item.region,
        ...(listed?.creationDate ? { creationDate: listed.creationDate } : {}),
      },
      account: { accountId: plan.accountId, partition: plan.partition },
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
      ...(options.signal ? { signal: options.signal } : {}),
      ...(resume ? { resume } : {}),
    });
  } catch (error) {
    // Aborted before the sweep began: nothing to keep, the next call starts this bucket again.
    if (options.signal?.aborted) return { done: false, item };
    throw error;
  }
  if ('checkpoint' in result) {
    await work.put(checkpointPath(item.bucket), result.checkpoint);
    return { done: false, item };
  }
  await work.put(bucketPath(item.bucket), result.bucket);
  return { done: true, item };
}
