import pLimit from 'p-limit';
import type { AwsClients } from '../collect/clients.js';
import { collectKeyFacts } from '../collect/scan.js';
import type { LoadedConfig } from '../config/config.js';
import { ReportStoreError } from '../errors.js';
import {
  type BucketEvidence,
  EVIDENCE_SCHEMA_VERSION,
  type ScanEvidence,
} from '../evidence/types.js';
import { objectFilesFromChunks } from '../report-store/object-chunks.js';
import type { ReportStore, ScanSummaryFile } from '../report-store/types.js';
import type { WorkArea } from '../report-store/work-area.js';
import { judgeAndStore } from '../scan/run-scan.js';
import { TOOL_VERSION } from '../version.js';
import { bucketPath, type DistributedPlan, planConfig, readPlan } from './plan.js';

/** Evidence for a bucket whose map item failed for good: every probe says so, rules say ERROR. */
function failedBucket(
  plan: DistributedPlan,
  bucket: { bucket: string; region: string },
): BucketEvidence {
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
  summary: ScanSummaryFile;
  failedBuckets: string[];
  config: LoadedConfig;
  /** The scan was published by an earlier attempt of this step: nothing was judged again. */
  alreadyPublished: boolean;
}> {
  const plan = await readPlan(options.work, 'the scan to finish');
  // Validated before any read: a snapshot that no longer validates publishes nothing.
  const config = planConfig(plan);
  // A retried finalize (it died after index.json, e.g. while alerting) goes on from there:
  // stored scans are immutable, so it is read back, never written twice.
  const index = await options.store.readIndex();
  if (index?.scans.some((s) => s.scanId === plan.scanId)) {
    const { summary } = await options.store.readScan(plan.scanId);
    return {
      scanId: plan.scanId,
      report: options.store.describe(plan.scanId),
      summary,
      failedBuckets: [],
      config,
      alreadyPublished: true,
    };
  }
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
  // A bucket that failed for good may have left chunks of a partial listing: not published.
  const failed = new Set(failedBuckets);
  const objectFiles = await objectFilesFromChunks(
    options.work,
    evidence.buckets.filter((b) => !failed.has(b.name)),
  );
  const { summary, report } = await judgeAndStore(evidence, config, {
    store: options.store,
    source: 'scan',
    collection: { failedBuckets: failedBuckets.length },
    objectFiles,
    ...(plan.scope ? { scope: plan.scope } : {}),
  });
  if (!report) throw new ReportStoreError(`scan ${plan.scanId} was judged but not stored`);
  return {
    scanId: plan.scanId,
    report,
    summary,
    failedBuckets: failedBuckets.sort(),
    config,
    alreadyPublished: false,
  };
}
