import type { BucketFix } from './plan.js';

/** The record name of a fix: account, region, bucket and rule (names S3 allows only). */
export function fixRecordId(fix: Pick<BucketFix, 'account' | 'region' | 'bucket' | 'rule'>) {
  return `${fix.account}.${fix.region}.${fix.bucket}.${fix.rule}`;
}
