import { sseCBlockedByBucket } from '../engine/encryption.js';
import type { Rule } from '../engine/types.js';

/**
 * Uploads with customer-provided keys (SSE-C) are blocked, by the bucket's
 * `BlockedEncryptionTypes` or by a bucket policy Deny.
 *
 * - PASS: `BlockedEncryptionTypes.EncryptionType` contains `SSE-C`, or the policy denies every
 *   SSE-C upload (`sseCBlocked`). Both are reported in `details`.
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
  evaluate(context) {
    const name = context.bucket.name;
    const byBucket = sseCBlockedByBucket(context);
    const policy = context.policy();
    const byPolicy =
      'analysis' in policy ? policy.analysis.sseCBlocked : 'absent' in policy ? null : undefined;
    const details = {
      blockedEncryptionTypes: typeof byBucket === 'boolean' ? byBucket : 'unknown',
      policySseCBlocked: byPolicy === undefined ? 'unknown' : byPolicy,
    };
    if (byBucket === true) {
      return {
        status: 'PASS',
        message: `Bucket ${name} blocks SSE-C uploads with BlockedEncryptionTypes.`,
        details,
      };
    }
    if (byPolicy === true) {
      return {
        status: 'PASS',
        message: `Bucket ${name} blocks SSE-C uploads with a bucket policy Deny.`,
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
      message: `Bucket ${name} accepts SSE-C uploads: BlockedEncryptionTypes does not list SSE-C and no policy Deny rejects them.`,
      details: {
        ...details,
        ...('analysis' in policy
          ? { gaps: policy.analysis.gaps.filter((g) => g.verdict === 'sseCBlocked') }
          : {}),
      },
    };
  },
};
