import type { Rule } from '../engine/types.js';
import { probeFailure } from '../evidence/probe.js';
import { customerKmsDefault, defaultKeyEvidence } from './shared/encryption.js';

/**
 * The default KMS key is a customer managed key (and, when `kms.allowedKeyArns` is set, one of
 * the allowed keys).
 *
 * - PASS: DescribeKey says `KeyManager: CUSTOMER` (and the key is allowed).
 * - FAIL: the AWS managed key `aws/s3` (no `KMSMasterKeyID`, `alias/aws/s3`, or
 *   `KeyManager: AWS`), or a key outside `kms.allowedKeyArns`.
 * - ERROR: GetBucketEncryption or DescribeKey was denied or failed.
 * - SKIPPED: the default encryption is not KMS.
 */
export const rule: Rule = {
  id: 's3-bucket-kms-key-customer-managed',
  title: 'Bucket default KMS key is customer managed',
  severity: 'medium',
  resourceType: 'AWS::S3::Bucket',
  description:
    'Checks that SSE-KMS default encryption uses a customer managed KMS key rather than the AWS managed key aws/s3, and, if configured, one of the allowed key ARNs.',
  rationale:
    'The key policy of aws/s3 cannot be changed, so anyone with S3 access in the account can decrypt, the key cannot be shared across accounts, and its use cannot be separated from other buckets. A customer managed key gives you its key policy, grants, rotation period and deletion.',
  remediation: {
    text: 'Create a customer managed symmetric KMS key with rotation enabled and set it as the bucket default key.',
    cli: `KEY=$(aws kms create-key --description "S3 BUCKET" --query KeyMetadata.Arn --output text)
aws kms enable-key-rotation --key-id "$KEY"
aws s3api put-bucket-encryption --bucket BUCKET --server-side-encryption-configuration "{\\"Rules\\":[{\\"ApplyServerSideEncryptionByDefault\\":{\\"SSEAlgorithm\\":\\"aws:kms\\",\\"KMSMasterKeyID\\":\\"$KEY\\"},\\"BucketKeyEnabled\\":true}]}"`,
    cloudformation: `BucketKey:
  Type: AWS::KMS::Key
  Properties:
    EnableKeyRotation: true
    KeyPolicy: { ... }
Bucket:
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
    'https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#key-mgmt',
    'https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html',
  ],
  evidence: ['encryption', 'kms.describe'],
  // Directory buckets: SSE-S3 or SSE-KMS under one customer managed key (aws-facts 4.4).
  directoryBuckets: 'applies',
  evaluate(context) {
    const name = context.bucket.name;
    const encryption = customerKmsDefault(context, (awsManaged) => ({
      status: 'FAIL',
      message: `Bucket ${name} uses the AWS managed key aws/s3, whose key policy cannot be changed.`,
      details: { keyId: awsManaged.keyId ?? 'aws/s3 (no KMSMasterKeyID)' },
    }));
    if ('status' in encryption) return encryption;
    const key = defaultKeyEvidence(context);
    if (!key) {
      return {
        status: 'ERROR',
        message: `No KMS key facts were collected for bucket ${name} (key ${encryption.keyId}).`,
      };
    }
    if (!('ok' in key.describe)) {
      const failure =
        'absent' in key.describe
          ? `the key does not exist (${key.describe.absent})`
          : probeFailure(key.describe);
      return {
        status: 'ERROR',
        message: `Could not tell who manages the default key ${key.ref} of bucket ${name}: ${failure}.`,
      };
    }
    const metadata = key.describe.ok;
    const keyArn = metadata.Arn ?? key.ref;
    if (metadata.KeyManager !== 'CUSTOMER') {
      return {
        status: 'FAIL',
        message: `Bucket ${name} uses the AWS managed key ${keyArn}.`,
        details: { keyArn, keyManager: metadata.KeyManager },
      };
    }
    const allowed = context.settings.allowedKmsKeyArns;
    if (allowed.length > 0 && !allowed.includes(keyArn)) {
      return {
        status: 'FAIL',
        message: `Bucket ${name} uses the customer managed key ${keyArn}, which is not in kms.allowedKeyArns.`,
        details: { keyArn, allowedKeyArns: allowed },
      };
    }
    return {
      status: 'PASS',
      message: `Bucket ${name} uses the customer managed key ${keyArn}.`,
      details: { keyArn },
    };
  },
};
