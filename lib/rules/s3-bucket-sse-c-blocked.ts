import type { BucketContext, Rule } from '../engine/types.js';
import { sseCBlockedByBucket } from './shared/encryption.js';
import { byWhom, failNote, layerDetails } from './shared/layers.js';

/**
 * Uploads with customer-provided keys (SSE-C) are blocked, by the bucket's
 * `BlockedEncryptionTypes` or by a bucket policy Deny.
 *
 * - PASS: `BlockedEncryptionTypes.EncryptionType` contains `SSE-C`, or the policy denies every
 *   SSE-C upload (`sseCBlocked`), or it requires `x-amz-server-side-encryption`, which SSE-C
 *   uploads never carry (a side effect, said as such). All are reported in `details`. When
 *   objects were scanned and SSE-C objects remain, the message says they were written before
 *   the block: blocking stops new SSE-C writes, it does not remove old ones.
 * - FAIL: both were read and neither blocks SSE-C.
 * - ERROR: neither blocks SSE-C as far as s3scan could see, and one of the two reads was denied
 *   or failed (the unread one might block it).
 */
export const rule: Rule = {
  id: 's3-bucket-sse-c-blocked',
  title: 'Uploads with customer-provided keys (SSE-C) are blocked',
  severity: 'high',
  resourceType: 'AWS::S3::Bucket',
  description:
    'Checks that SSE-C writes are blocked with BlockedEncryptionTypes (since April 2026) or with a bucket policy Deny on s3:x-amz-server-side-encryption-customer-algorithm.',
  rationale:
    'With SSE-C, S3 never stores the key. An attacker with write access can re-encrypt your objects under a key only they hold: a known ransomware technique. AWS blocks SSE-C on new buckets since April 2026, but not on existing buckets in accounts that already had SSE-C objects.',
  remediation: {
    text: 'Block SSE-C in the default encryption configuration (keep the rest of the configuration as it is). Existing SSE-C objects stay readable with their keys.',
    cli: `aws s3api put-bucket-encryption --bucket BUCKET --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"KEY_ARN"},"BucketKeyEnabled":true,"BlockedEncryptionTypes":{"EncryptionType":["SSE-C"]}}]}'`,
    cloudformation: `        - ServerSideEncryptionByDefault:
            SSEAlgorithm: aws:kms
            KMSMasterKeyID: !GetAtt BucketKey.Arn
          BucketKeyEnabled: true
          BlockedEncryptionTypes:
            EncryptionType: [SSE-C]`,
  },
  references: [
    'https://docs.aws.amazon.com/AmazonS3/latest/userguide/blocking-unblocking-s3-c-encryption-gpb.html',
    'https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-s3-c-encryption-setting-faq.html',
  ],
  evidence: ['encryption', 'policy'],
  directoryBuckets: {
    skipped: 'directory buckets do not support SSE-C at all',
  },
  evaluate(context) {
    const name = context.bucket.name;
    const byBucket = sseCBlockedByBucket(context);
    const policy = context.policy();
    const byPolicy =
      'analysis' in policy ? policy.analysis.sseCBlocked : 'absent' in policy ? null : undefined;
    const sideEffect = 'analysis' in policy && policy.analysis.sseCRejectedAsSideEffect;
    const details = {
      blockedEncryptionTypes: typeof byBucket === 'boolean' ? byBucket : 'unknown',
      policySseCBlocked: byPolicy === undefined ? 'unknown' : byPolicy,
      ...(sideEffect ? { policyRejectsSseCAsSideEffect: true } : {}),
      ...(existingSseC(context) ? { existingSseCObjects: existingSseC(context) } : {}),
      ...layerDetails(policy, 'sseCBlocked'),
    };
    const how =
      byBucket === true
        ? 'with BlockedEncryptionTypes'
        : byPolicy === true
          ? `with a policy Deny${byWhom(policy, 'sseCBlocked')}`
          : sideEffect
            ? 'as a side effect of its bucket policy, which requires the x-amz-server-side-encryption header that SSE-C uploads never carry (BlockedEncryptionTypes would block them explicitly)'
            : undefined;
    if (how) {
      return {
        status: 'PASS',
        message: `Bucket ${name} blocks SSE-C uploads ${how}.${stillThere(context)}`,
        details,
      };
    }
    const unread: string[] = [];
    if (typeof byBucket !== 'boolean') unread.push(`GetBucketEncryption: ${byBucket.failed}`);
    if ('failed' in policy) unread.push(`bucket policy: ${policy.failed}`);
    if (unread.length > 0) {
      return {
        status: 'ERROR',
        message: `Could not tell whether bucket ${name} blocks SSE-C: ${unread.join('; ')}.`,
        details,
      };
    }
    return {
      status: 'FAIL',
      message: `Bucket ${name} accepts SSE-C uploads: BlockedEncryptionTypes does not list SSE-C and no policy Deny rejects them.${failNote(policy, 'sseCBlocked')}`,
      details: {
        ...details,
        ...('analysis' in policy
          ? { gaps: policy.analysis.gaps.filter((g) => g.verdict === 'sseCBlocked') }
          : {}),
      },
    };
  },
};

/** SSE-C objects (current and noncurrent) the object scan found, if it ran. */
function existingSseC(context: BucketContext): number {
  const objects = context.bucket.objects;
  return (
    (objects?.byEncryption['SSE-C']?.count ?? 0) +
    (objects?.noncurrentByEncryption['SSE-C']?.count ?? 0)
  );
}

/** Blocking never removes what was written before it: say so when SSE-C objects remain. */
function stillThere(context: BucketContext): string {
  const count = existingSseC(context);
  if (count === 0) return '';
  const newest = context.bucket.objects?.newestSseC;
  return ` Still, ${count} SSE-C objects remain, written before the block${newest ? ` (the newest ${newest})` : ''}: blocking stops new SSE-C writes and leaves those readable only with their customer keys (see s3-objects-sse-c).`;
}
