import type { Rule } from '../engine/types.js';
import { coverage, isOutcome, judgeObjects, objectEvidence, total } from './shared/objects.js';

/** SSE-C writes this recent are reported as critical: a ransomware indicator. */
const RECENT_DAYS = 30;

/**
 * No object (or version) is encrypted with a customer-provided key (SSE-C).
 *
 * - PASS: no SSE-C object among the classified ones, and none unclassified.
 * - FAIL: SSE-C objects exist (a key-less HEAD answers 400: SSE-C, likely); critical when the
 *   newest was written within 30 days of the scan, since attackers use SSE-C to hold data to ransom.
 * - ERROR: none found, but some objects could not be classified.
 * - SKIPPED: objects were not scanned.
 */
export const rule: Rule = {
  id: 's3-objects-sse-c',
  title: 'No objects are encrypted with customer-provided keys (SSE-C)',
  severity: 'high',
  resourceType: 'AWS::S3::Bucket',
  description:
    'Checks that no object or object version is encrypted with SSE-C, whose key AWS never stores.',
  rationale:
    'Data under SSE-C is readable only with a key held outside AWS. Recent SSE-C writes by an unknown party are a known ransomware technique; older ones are a key-management liability. Blocking SSE-C for new writes does not remove existing objects.',
  remediation: {
    text: 'Find who wrote them (CloudTrail data events, SSEApplied), block SSE-C on the bucket, and re-encrypt the objects you hold keys for.',
    cli: `aws s3api put-bucket-encryption --bucket BUCKET --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"KEY_ARN"},"BucketKeyEnabled":true,"BlockedEncryptionTypes":{"EncryptionType":["SSE-C"]}}]}'`,
    cloudformation: `          BlockedEncryptionTypes:
            EncryptionType: [SSE-C]`,
  },
  references: [
    'https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerSideEncryptionCustomerKeys.html',
    'https://aws.amazon.com/blogs/storage/advanced-notice-amazon-s3-to-disable-the-use-of-sse-c-encryption-by-default-for-all-new-buckets-and-select-existing-buckets-in-april-2026/',
  ],
  evidence: ['objects'],
  directoryBuckets: {
    skipped: 'directory buckets do not support SSE-C at all',
  },
  evaluate(context) {
    const name = context.bucket.name;
    const objects = objectEvidence(context);
    if (isOutcome(objects)) return objects;
    const sseC = total(objects.byEncryption['SSE-C'], objects.noncurrentByEncryption['SSE-C']);
    const newest = objects.newestSseC;
    const ageDays = newest
      ? (Date.parse(context.scanTime) - Date.parse(newest)) / 86_400_000
      : Number.POSITIVE_INFINITY;
    const recent = ageDays <= RECENT_DAYS;
    const inferred = objects.sseCInferred ?? 0;
    const inference =
      inferred > 0
        ? ` (${inferred === sseC.count ? 'all' : inferred} inferred from a key-less HEAD's 400: SSE-C, likely)`
        : '';
    return judgeObjects(objects, {
      scanTime: context.scanTime,
      needs: { inferredSseCIsSeen: true },
      ...(sseC.count > 0
        ? {
            violation: {
              status: 'FAIL',
              ...(recent ? { severity: 'critical' as const } : {}),
              message: `Bucket ${name} holds ${sseC.count} SSE-C objects${inference} among ${coverage(objects)}${newest ? `, the newest written ${newest}` : ''}${recent ? ': recent SSE-C writes are a ransomware indicator' : ''}.`,
              details: { sseC, newestLastModified: newest, inferred },
            },
          }
        : {}),
      noneFound: `No SSE-C object found in bucket ${name}`,
      pass: `No object of bucket ${name} uses SSE-C (${coverage(objects)}).`,
    });
  },
};
