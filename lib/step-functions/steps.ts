import pLimit from 'p-limit';
import type { AwsClients } from '../collect/clients.js';
import {
  type BucketCheckpoint,
  collectKeyFacts,
  collectSingleBucket,
  enumerateBuckets,
  type ObjectScanOptions,
} from '../collect/scan.js';
import type { EvaluationSummary } from '../engine/evaluate.js';
import { safeSegment } from '../evidence/paths.js';
import {
  type BucketEvidence,
  EVIDENCE_SCHEMA_VERSION,
  type ScanEvidence,
} from '../evidence/types.js';
import { chunkedObjectSink, objectFilesFromChunks } from '../report-store/object-chunks.js';
import type { ReportStore } from '../report-store/types.js';
import type { WorkArea } from '../report-store/work-area.js';
import { evaluateScan } from '../scan/evaluate-scan.js';
import { TOOL_VERSION } from '../version.js';

/** What enumerate decided: the scan every later step works on. */
export interface ScanPlan {
  scanId: string;
  scanTime: string;
  accountId: string;
  partition: string;
  callerArn: string;
  objects?: Omit<ObjectScanOptions, 'sinkFor'>;
  buckets: { bucket: string; region: string; creationDate?: string }[];
}

/** One item of the Distributed Map: a bucket of a scan. */
export interface BucketItem {
  scanId: string;
  bucket: string;
  region: string;
}

const PLAN = 'plan.json';
const ITEMS = 'items.json';
const bucketPath = (bucket: string) => `buckets/${safeSegment(bucket)}.json`;
const checkpointPath = (bucket: string) => `checkpoints/${safeSegment(bucket)}.json`;

/**
 * Step 1: enumerate the account's buckets, write the plan and the map's item list (S3 holds
 * it: thousands of buckets exceed the 256 KB state payload).
 */
export async function startScan(options: {
  clients: AwsClients;
  work: (scanId: string) => WorkArea;
  scanId: string;
  now: Date;
  buckets?: string[];
  regions?: string[];
  objects?: Omit<ObjectScanOptions, 'sinkFor'>;
}): Promise<{ scanId: string; itemsKey: string; buckets: number }> {
  const limit = pLimit(8);
  const { accountId, partition, callerArn, targets } = await enumerateBuckets(
    options.clients,
    { buckets: options.buckets ?? [], regions: options.regions ?? [] },
    (fn) => limit(fn),
  );
  const plan: ScanPlan = {
    scanId: options.scanId,
    scanTime: options.now.toISOString(),
    accountId,
    partition,
    callerArn,
    ...(options.objects ? { objects: options.objects } : {}),
    buckets: targets.map((t) => ({
      bucket: t.name,
      region: t.region,
      ...(t.creationDate ? { creationDate: t.creationDate } : {}),
    })),
  };
  const work = options.work(options.scanId);
  await work.put(PLAN, plan);
  const items: BucketItem[] = plan.buckets.map((b) => ({
    scanId: options.scanId,
    bucket: b.bucket,
    region: b.region,
  }));
  await work.put(ITEMS, items);
  return { scanId: options.scanId, itemsKey: work.keyOf(ITEMS), buckets: items.length };
}

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
  const plan = await work.get<ScanPlan>(PLAN);
  if (!plan) throw new Error(`scan ${item.scanId} has no plan`);
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

/** Evidence for a bucket whose map item failed for good: every probe says so, rules say ERROR. */
function failedBucket(plan: ScanPlan, bucket: { bucket: string; region: string }): BucketEvidence {
  const failure = {
    error: 'ScanStepFailed',
    message: 'the per-bucket step failed after its retries; see the state machine execution',
  };
  return {
    name: bucket.bucket,
    arn: `arn:${plan.partition}:s3:::${bucket.bucket}`,
    region: bucket.region,
    accountId: plan.accountId,
    partition: plan.partition,
    encryption: failure,
    policy: failure,
    policyStatus: failure,
    versioning: failure,
    inventoryConfigurations: failure,
  };
}

/**
 * Step 3: assemble the evidence (a failed bucket becomes ERROR findings, never a silent gap),
 * collect KMS facts once per key, evaluate and publish the report (index.json last).
 */
export async function finishScan(options: {
  clients: AwsClients;
  work: WorkArea;
  store: ReportStore;
}): Promise<{
  scanId: string;
  report: string;
  summary: EvaluationSummary;
  failedBuckets: string[];
}> {
  const plan = await options.work.get<ScanPlan>(PLAN);
  if (!plan) throw new Error('the scan has no plan');
  const limit = pLimit(16);
  const failedBuckets: string[] = [];
  const buckets = await Promise.all(
    plan.buckets.map((b) =>
      limit(async () => {
        const evidence = await options.work.get<BucketEvidence>(bucketPath(b.bucket));
        if (evidence) return evidence;
        failedBuckets.push(b.bucket);
        return failedBucket(plan, b);
      }),
    ),
  );
  const kmsKeys = await collectKeyFacts(options.clients, buckets, (fn) => limit(fn));
  const evidence: ScanEvidence = {
    schemaVersion: EVIDENCE_SCHEMA_VERSION,
    tool: { name: 's3scan', version: TOOL_VERSION },
    scanId: plan.scanId,
    scanTime: plan.scanTime,
    accountId: plan.accountId,
    partition: plan.partition,
    callerArn: plan.callerArn,
    buckets: buckets.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    kmsKeys,
  };
  const { findings, summary } = evaluateScan(evidence);
  // A bucket that failed for good may have left chunks of a partial listing: not published.
  const failed = new Set(failedBuckets);
  const objectFiles = await objectFilesFromChunks(
    options.work,
    evidence.buckets.filter((b) => !failed.has(b.name)),
  );
  const report = await options.store.writeScan({
    ...(objectFiles.length > 0 ? { objectFiles } : {}),
    summary: {
      schemaVersion: '1',
      source: 'scan',
      ...summary,
      collection: { failedBuckets: failedBuckets.length },
    },
    findings,
    evidence,
  });
  return { scanId: plan.scanId, report, summary, failedBuckets: failedBuckets.sort() };
}
