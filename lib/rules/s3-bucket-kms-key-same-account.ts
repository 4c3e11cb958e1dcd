import type { Rule } from '../engine/types.js';
import { customerKmsDefault, keyAccount } from './shared/encryption.js';

/**
 * The default KMS key belongs to the bucket's own account (or to an account listed in
 * `kms.allowedKeyAccounts`).
 *
 * - PASS: the AWS managed key, or a key whose ARN (or DescribeKey `AWSAccountId`) names the
 *   bucket's account or an allowed account.
 * - FAIL: the key is owned by another account: that account can disable or delete it, making
 *   the bucket's data unreadable, and sees every use in its CloudTrail.
 * - ERROR: GetBucketEncryption failed, or the key's account cannot be told (bare key id or
 *   alias and DescribeKey failed).
 * - SKIPPED: the default encryption is not KMS.
 */
export const rule: Rule = {
  id: 's3-bucket-kms-key-same-account',
  title: 'Bucket default KMS key belongs to the bucket account',
  severity: 'medium',
  resourceType: 'AWS::S3::Bucket',
  description:
    "Checks that the default KMS key is owned by the bucket's account or by an account allowed in the configuration.",
  rationale:
    'A key in another account puts the availability of your data in the hands of that account: it can disable the key, schedule its deletion or change its key policy at any time.',
  remediation: {
    text: 'Create a customer managed key in the bucket account and set it as the default, or list the key owner in kms.allowedKeyAccounts if this is intended.',
    cli: `aws s3api put-bucket-encryption --bucket BUCKET --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"arn:aws:kms:REGION:BUCKET_ACCOUNT:key/KEY-ID"},"BucketKeyEnabled":true}]}'`,
    cloudformation: `        - ServerSideEncryptionByDefault:
            SSEAlgorithm: aws:kms
            KMSMasterKeyID: !GetAtt BucketKey.Arn   # a key defined in this account's stack`,
  },
  references: [
    'https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html',
    'https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-encryption.html',
  ],
  evidence: ['encryption', 'kms.describe'],
  // Directory buckets: SSE-S3 or SSE-KMS under one customer managed key (aws-facts 4.4).
  directoryBuckets: 'applies',
  evaluate(context) {
    const name = context.bucket.name;
    const encryption = customerKmsDefault(context, () => ({
      status: 'PASS',
      message: `Bucket ${name} uses the AWS managed key aws/s3 of its own account.`,
    }));
    if ('status' in encryption) return encryption;
    const keyId = encryption.keyId ?? '';
    const owner = keyAccount(context, keyId);
    const bucketAccount = context.bucket.accountId;
    if (!owner) {
      return {
        status: 'ERROR',
        message: `Could not tell which account owns the default key ${keyId} of bucket ${name}.`,
      };
    }
    if (owner === bucketAccount) {
      return {
        status: 'PASS',
        message: `The default key of bucket ${name} belongs to the bucket account ${bucketAccount}.`,
        details: { keyId, keyAccount: owner },
      };
    }
    if (context.settings.allowedKeyAccounts.includes(owner)) {
      return {
        status: 'PASS',
        message: `The default key of bucket ${name} belongs to account ${owner}, which kms.allowedKeyAccounts allows.`,
        details: { keyId, keyAccount: owner },
      };
    }
    return {
      status: 'FAIL',
      message: `The default key ${keyId} of bucket ${name} belongs to account ${owner}, not to the bucket account ${bucketAccount}.`,
      details: { keyId, keyAccount: owner, bucketAccount },
    };
  },
};
