import type { Rule } from '../engine/types.js';
import { defaultEncryption } from './shared/encryption.js';

/**
 * New objects are encrypted by default with a KMS key (SSE-KMS or DSSE-KMS).
 *
 * - PASS: the default algorithm is `aws:kms` or `aws:kms:dsse`.
 * - FAIL: the default is SSE-S3 (`AES256`), including the SSE-S3 that S3 applies when the
 *   bucket answers `ServerSideEncryptionConfigurationNotFoundError`, or no default is set.
 * - ERROR: GetBucketEncryption was denied or failed, or the algorithm is one s3scan does not
 *   know (encrypted, unknown type: it cannot tell whether a KMS key is used).
 */
export const rule: Rule = {
  id: 's3-bucket-default-encryption-kms',
  title: 'Bucket default encryption uses AWS KMS keys',
  severity: 'medium',
  resourceType: 'AWS::S3::Bucket',
  description:
    'Checks that the bucket default encryption is SSE-KMS or DSSE-KMS rather than SSE-S3.',
  rationale:
    'SSE-S3 encrypts data with keys S3 manages on your behalf: access to the data is controlled only by S3 permissions. With SSE-KMS every read also needs kms:Decrypt on a key whose policy you control and whose use CloudTrail records.',
  remediation: {
    text: 'Set the default encryption to SSE-KMS with a customer managed key and enable the S3 Bucket Key. Existing objects keep their encryption: re-encrypt them with S3 Batch Operations or UpdateObjectEncryption.',
    cli: `aws s3api put-bucket-encryption --bucket BUCKET --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"arn:aws:kms:REGION:ACCOUNT:key/KEY-ID"},"BucketKeyEnabled":true}]}'`,
    cloudformation: `Bucket:
  Type: AWS::S3::Bucket
  Properties:
    BucketEncryption:
      ServerSideEncryptionConfiguration:
        - ServerSideEncryptionByDefault:
            SSEAlgorithm: aws:kms
            KMSMasterKeyID: !GetAtt BucketKey.Arn
          BucketKeyEnabled: true`,
  },
  references: [
    'https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-17',
    'https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html',
  ],
  evidence: ['encryption'],
  // Directory buckets: SSE-S3 or SSE-KMS under one customer managed key (aws-facts 4.4).
  directoryBuckets: 'applies',
  evaluate(context) {
    const name = context.bucket.name;
    const encryption = defaultEncryption(context);
    switch (encryption.kind) {
      case 'failed':
        return {
          status: 'ERROR',
          message: `Could not read the default encryption of bucket ${name}: ${encryption.reason}.`,
        };
      case 'kms':
        return {
          status: 'PASS',
          message: `Bucket ${name} encrypts new objects with ${encryption.algorithm === 'aws:kms:dsse' ? 'DSSE-KMS' : 'SSE-KMS'} by default.`,
          details: { algorithm: encryption.algorithm, keyId: encryption.keyId ?? 'aws/s3' },
        };
      case 'sse-s3':
        return {
          status: 'FAIL',
          message: encryption.assumedFrom
            ? `Bucket ${name} reports no default encryption configuration (${encryption.assumedFrom}), so S3 applies SSE-S3, not KMS.`
            : `Bucket ${name} encrypts new objects with SSE-S3 (AES256), not with a KMS key.`,
          details: { algorithm: 'AES256' },
        };
      case 'unknown-type':
        return {
          status: 'ERROR',
          message: `Bucket ${name} uses the default algorithm "${encryption.algorithm}": encrypted, unknown type; s3scan cannot tell whether a KMS key protects it.`,
          details: { algorithm: encryption.algorithm },
        };
      case 'none':
        return {
          status: 'FAIL',
          message: `Bucket ${name} returned an encryption configuration without a default algorithm.`,
        };
    }
  },
};
