import pLimit from 'p-limit';
import type { AwsClients } from '../collect/clients.js';
import { enumerateBuckets } from '../collect/scan.js';
import type { LoadedConfig } from '../config/config.js';
import type { WorkArea } from '../report-store/work-area.js';
import { type ObjectRequest, objectOptions } from '../scan/run-scan.js';
import { type BucketItem, type DistributedPlan, ITEMS, PLAN } from './plan.js';

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
  objects?: ObjectRequest;
  /** The loaded config: its scan settings shape the object sweep, its document goes in the plan. */
  config: LoadedConfig;
}): Promise<{ scanId: string; itemsKey: string; buckets: number }> {
  const limit = pLimit(8);
  const { accountId, partition, callerArn, targets } = await enumerateBuckets(
    options.clients,
    { buckets: options.buckets ?? [], regions: options.regions ?? [] },
    (fn) => limit(fn),
  );
  const plan: DistributedPlan = {
    scanId: options.scanId,
    scanTime: options.now.toISOString(),
    accountId,
    partition,
    callerArn,
    ...(options.objects ? { objects: objectOptions(options.objects, options.config) } : {}),
    config: { document: options.config.document, provenance: options.config.provenance },
    scope: { buckets: options.buckets ?? [], regions: options.regions ?? [] },
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
