import type { FromSchema } from 'json-schema-to-ts';
import type { AwsClients } from '../collect/clients.js';
import { canonicalKeyRef } from '../collect/kms.js';
import {
  type ExampleOrder,
  mergeAggregates,
  ObjectAggregator,
} from '../collect/objects/aggregate.js';
import {
  findInventory,
  type InventoryDelivery,
  type InventoryManifest,
  inventorySource,
  readInventoryFile,
  readInventoryManifest,
} from '../collect/objects/inventory.js';
import {
  type KeyPartition,
  planPartitions,
  type SweepCheckpoint,
  sweepBucket,
} from '../collect/objects/sweep.js';
import { verifyInventoryPlaintext } from '../collect/objects/verify-plaintext.js';
import { ConfigError, InventoryUnavailableError } from '../errors.js';
import { safeSegment } from '../evidence/paths.js';
import type { BucketEvidence, ObjectScanEvidence } from '../evidence/types.js';
import type { WorkArea } from '../report-store/work-area.js';
import { ACCOUNT_ID_FIELD, BUCKET_NAME_FIELD, SCAN_ID_FIELD } from '../validation/fields.js';
import type { DistributedPlan, PlannedBucket } from './plan.js';

/**
 * How one bucket's objects are read as items of their own Distributed Map: an S3 Inventory
 * delivery's data files (one item a file), or a full sweep's key-space partitions (one item a
 * top-level prefix, plus the root). Each item's aggregates land in a file of their own, keyed
 * by the part's index, so a re-run item replaces its result and never adds to it; finalize
 * merges them in order, exactly as one pass would have.
 */
export type ObjectPartsPlan =
  | {
      kind: 'inventory-files';
      bucket: string;
      account?: string;
      region: string;
      delivery: Omit<InventoryDelivery, 'manifest'>;
      files: InventoryManifest['files'];
    }
  | {
      kind: 'partitions';
      bucket: string;
      account?: string;
      region: string;
      partitions: KeyPartition[];
    };

/** One item of the object-parts map, as the object-parts function validates it. */
export const OBJECT_PART_ITEM_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['scanId', 'bucket', 'part'],
  properties: {
    scanId: SCAN_ID_FIELD,
    bucket: BUCKET_NAME_FIELD,
    account: ACCOUNT_ID_FIELD,
    part: { type: 'integer', minimum: 0, maximum: 10_000_000 },
  },
} as const;

/** One item of the object-parts map (see {@link OBJECT_PART_ITEM_SCHEMA}). */
export type ObjectPartItem = FromSchema<typeof OBJECT_PART_ITEM_SCHEMA>;

/** The file name of the whole object-parts item list (the second map's ItemReader). */
export const PART_ITEMS = 'object-part-items.json';

const folderOf = (bucket: string, account?: string) =>
  `parts/${account ? `${safeSegment(account)}/` : ''}${safeSegment(bucket)}`;
export const partsPlanPath = (bucket: string, account?: string) =>
  `${folderOf(bucket, account)}/plan.json`;
export const partResultPath = (bucket: string, account: string | undefined, part: number) =>
  `${folderOf(bucket, account)}/result-${part}.json`;
const partCheckpointPath = (bucket: string, account: string | undefined, part: number) =>
  `${folderOf(bucket, account)}/checkpoint-${part}.json`;

/** The exact merge order of a plan's parts: file order, or S3's key order for partitions. */
const orderOf = (plan: ObjectPartsPlan): ExampleOrder =>
  plan.kind === 'inventory-files' ? 'in-order' : 'smallest-keys';

/**
 * Decides, for a bucket whose objects the plan reads, whether they fan out: a fresh inventory
 * (`inventory`, `auto`) becomes one part per data file; `full` one part per key-space
 * partition. Answers undefined when they do not (sampling, `auto` without a fresh inventory,
 * `inventory` that cannot be used): the bucket's own step reads its objects as before.
 */
export async function planObjectParts(options: {
  clients: AwsClients;
  plan: DistributedPlan;
  bucket: BucketEvidence;
  listed: PlannedBucket;
  limit: <T>(fn: () => Promise<T>) => Promise<T>;
  signal?: AbortSignal;
}): Promise<ObjectPartsPlan | undefined> {
  const { plan, bucket, listed, clients, limit } = options;
  const objects = plan.objects;
  if (!plan.objectFanOut || !objects || bucket.kind === 'directory') return undefined;
  const s3 = clients.s3(bucket.region);
  const where = {
    bucket: bucket.name,
    ...(listed.account ? { account: listed.account } : {}),
    region: bucket.region,
  };
  if (objects.mode === 'full')
    return {
      kind: 'partitions',
      ...where,
      partitions: await planPartitions({
        s3,
        bucket: bucket.name,
        owner: bucket.accountId,
        limit,
        signal: options.signal,
      }),
    };
  if (objects.mode !== 'inventory' && objects.mode !== 'auto') return undefined;
  try {
    const choice = await findInventory({
      s3ForBucket: () => s3,
      bucket: bucket.name,
      configurations:
        bucket.inventoryConfigurations && 'ok' in bucket.inventoryConfigurations
          ? bucket.inventoryConfigurations.ok
          : [],
      versions: objects.versions,
      scanTime: new Date(plan.scanTime),
      maxAgeDays: objects.maxInventoryAgeDays ?? 8,
      limit,
      signal: options.signal,
    });
    const { manifest, ...delivery } = await readInventoryManifest({
      s3,
      choice,
      limit,
      signal: options.signal,
    });
    return { kind: 'inventory-files', ...where, delivery, files: manifest.files };
  } catch (error) {
    if (options.signal?.aborted) throw error;
    // The bucket's own step reads it the one-process way, which records why.
    if (error instanceof InventoryUnavailableError) return undefined;
    throw error;
  }
}

/**
 * One object part: an inventory data file read into its aggregates, or a key-space partition
 * swept (checkpointing before the Lambda timeout; `done: false` asks to be called again). The
 * result replaces any earlier result of the same part.
 */
export async function scanObjectPartStep(options: {
  clients: AwsClients;
  work: WorkArea;
  item: ObjectPartItem;
  plan: DistributedPlan;
  limit: <T>(fn: () => Promise<T>) => Promise<T>;
  signal?: AbortSignal;
}): Promise<{ done: boolean; item: ObjectPartItem }> {
  const { work, item, plan } = options;
  const parts = await work.get<ObjectPartsPlan>(partsPlanPath(item.bucket, item.account));
  if (!parts)
    throw new ConfigError(`bucket ${item.bucket} of scan ${item.scanId} has no object parts`);
  const resultPath = partResultPath(item.bucket, item.account, item.part);
  if (await work.get(resultPath)) return { done: true, item };
  const s3 = options.clients.s3(parts.region);
  const signal = options.signal ? { signal: options.signal } : {};
  if (parts.kind === 'inventory-files') {
    const file = parts.files[item.part];
    if (!file)
      throw new ConfigError(`inventory part ${item.part} of ${item.bucket} does not exist`);
    try {
      const evidence = await readInventoryFile({
        s3,
        delivery: parts.delivery,
        file,
        limit: options.limit,
        ...signal,
      });
      await work.put(resultPath, { evidence });
    } catch (error) {
      if (options.signal?.aborted) return { done: false, item };
      if (!(error instanceof InventoryUnavailableError)) throw error;
      // A bad file makes the delivery unusable: said, never half-read.
      await work.put(resultPath, { failed: `${error.code}: ${error.message}` });
    }
    return { done: true, item };
  }
  const partition = parts.partitions[item.part];
  if (!partition) throw new ConfigError(`partition ${item.part} of ${item.bucket} does not exist`);
  const objects = plan.objects;
  if (!objects) throw new ConfigError(`scan ${item.scanId} reads no objects`);
  const checkpointPath = partCheckpointPath(item.bucket, item.account, item.part);
  const resume = await work.get<SweepCheckpoint>(checkpointPath);
  const result = await sweepBucket({
    s3,
    bucket: item.bucket,
    owner: item.account ?? plan.accountId,
    mode: 'full',
    versions: objects.versions,
    sampleSize: objects.sampleSize,
    prefixConcurrency: objects.prefixConcurrency,
    headTransport: objects.headTransport,
    limit: options.limit,
    partition,
    resume,
    ...signal,
  }).catch((error: unknown) => {
    if (options.signal?.aborted) return undefined;
    throw error;
  });
  if (!result) return { done: false, item };
  if ('checkpoint' in result) {
    await work.put(checkpointPath, result.checkpoint);
    return { done: false, item };
  }
  await work.put(resultPath, { evidence: result.evidence });
  return { done: true, item };
}

/** Every bucket's object parts as one item list, for the object-parts map. */
export async function planPartItems(
  work: WorkArea,
  plan: DistributedPlan,
): Promise<{ itemsKey: string; parts: number }> {
  const items: ObjectPartItem[] = [];
  for (const bucket of plan.buckets) {
    const parts = await work.get<ObjectPartsPlan>(partsPlanPath(bucket.bucket, bucket.account));
    if (!parts) continue;
    const count = parts.kind === 'inventory-files' ? parts.files.length : parts.partitions.length;
    for (let part = 0; part < count; part++)
      items.push({
        scanId: plan.scanId,
        bucket: bucket.bucket,
        ...(bucket.account ? { account: bucket.account } : {}),
        part,
      });
  }
  await work.put(PART_ITEMS, items);
  return { itemsKey: work.keyOf(PART_ITEMS), parts: items.length };
}

/**
 * A fanned-out bucket's object evidence: its parts merged in order (exactly one pass's
 * aggregates), KMS key ids made canonical, an inventory's plaintext examples checked by HEAD.
 * A part that never finished, or an unusable inventory file, leaves the evidence incomplete
 * with the reason, so the object rules say ERROR, never a count that silently misses objects.
 */
export async function mergeObjectParts(options: {
  clients: AwsClients;
  work: WorkArea;
  bucket: BucketEvidence;
  parts: ObjectPartsPlan;
  versions: boolean;
  limit: <T>(fn: () => Promise<T>) => Promise<T>;
}): Promise<ObjectScanEvidence> {
  const { parts, bucket } = options;
  const count = parts.kind === 'inventory-files' ? parts.files.length : parts.partitions.length;
  const mode = parts.kind === 'inventory-files' ? 'inventory' : 'full';
  const results = await Promise.all(
    Array.from({ length: count }, (_, part) =>
      options.work.get<{ evidence?: ObjectScanEvidence; failed?: string }>(
        partResultPath(parts.bucket, parts.account, part),
      ),
    ),
  );
  const found = results.flatMap((r) => (r?.evidence ? [r.evidence] : []));
  const problems = results.flatMap((r, part) =>
    r?.evidence ? [] : [r?.failed ?? `part ${part} did not finish after its retries`],
  );
  const empty = new ObjectAggregator(mode, options.versions).result(true);
  let merged = mergeAggregates([empty, ...found], orderOf(parts));
  if (problems.length > 0) {
    merged = {
      ...merged,
      complete: false,
      listError: {
        code: 'ObjectPartFailed',
        message: `${problems.length} of ${count} parts of ${bucket.name} were not read: ${problems.slice(0, 3).join('; ')}`,
      },
    };
  }
  const byKmsKey: ObjectScanEvidence['byKmsKey'] = {};
  for (const [keyId, tally] of Object.entries(merged.byKmsKey))
    byKmsKey[canonicalKeyRef(keyId, bucket) ?? keyId] = tally;
  merged = { ...merged, byKmsKey };
  if (parts.kind === 'partitions' || problems.length > 0) return merged;
  const withSource = {
    ...merged,
    inventory: inventorySource({ ...parts.delivery, files: parts.files.length }),
  };
  return verifyInventoryPlaintext({
    s3: options.clients.s3(bucket.region),
    bucket: bucket.name,
    owner: bucket.accountId,
    evidence: withSource,
    limit: options.limit,
  });
}
