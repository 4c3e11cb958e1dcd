import pLimit from 'p-limit';
import { collectAccessPoints } from '../collect/access-points.js';
import type { AwsClients } from '../collect/clients.js';
import { emptyStats } from '../collect/options.js';
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
import { addPolicyLayers, judgeAndStore } from '../scan/run-scan.js';
import { TOOL_VERSION } from '../version.js';
import { mergeObjectParts, type ObjectPartsPlan, partsPlanPath } from './object-parts.js';
import {
  bucketPath,
  type DistributedPlan,
  type PlannedBucket,
  planConfig,
  readPlan,
} from './plan.js';
import type { MemberClients } from './scan-bucket.js';

/** Evidence for a bucket whose map item failed for good: every probe says so, rules say ERROR. */
function failedBucket(plan: DistributedPlan, bucket: PlannedBucket): BucketEvidence {
  const failure = {
    error: 'ScanStepFailed',
    message: 'the per-bucket step failed after its retries; see the state machine execution',
  };
  const accountId = bucket.account ?? plan.accountId;
  return {
    name: bucket.bucket,
    ...(bucket.kind ? { kind: bucket.kind } : {}),
    arn:
      bucket.kind === 'directory'
        ? `arn:${plan.partition}:s3express:${bucket.region}:${accountId}:bucket/${bucket.bucket}`
        : `arn:${plan.partition}:s3:::${bucket.bucket}`,
    region: bucket.region,
    accountId,
    partition: plan.partition,
    encryption: failure,
    policy: failure,
    policyStatus: failure,
    versioning: failure,
    inventoryConfigurations: failure,
  };
}

/** What finishScan answers. */
export interface FinishedScan {
  scanId: string;
  report: string;
  summary: ScanSummaryFile;
  failedBuckets: string[];
  config: LoadedConfig;
  /** The scan was published by an earlier attempt of this step: nothing was judged again. */
  alreadyPublished: boolean;
}

/** What finishing a scan needs: the scanner's clients, members' clients, the work area, the store. */
interface FinishOptions {
  clients: AwsClients;
  /** A member account's clients: its buckets' KMS keys are read as that account. */
  memberClients?: MemberClients;
  work: WorkArea;
  store: ReportStore;
}

/**
 * Step 3: assemble the evidence (a failed bucket becomes ERROR findings, never a silent gap),
 * collect KMS facts once per key, evaluate and publish the report (index.json last).
 */
export async function finishScan(options: FinishOptions): Promise<FinishedScan> {
  const plan = await readPlan(options.work, 'the scan to finish');
  // Validated before any read: a snapshot that no longer validates publishes nothing.
  const config = planConfig(plan);
  const earlier = await publishedEarlier(options.store, plan.scanId, config);
  if (earlier) return earlier;
  const limit = pLimit(16);
  const { buckets, failedBuckets } = await bucketEvidenceOf(options.work, plan, limit);
  const kmsKeys = await accountFacts(options, plan, buckets, limit);
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
    ...(plan.accounts ? { accounts: plan.accounts } : {}),
    ...(plan.directoryListings ? { directoryListings: plan.directoryListings } : {}),
  };
  const organizationsStats = emptyStats();
  await addPolicyLayers(
    evidence,
    plan.accounts
      ? plan.accounts.filter((a) => a.status === 'scanned').map((a) => a.accountId)
      : [plan.accountId],
    options.clients,
    config,
    organizationsStats,
  );
  // A bucket that failed for good may have left chunks of a partial listing: not published.
  const failed = new Set(failedBuckets);
  const objectFiles = await objectFilesFromChunks(
    options.work,
    evidence.buckets.filter((b) => !failed.has(b.name) && !failed.has(`${b.accountId}/${b.name}`)),
  );
  const { summary, report } = await judgeAndStore(evidence, config, {
    store: options.store,
    source: 'scan',
    collection: {
      failedBuckets: failedBuckets.length,
      organizationsCalls: organizationsStats.organizationsCalls,
    },
    objectFiles,
    ...(plan.scope ? { scope: plan.scope } : {}),
  });
  if (!report) throw new ReportStoreError(`scan ${plan.scanId} was judged but not stored`);
  return {
    scanId: summary.scanId,
    report,
    summary,
    failedBuckets: failedBuckets.sort(),
    config,
    alreadyPublished: false,
  };
}

/**
 * A retried finalize (it died after index.json, e.g. while alerting) goes on from there:
 * stored scans are immutable, so it is read back, never written twice. Also when that attempt
 * stored it under a new id (`retryOf`: an even earlier attempt had left files under the
 * plan's id).
 */
async function publishedEarlier(
  store: ReportStore,
  scanId: string,
  config: LoadedConfig,
): Promise<FinishedScan | undefined> {
  const index = await store.readIndex();
  const published = index?.scans.find((s) => s.scanId === scanId || s.retryOf === scanId);
  if (!published) return undefined;
  const { summary } = await store.readScan(published.scanId);
  return {
    scanId: published.scanId,
    report: store.describe(published.scanId),
    summary,
    failedBuckets: [],
    config,
    alreadyPublished: true,
  };
}

/** Each planned bucket's evidence from the work area; a bucket with none failed for good. */
async function bucketEvidenceOf(
  work: WorkArea,
  plan: DistributedPlan,
  limit: ReturnType<typeof pLimit>,
): Promise<{ buckets: BucketEvidence[]; failedBuckets: string[] }> {
  const failedBuckets: string[] = [];
  const buckets = await Promise.all(
    plan.buckets.map((b) =>
      limit(async () => {
        const evidence = await work.get<BucketEvidence>(bucketPath(b.bucket, b.account));
        if (evidence) return evidence;
        failedBuckets.push(b.account ? `${b.account}/${b.bucket}` : b.bucket);
        return failedBucket(plan, b);
      }),
    ),
  );
  return { buckets, failedBuckets };
}

/**
 * Per account, as that account (a member's key policy may admit only its own account): the
 * fanned-out buckets' object parts merged, the access points, and the KMS facts once per key.
 */
async function accountFacts(
  options: FinishOptions,
  plan: DistributedPlan,
  buckets: BucketEvidence[],
  limit: ReturnType<typeof pLimit>,
): Promise<ScanEvidence['kmsKeys']> {
  const kmsKeys: ScanEvidence['kmsKeys'] = {};
  const byAccount = new Map<string, BucketEvidence[]>();
  for (const bucket of buckets)
    byAccount.set(bucket.accountId, [...(byAccount.get(bucket.accountId) ?? []), bucket]);
  for (const [accountId, owned] of byAccount) {
    const member = accountId !== plan.accountId && plan.memberRole && options.memberClients;
    const clients = member
      ? options.memberClients!(accountId, plan.memberRole!, plan.scanId)
      : options.clients;
    try {
      // Fanned-out buckets: their object parts merged, in order, before the key facts
      // (objects name KMS keys too).
      await Promise.all(
        owned.map(async (bucket) => {
          const listed = plan.buckets.find(
            (b) => b.bucket === bucket.name && (b.account ?? plan.accountId) === bucket.accountId,
          );
          const parts = await options.work.get<ObjectPartsPlan>(
            partsPlanPath(bucket.name, listed?.account),
          );
          if (!parts) return;
          bucket.objects = await mergeObjectParts({
            clients,
            work: options.work,
            bucket,
            parts,
            versions: plan.objects?.versions ?? false,
            limit: (fn) => limit(fn),
          });
        }),
      );
      // Access points: one listing per region of the account, then each one's policy.
      await collectAccessPoints(clients, accountId, owned, (fn) => limit(fn));
      Object.assign(kmsKeys, await collectKeyFacts(clients, owned, (fn) => limit(fn)));
    } finally {
      if (clients !== options.clients) clients.destroy();
    }
  }
  return kmsKeys;
}
