import type { Rule } from '../engine/types.js';
import { UNUSABLE_KEY_STATES } from '../evidence/kms.js';
import { probeFailure } from '../evidence/probe.js';
import { customerKmsDefault, defaultKeyEvidence } from './shared/encryption.js';

/**
 * The default KMS key exists, is Enabled, and can encrypt data (symmetric ENCRYPT_DECRYPT).
 *
 * - PASS: the AWS managed key `aws/s3` (AWS keeps it enabled), or DescribeKey says `Enabled`
 *   with a symmetric encryption key.
 * - FAIL (critical): the key is in another Region than the bucket (S3 cannot use it), or is Disabled, PendingDeletion, PendingReplicaDeletion, Unavailable
 *   or does not exist (`NotFoundException`), or cannot encrypt (asymmetric, HMAC): writes fail
 *   and data under it is at risk. FAIL (high) for transitional states (Creating, PendingImport,
 *   Updating).
 * - ERROR: GetBucketEncryption or DescribeKey was denied or failed.
 * - SKIPPED: the default encryption is not KMS.
 */
export const rule: Rule = {
  id: 's3-bucket-kms-key-usable',
  title: 'Bucket default KMS key exists and is enabled',
  severity: 'high',
  resourceType: 'AWS::S3::Bucket',
  description:
    'Checks that the KMS key used for default encryption exists, is in the Enabled state and is a symmetric encryption key.',
  rationale:
    'If the default key is disabled, scheduled for deletion or gone, every upload that relies on default encryption fails and objects encrypted under it cannot be read. A key pending deletion becomes unrecoverable data loss when the waiting period ends.',
  remediation: {
    text: 'Cancel the key deletion and re-enable the key, or point the bucket default encryption at an enabled customer managed key.',
    cli: `aws kms cancel-key-deletion --key-id KEY_ARN
aws kms enable-key --key-id KEY_ARN`,
    cloudformation: `BucketKey:
  Type: AWS::KMS::Key
  DeletionPolicy: Retain
  UpdateReplacePolicy: Retain
  Properties:
    Enabled: true
    EnableKeyRotation: true`,
  },
  references: [
    'https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html',
    'https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html',
  ],
  evidence: ['encryption', 'kms.describe'],
  // Directory buckets: SSE-S3 or SSE-KMS under one customer managed key (aws-facts 4.4).
  directoryBuckets: 'applies',
  evaluate(context) {
    const name = context.bucket.name;
    const encryption = customerKmsDefault(context, () => ({
      status: 'PASS',
      message: `Bucket ${name} uses the AWS managed key aws/s3, which AWS keeps enabled.`,
    }));
    if ('status' in encryption) return encryption;
    // "The AWS KMS keys must be in the same Region as the bucket"; PutBucketEncryption does not
    // check, so a default key of another Region is accepted and every upload under it fails.
    const named = context.bucket.defaultKmsKeyRef ?? encryption.keyId ?? '';
    const keyRegion = /^arn:[^:]+:kms:([^:]*):/.exec(named)?.[1];
    if (keyRegion && keyRegion !== context.bucket.region) {
      return {
        status: 'FAIL',
        severity: 'critical',
        message: `The default key ${named} of bucket ${name} is in ${keyRegion}, the bucket in ${context.bucket.region}: S3 uses only KMS keys in the bucket's Region, so uploads that rely on default encryption fail.`,
        details: { keyRef: named, keyRegion, bucketRegion: context.bucket.region },
      };
    }
    const key = defaultKeyEvidence(context);
    if (!key) {
      return {
        status: 'ERROR',
        message: `No KMS key facts were collected for bucket ${name} (key ${encryption.keyId}).`,
      };
    }
    if ('absent' in key.describe) {
      return {
        status: 'FAIL',
        severity: 'critical',
        message: `The default key ${key.ref} of bucket ${name} does not exist (${key.describe.absent}): uploads that rely on default encryption fail and objects under it cannot be decrypted.`,
        details: { keyRef: key.ref, describe: key.describe },
      };
    }
    if (!('ok' in key.describe)) {
      return {
        status: 'ERROR',
        message: `Could not read the state of the default key ${key.ref} of bucket ${name}: ${probeFailure(key.describe)}.`,
      };
    }
    const metadata = key.describe.ok;
    const keyArn = metadata.Arn ?? key.ref;
    const state = metadata.KeyState ?? (metadata.Enabled ? 'Enabled' : 'unknown');
    if (UNUSABLE_KEY_STATES.has(state)) {
      return {
        status: 'FAIL',
        severity: 'critical',
        message: `The default key ${keyArn} of bucket ${name} is ${state}${metadata.DeletionDate ? ` (deletion on ${metadata.DeletionDate})` : ''}: uploads fail and data under it is at risk.`,
        details: { keyArn, keyState: state, deletionDate: metadata.DeletionDate },
      };
    }
    if (state !== 'Enabled') {
      return {
        status: 'FAIL',
        message: `The default key ${keyArn} of bucket ${name} is in state ${state}, not Enabled.`,
        details: { keyArn, keyState: state },
      };
    }
    const usage = metadata.KeyUsage ?? 'ENCRYPT_DECRYPT';
    const spec = metadata.KeySpec ?? 'SYMMETRIC_DEFAULT';
    if (usage !== 'ENCRYPT_DECRYPT' || spec !== 'SYMMETRIC_DEFAULT') {
      return {
        status: 'FAIL',
        severity: 'critical',
        message: `The default key ${keyArn} of bucket ${name} is a ${spec} ${usage} key; S3 needs a symmetric encryption key, so uploads fail.`,
        details: { keyArn, keySpec: spec, keyUsage: usage },
      };
    }
    return {
      status: 'PASS',
      message: `The default key ${keyArn} of bucket ${name} is Enabled.`,
      details: { keyArn, keyState: state },
    };
  },
};
