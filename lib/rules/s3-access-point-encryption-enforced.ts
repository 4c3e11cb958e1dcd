import type { AccessPointRule } from '../engine/types.js';
import { sseCBlockedByBucket } from './shared/encryption.js';
import { byWhom, layerDetails } from './shared/layers.js';

/**
 * Uploads through an access point of a bucket that admits requests only through access points
 * meet the same encryption rules as the bucket would demand: judged over the bucket policy,
 * the RCPs and the access point's own policy, with the access point's keys on every request.
 *
 * - PASS: through this access point SSE-C uploads are rejected (by a policy Deny or the
 *   bucket's BlockedEncryptionTypes), and uploads without an encryption header are rejected
 *   when the config's `uploadEncryption` is `require-header`. (A key pin is judged for every
 *   path by s3-bucket-policy-pins-kms-key: a pin that spares access point requests is no pin.)
 * - FAIL: an upload the bucket is meant to refuse gets through this access point; the message
 *   says which.
 * - ERROR: the bucket policy, the access point policy or the default encryption could not be
 *   read or analysed.
 * - SKIPPED: the bucket also admits requests that do not use an access point: its own rules
 *   judge what reaches it directly, whatever this access point allows.
 */
export const rule: AccessPointRule = {
  id: 's3-access-point-encryption-enforced',
  title: 'Uploads through the access point meet the bucket’s encryption rules',
  severity: 'high',
  resourceType: 'AWS::S3::AccessPoint',
  description:
    'For a bucket that admits requests only through access points, checks each access point path: SSE-C uploads rejected, and header-less uploads rejected when headers are required.',
  rationale:
    'When a bucket policy denies every request not made through an access point, the access points are the only doors. A door whose policy (with the bucket policy and the RCPs) still admits SSE-C or header-less uploads lets them in, however strict the bucket looks for direct requests.',
  remediation: {
    text: 'Add the missing Deny to the access point policy (or, to cover every path at once, to the bucket policy or an RCP), or block SSE-C on the bucket with BlockedEncryptionTypes.',
    cli: `aws s3api put-bucket-encryption --bucket BUCKET --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"KEY_ARN"},"BucketKeyEnabled":true,"BlockedEncryptionTypes":{"EncryptionType":["SSE-C"]}}]}'
aws s3control put-access-point-policy --account-id ACCOUNT --name ACCESS_POINT --policy file://access-point-policy.json`,
    cloudformation: `AccessPointPolicy:
  Type: AWS::S3::AccessPoint
  Properties:
    Bucket: !Ref Bucket
    Policy:
      Version: '2012-10-17'
      Statement:
        - Sid: DenySseC
          Effect: Deny
          Principal: '*'
          Action: 's3:PutObject'
          Resource: !Sub 'arn:\${AWS::Partition}:s3:\${AWS::Region}:\${AWS::AccountId}:accesspoint/NAME/object/*'
          Condition:
            'Null':
              s3:x-amz-server-side-encryption-customer-algorithm: 'false'`,
  },
  references: [
    'https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points-policies.html',
    'https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-encryption.html',
  ],
  evidence: ['policy', 'accessPoints', 'encryption'],
  evaluate(context) {
    const { bucket, accessPoint } = context;
    const where = `access point ${accessPoint.name} of bucket ${bucket.name}`;
    const direct = context.bucketPolicy();
    if ('failed' in direct)
      return { status: 'ERROR', message: `Could not judge ${where}: ${direct.failed}.` };
    if (!('analysis' in direct) || !direct.analysis.onlyThroughAccessPoints)
      return {
        status: 'SKIPPED',
        message: `Bucket ${bucket.name} also admits requests that do not use an access point, so its own rules judge what reaches it; ${where} adds no door of its own.`,
      };
    const through = context.throughAccessPoint();
    if ('failed' in through)
      return { status: 'ERROR', message: `Could not judge ${where}: ${through.failed}.` };
    const blockedByBucket = sseCBlockedByBucket(context);
    if (typeof blockedByBucket !== 'boolean')
      return {
        status: 'ERROR',
        message: `Could not judge ${where}: GetBucketEncryption: ${blockedByBucket.failed}.`,
      };
    const analysis = 'analysis' in through ? through.analysis : undefined;
    const open: string[] = [];
    if (!blockedByBucket && analysis?.sseCBlocked !== true && !analysis?.sseCRejectedAsSideEffect)
      open.push('SSE-C uploads');
    if (context.settings.uploadEncryption === 'require-header' && analysis?.sseEnforced !== true)
      open.push('uploads without an encryption header');
    const details = {
      accessPoint: accessPoint.arn,
      ...(analysis
        ? {
            sseCBlocked: blockedByBucket || analysis.sseCBlocked === true,
            sseEnforced: analysis.sseEnforced,
            kmsKeyEnforced: analysis.kmsKeyEnforced,
          }
        : {}),
      ...layerDetails(through, 'sseCBlocked'),
    };
    if (open.length > 0)
      return {
        status: 'FAIL',
        message: `Bucket ${bucket.name} admits requests only through access points, but ${open.join(' and ')} still get through ${accessPoint.arn}.`,
        details,
      };
    return {
      status: 'PASS',
      message: `Uploads through ${accessPoint.arn} meet the encryption rules of bucket ${bucket.name}: SSE-C ${blockedByBucket ? 'is blocked by BlockedEncryptionTypes' : `is denied${byWhom(through, 'sseCBlocked')}`}.`,
      details,
    };
  },
};
