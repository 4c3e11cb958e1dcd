import type { FromSchema } from 'json-schema-to-ts';
import type { ObjectScanOptions } from '../collect/scan.js';
import type { ConfigFile, ConfigProvenance } from '../config/config.js';
import { configFromDocument, type LoadedConfig } from '../config/config.js';
import { ConfigError } from '../errors.js';
import { safeSegment } from '../evidence/paths.js';
import type { AccountEvidence, DirectoryListing } from '../evidence/types.js';
import type { StoredScope } from '../report-store/types.js';
import type { WorkArea } from '../report-store/work-area.js';
import {
  ACCOUNT_ID_FIELD,
  BUCKET_NAME_FIELD,
  REGION_FIELD,
  SCAN_ID_FIELD,
} from '../validation/fields.js';

/** What enumerate decided: the scan every later step works on. */
export interface DistributedPlan {
  scanId: string;
  scanTime: string;
  accountId: string;
  partition: string;
  callerArn: string;
  objects?: Omit<ObjectScanOptions, 'sinkFor'>;
  /**
   * Read large buckets' objects as items of the object-parts map (inventory data files, or
   * key-space partitions for `full`) instead of inside the bucket's own step.
   */
  objectFanOut?: boolean;
  /**
   * The config enumerate loaded and validated: every later step judges and scans with this
   * snapshot, so one scan applies one config even if the file changes while it runs, and
   * only enumerate needs to read it.
   */
  config: { document: ConfigFile; provenance: ConfigProvenance };
  /** The bucket globs and regions the scan was asked for (and its accounts): drift's scope. */
  scope?: StoredScope;
  /** An organisation-wide scan: every account, and how each was reached or why not. */
  accounts?: AccountEvidence[];
  /** The member role the per-bucket steps assume in each member account. */
  memberRole?: { roleName: string; externalId?: string };
  /** Each region's directory bucket listing, per account. */
  directoryListings?: DirectoryListing[];
  buckets: PlannedBucket[];
}

/** A bucket of the plan: where it is, whose it is, and which kind. */
export interface PlannedBucket {
  bucket: string;
  region: string;
  creationDate?: string;
  kind?: 'directory';
  /** The member account it belongs to (organisation-wide scans); absent: the plan's account. */
  account?: string;
}

/**
 * One item of the Distributed Map: a bucket of a scan. An organisation-wide scan writes one
 * list of account x bucket items, so one MaxConcurrency bounds the whole organisation. The
 * scan-bucket function validates each item against this schema; the type is the schema's.
 */
export const BUCKET_ITEM_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['scanId', 'bucket', 'region'],
  properties: {
    scanId: SCAN_ID_FIELD,
    bucket: BUCKET_NAME_FIELD,
    region: REGION_FIELD,
    account: ACCOUNT_ID_FIELD,
  },
} as const;

/** One item of the Distributed Map (see {@link BUCKET_ITEM_SCHEMA}). */
export type BucketItem = FromSchema<typeof BUCKET_ITEM_SCHEMA>;

export const PLAN = 'plan.json';
export const ITEMS = 'items.json';
/** The item's key in the work area: by bucket, and by account too in an organisation scan. */
const itemKey = (bucket: string, account?: string) =>
  account ? `${safeSegment(account)}/${safeSegment(bucket)}` : safeSegment(bucket);
export const bucketPath = (bucket: string, account?: string) =>
  `buckets/${itemKey(bucket, account)}.json`;
export const checkpointPath = (bucket: string, account?: string) =>
  `checkpoints/${itemKey(bucket, account)}.json`;

/** The plan of a scan; a step called for a scan that was never planned fails clearly. */
export async function readPlan(work: WorkArea, what: string): Promise<DistributedPlan> {
  const plan = await work.get<DistributedPlan>(PLAN);
  if (!plan) throw new ConfigError(`${what} has no plan (${work.keyOf(PLAN)})`);
  return plan;
}

/** The plan's config snapshot, validated again (a plan is data read back from S3). */
export function planConfig(plan: DistributedPlan): LoadedConfig {
  return configFromDocument(
    plan.config?.document ?? {},
    `the config snapshot of scan ${plan.scanId}`,
    plan.config?.provenance ?? { origin: 'default' },
  );
}
