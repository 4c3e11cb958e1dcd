import type { Rule } from '../engine/types.js';
import { defaultKeyEvidence, kmsDefault } from './shared/encryption.js';
import { failNote, layerDetails, passNote } from './shared/layers.js';
import { readPolicy } from './shared/policy.js';

/**
 * For buckets whose default encryption is KMS, the bucket policy only lets uploads use a pinned
 * KMS key ARN, and the pinned keys include the bucket's default key.
 *
 * - PASS: `kmsKeyEnforced: true` (uploads with no header or another key are denied, uploads
 *   with the pinned key are allowed) and the default key is among the pinned ARNs.
 * - FAIL: no policy, no pin, a pin that other keys slip past, or a pin that excludes the
 *   bucket's own default key.
 * - ERROR: GetBucketEncryption or GetBucketPolicy was denied or failed.
 * - SKIPPED: the default encryption is not a customer-chosen KMS key.
 */
export const rule: Rule = {
  id: 's3-bucket-policy-pins-kms-key',
  title: 'Bucket policy pins uploads to the bucket KMS key',
  severity: 'low',
  resourceType: 'AWS::S3::Bucket',
  description:
    'Checks that the bucket policy denies uploads encrypted under any KMS key other than the pinned key ARN(s), and that the default key is pinned.',
  rationale:
    'Without a pin, any writer can encrypt objects under a key of their choice, including a key in another account that they control; you then depend on that key to read your own data.',
  remediation: {
    text: 'Add a Deny on s3:PutObject for bucket/* with Condition ArnNotEqualsIfExists s3:x-amz-server-side-encryption-aws-kms-key-id set to the key ARN, alone in its statement.',
    cli: `aws s3api put-bucket-policy --bucket BUCKET --policy '{"Version":"2012-10-17","Statement":[{"Sid":"DenyOtherKmsKeys","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::BUCKET/*","Condition":{"ArnNotEqualsIfExists":{"s3:x-amz-server-side-encryption-aws-kms-key-id":"KEY_ARN"}}}]}'`,
    cloudformation: `        - Sid: DenyOtherKmsKeys
          Effect: Deny
          Principal: '*'
          Action: 's3:PutObject'
          Resource: !Join ['', [!GetAtt Bucket.Arn, '/*']]
          Condition:
            ArnNotEqualsIfExists:
              s3:x-amz-server-side-encryption-aws-kms-key-id: !GetAtt BucketKey.Arn`,
  },
  references: [
    'https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies.html',
    'https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html',
  ],
  evidence: ['encryption', 'policy'],
  directoryBuckets: {
    skipped:
      "a directory bucket's SSE-KMS uses exactly one customer managed key for the bucket's lifetime, and a request naming another key fails with 400 Bad Request, so no policy is needed to pin it",
  },
  evaluate(context) {
    const name = context.bucket.name;
    const encryption = kmsDefault(
      context,
      'does not use a customer-chosen KMS key by default, so there is no key to pin',
    );
    if ('status' in encryption) return encryption;
    if (encryption.awsManagedKey) {
      return {
        status: 'SKIPPED',
        message: `Bucket ${name} does not use a customer-chosen KMS key by default, so there is no key to pin.`,
      };
    }
    const policy = readPolicy(context, `Could not judge KMS key pinning of bucket ${name}`);
    if ('status' in policy) return policy;
    if ('absent' in policy) {
      return {
        status: 'FAIL',
        message: `Bucket ${name} has no bucket policy, so uploads may name any KMS key.${failNote(policy, 'kmsKeyEnforced')}`,
        details: layerDetails(policy, 'kmsKeyEnforced'),
      };
    }
    const { kmsKeyEnforced, pinnedKmsKeyArns, gaps } = policy.analysis;
    if (kmsKeyEnforced !== true) {
      return {
        status: 'FAIL',
        message: `The bucket policy of ${name} does not pin uploads to a KMS key ARN.${failNote(policy, 'kmsKeyEnforced')}`,
        details: {
          kmsKeyEnforced,
          gaps: gaps.filter((g) => g.verdict === 'kmsKeyEnforced'),
          ...layerDetails(policy, 'kmsKeyEnforced'),
        },
      };
    }
    const key = defaultKeyEvidence(context);
    const defaultArn =
      key && 'ok' in key.describe ? (key.describe.ok.Arn ?? key.ref) : (encryption.keyId ?? '');
    if (!pinnedKmsKeyArns.includes(defaultArn)) {
      return {
        status: 'FAIL',
        message: `The bucket policy of ${name} pins ${pinnedKmsKeyArns.join(', ')}, not the default key ${defaultArn}: uploads relying on the default are denied.`,
        details: {
          pinnedKmsKeyArns,
          defaultKey: defaultArn,
          ...layerDetails(policy, 'kmsKeyEnforced'),
        },
      };
    }
    return {
      status: 'PASS',
      message: `The bucket policy of ${name} pins uploads to the default key ${defaultArn}${passNote(policy, 'kmsKeyEnforced')}.`,
      details: { pinnedKmsKeyArns, ...layerDetails(policy, 'kmsKeyEnforced') },
    };
  },
};
