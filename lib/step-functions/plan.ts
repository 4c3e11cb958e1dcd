import type { ObjectScanOptions } from '../collect/scan.js';
import type { ConfigFile, ConfigProvenance } from '../config/config.js';
import { configFromDocument, type LoadedConfig } from '../config/config.js';
import { ConfigError } from '../errors.js';
import { safeSegment } from '../evidence/paths.js';
import type { WorkArea } from '../report-store/work-area.js';

/** What enumerate decided: the scan every later step works on. */
export interface DistributedPlan {
  scanId: string;
  scanTime: string;
  accountId: string;
  partition: string;
  callerArn: string;
  objects?: Omit<ObjectScanOptions, 'sinkFor'>;
  /**
   * The config enumerate loaded and validated: every later step judges and scans with this
   * snapshot, so one scan applies one config even if the file changes while it runs, and
   * only enumerate needs to read it.
   */
  config: { document: ConfigFile; provenance: ConfigProvenance };
  /** The bucket globs and regions the scan was asked for: its summary's scope, for drift. */
  scope?: { buckets: string[]; regions: string[] };
  buckets: { bucket: string; region: string; creationDate?: string }[];
}

/** One item of the Distributed Map: a bucket of a scan. */
export interface BucketItem {
  scanId: string;
  bucket: string;
  region: string;
}

export const PLAN = 'plan.json';
export const ITEMS = 'items.json';
export const bucketPath = (bucket: string) => `buckets/${safeSegment(bucket)}.json`;
export const checkpointPath = (bucket: string) => `checkpoints/${safeSegment(bucket)}.json`;

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
