import type { Rule } from '../engine/types.js';
import { probeFailure } from '../evidence/probe.js';
import { customerKmsDefault, defaultKeyEvidence } from './shared/encryption.js';

/**
 * Automatic rotation is enabled on the default KMS key.
 *
 * - PASS: the AWS managed key (rotates every year, always), or GetKeyRotationStatus says
 *   `KeyRotationEnabled: true`.
 * - FAIL: rotation is off, or the key cannot rotate automatically
 *   (`UnsupportedOperationException`: imported material, custom key store, asymmetric).
 * - ERROR: GetBucketEncryption, DescribeKey or GetKeyRotationStatus was denied or failed.
 * - SKIPPED: the default encryption is not KMS.
 */
export const rule: Rule = {
  id: 's3-bucket-kms-key-rotation',
  title: 'Bucket default KMS key rotates automatically',
  severity: 'medium',
  resourceType: 'AWS::S3::Bucket',
  description:
    'Checks that automatic key rotation is enabled on the default KMS key of the bucket.',
  rationale:
    'Rotation limits how much data one key version protects and how long a compromised version stays useful. Compliance frameworks (CIS, PCI DSS 3.7.4) require a defined cryptoperiod.',
  remediation: {
    text: 'Enable automatic rotation on the customer managed key (every 90 to 2560 days; 365 by default).',
    cli: 'aws kms enable-key-rotation --key-id KEY_ARN --rotation-period-in-days 365',
    cloudformation: `BucketKey:
  Type: AWS::KMS::Key
  Properties:
    EnableKeyRotation: true
    RotationPeriodInDays: 365`,
  },
  references: [
    'https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html',
    'https://docs.aws.amazon.com/securityhub/latest/userguide/kms-controls.html#kms-4',
  ],
  evidence: ['encryption', 'kms.describe', 'kms.rotation'],
  // Directory buckets: SSE-S3 or SSE-KMS under one customer managed key (aws-facts 4.4).
  directoryBuckets: 'applies',
  evaluate(context) {
    const name = context.bucket.name;
    const encryption = customerKmsDefault(context, () => ({
      status: 'PASS',
      message: `Bucket ${name} uses the AWS managed key aws/s3, which AWS rotates every year.`,
    }));
    if ('status' in encryption) return encryption;
    const key = defaultKeyEvidence(context);
    if (!key || !('ok' in key.describe)) {
      const reason = !key
        ? 'no KMS key facts were collected'
        : 'absent' in key.describe
          ? `the key does not exist (${key.describe.absent})`
          : probeFailure(key.describe);
      return {
        status: 'ERROR',
        message: `Could not read the rotation of the default key of bucket ${name}: ${reason}.`,
      };
    }
    const keyArn = key.describe.ok.Arn ?? key.ref;
    if (key.describe.ok.KeyManager === 'AWS') {
      return {
        status: 'PASS',
        message: `The default key ${keyArn} of bucket ${name} is AWS managed and rotates every year.`,
      };
    }
    const rotation = key.rotation;
    if (!rotation) {
      return {
        status: 'ERROR',
        message: `The rotation status of the default key ${keyArn} of bucket ${name} was not collected.`,
      };
    }
    if ('error' in rotation && rotation.error === 'UnsupportedOperationException') {
      return {
        status: 'FAIL',
        message: `The default key ${keyArn} of bucket ${name} cannot rotate automatically (${rotation.message}).`,
        details: { keyArn, origin: key.describe.ok.Origin, keySpec: key.describe.ok.KeySpec },
      };
    }
    if (!('ok' in rotation)) {
      return {
        status: 'ERROR',
        message: `Could not read the rotation of the default key ${keyArn} of bucket ${name}: ${probeFailure(rotation) ?? 'absent'}.`,
      };
    }
    if (rotation.ok.KeyRotationEnabled === true) {
      return {
        status: 'PASS',
        message: `The default key ${keyArn} of bucket ${name} rotates every ${rotation.ok.RotationPeriodInDays ?? 365} days.`,
        details: { keyArn, ...rotation.ok },
      };
    }
    return {
      status: 'FAIL',
      message: `Automatic rotation is off for the default key ${keyArn} of bucket ${name}.`,
      details: { keyArn, keyState: key.describe.ok.KeyState },
    };
  },
};
