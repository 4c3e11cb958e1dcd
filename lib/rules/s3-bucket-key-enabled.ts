import type { Rule } from '../engine/types.js';
import { kmsDefault } from './shared/encryption.js';

/**
 * The S3 Bucket Key is enabled for SSE-KMS default encryption.
 *
 * - PASS: `BucketKeyEnabled: true` on the default rule.
 * - FAIL: SSE-KMS without the Bucket Key (absent counts as false).
 * - ERROR: GetBucketEncryption was denied or failed.
 * - SKIPPED: the default is not SSE-KMS; DSSE-KMS does not support Bucket Keys.
 */
export const rule: Rule = {
  id: 's3-bucket-key-enabled',
  title: 'S3 Bucket Key is enabled for SSE-KMS',
  severity: 'low',
  resourceType: 'AWS::S3::Bucket',
  description:
    'Checks that buckets using SSE-KMS by default have the S3 Bucket Key enabled, which cuts KMS requests.',
  rationale:
    'Without a Bucket Key every upload and download calls KMS (GenerateDataKey, Decrypt). That costs money and consumes the shared KMS request quota; throttled KMS calls make S3 requests fail.',
  remediation: {
    text: 'Enable the Bucket Key on the default encryption rule. Only new objects use it; existing objects keep per-object data keys until they are re-encrypted.',
    cli: `aws s3api put-bucket-encryption --bucket BUCKET --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"KEY_ARN"},"BucketKeyEnabled":true}]}'`,
    cloudformation: `        - ServerSideEncryptionByDefault:
            SSEAlgorithm: aws:kms
            KMSMasterKeyID: !GetAtt BucketKey.Arn
          BucketKeyEnabled: true`,
  },
  references: ['https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html'],
  evidence: ['encryption'],
  directoryBuckets: {
    skipped:
      'S3 Bucket Keys are always enabled for GET and PUT in directory buckets and cannot be turned off',
  },
  evaluate(context) {
    const name = context.bucket.name;
    const encryption = kmsDefault(context, 'does not use SSE-KMS by default');
    if ('status' in encryption) return encryption;
    if (encryption.algorithm === 'aws:kms:dsse') {
      return {
        status: 'SKIPPED',
        message: `Bucket ${name} uses DSSE-KMS, which does not support S3 Bucket Keys.`,
      };
    }
    return encryption.bucketKeyEnabled
      ? { status: 'PASS', message: `Bucket ${name} has the S3 Bucket Key enabled.` }
      : {
          status: 'FAIL',
          message: `Bucket ${name} uses SSE-KMS without the S3 Bucket Key, so every object request calls KMS.`,
        };
  },
};
