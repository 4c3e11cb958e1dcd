import { describe, expect, it } from 'vitest';
import { rule as defaultEncryptionKms } from '../../../lib/rules/s3-bucket-default-encryption-kms.js';
import { rule as kmsKeyCustomerManaged } from '../../../lib/rules/s3-bucket-kms-key-customer-managed.js';
import { rule as kmsKeyRotation } from '../../../lib/rules/s3-bucket-kms-key-rotation.js';
import { rule as kmsKeySameAccount } from '../../../lib/rules/s3-bucket-kms-key-same-account.js';
import { rule as kmsKeyUsable } from '../../../lib/rules/s3-bucket-kms-key-usable.js';
import { rule as policyPinsKmsKey } from '../../../lib/rules/s3-bucket-policy-pins-kms-key.js';
import { rule as sseCBlocked } from '../../../lib/rules/s3-bucket-sse-c-blocked.js';
import { rule as tlsMinVersion } from '../../../lib/rules/s3-bucket-tls-min-version.js';
import { rule as objectsKmsKeyMismatch } from '../../../lib/rules/s3-objects-kms-key-mismatch.js';
import { rule as objectsKmsKeyUnusable } from '../../../lib/rules/s3-objects-kms-key-unusable.js';
import { rule as objectsWeakerThanDefault } from '../../../lib/rules/s3-objects-weaker-than-default.js';
import {
  ACCOUNT,
  bucketEvidence,
  KEY_ARN,
  keyEvidence,
  keyMetadata,
  kmsEncryption,
  objectScan,
  tally,
  tlsPolicy,
} from '../../helpers/evidence.js';
import { runRule } from '../../helpers/rules.js';

/** What a policy FAIL adds when the evidence holds no organisation policies. */
const RCPS_NOT_READ =
  " RCPs were not read (this scan did not read the organisation's policies), so an RCP enforcing this would not be seen.";

/** A bucket policy that denies requests below a TLS version (aws-facts.md: s3:TlsVersion). */
function tlsVersionPolicy(bucket: string, version: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
        Condition: { NumericLessThan: { 's3:TlsVersion': version } },
      },
    ],
  });
}

// The paths the per-rule tests do not reach: each rule's rarer PASS, FAIL and ERROR answers.
describe('Rules: the rarer verdicts', () => {
  it('s3-bucket-default-encryption-kms FAILs a configuration with no default algorithm', () => {
    // Act
    const outcome = runRule(
      defaultEncryptionKms,
      bucketEvidence('b', { encryption: { ok: { Rules: [{}] } } }),
    );

    // Assess
    expect(outcome).toEqual({
      status: 'FAIL',
      message: 'Bucket b returned an encryption configuration without a default algorithm.',
    });
  });

  it.each([
    ['s3-bucket-kms-key-customer-managed', kmsKeyCustomerManaged],
    ['s3-bucket-kms-key-usable', kmsKeyUsable],
  ])('%s is ERROR when no facts were collected for the default key', (_id, rule) => {
    // Act
    const outcome = runRule(rule, bucketEvidence('b', kmsEncryption(KEY_ARN)));

    // Assess
    expect(outcome).toEqual({
      status: 'ERROR',
      message: `No KMS key facts were collected for bucket b (key ${KEY_ARN}).`,
    });
  });

  it('s3-bucket-kms-key-rotation PASSes an AWS managed key, and is ERROR when rotation was not read', () => {
    // Act
    const awsManaged = runRule(kmsKeyRotation, bucketEvidence('b', kmsEncryption(KEY_ARN)), [
      keyEvidence(KEY_ARN, { describe: { ok: keyMetadata(KEY_ARN, { KeyManager: 'AWS' }) } }),
    ]);
    const { rotation: _dropped, ...withoutRotation } = keyEvidence(KEY_ARN);
    const unread = runRule(kmsKeyRotation, bucketEvidence('b', kmsEncryption(KEY_ARN)), [
      withoutRotation,
    ]);

    // Assess
    expect(awsManaged).toEqual({
      status: 'PASS',
      message: `The default key ${KEY_ARN} of bucket b is AWS managed and rotates every year.`,
    });
    expect(unread).toEqual({
      status: 'ERROR',
      message: `The rotation status of the default key ${KEY_ARN} of bucket b was not collected.`,
    });
  });

  it('s3-bucket-kms-key-same-account PASSes aws/s3, and reads the owner from the key reference when the default names a bare key id', () => {
    // Act
    const awsManaged = runRule(kmsKeySameAccount, bucketEvidence('b', kmsEncryption(undefined)));
    const bareId = runRule(
      kmsKeySameAccount,
      bucketEvidence('b', {
        ...kmsEncryption('1234abcd-12ab-34cd-56ef-1234567890ab'),
        defaultKmsKeyRef: KEY_ARN,
      }),
    );

    // Assess
    expect(awsManaged).toEqual({
      status: 'PASS',
      message: 'Bucket b uses the AWS managed key aws/s3 of its own account.',
    });
    expect(bareId).toMatchObject({ status: 'PASS', details: { keyAccount: ACCOUNT } });
  });

  it('s3-bucket-policy-pins-kms-key FAILs without a policy and with one that pins no key', () => {
    // Act
    const none = runRule(policyPinsKmsKey, bucketEvidence('b', kmsEncryption(KEY_ARN)), [
      keyEvidence(KEY_ARN),
    ]);
    const unpinned = runRule(
      policyPinsKmsKey,
      bucketEvidence('b', { ...kmsEncryption(KEY_ARN), policy: { ok: tlsPolicy('b') } }),
      [keyEvidence(KEY_ARN)],
    );

    // Assess
    expect(none).toMatchObject({
      status: 'FAIL',
      message: `Bucket b has no bucket policy, so uploads may name any KMS key.${RCPS_NOT_READ}`,
      details: { rcp: { state: 'not-read' } },
    });
    expect(unpinned).toMatchObject({
      status: 'FAIL',
      message: `The bucket policy of b does not pin uploads to a KMS key ARN.${RCPS_NOT_READ}`,
      details: { kmsKeyEnforced: null, gaps: [] },
    });
  });

  it('s3-bucket-sse-c-blocked is ERROR when the encryption read was denied, and FAILs with the policy gaps or with no configuration', () => {
    // Act
    const denied = runRule(
      sseCBlocked,
      bucketEvidence('b', { encryption: { denied: 'AccessDenied', message: 'Access Denied' } }),
    );
    const withPolicy = runRule(
      sseCBlocked,
      bucketEvidence('b', { policy: { ok: tlsPolicy('b') } }),
    );
    const noConfiguration = runRule(
      sseCBlocked,
      bucketEvidence('b', {
        encryption: { absent: 'ServerSideEncryptionConfigurationNotFoundError' },
      }),
    );

    // Assess
    expect(denied).toMatchObject({
      status: 'ERROR',
      message:
        'Could not tell whether bucket b blocks SSE-C: GetBucketEncryption: access denied (AccessDenied: Access Denied).',
    });
    expect(withPolicy).toMatchObject({ status: 'FAIL', details: { gaps: [] } });
    expect(noConfiguration).toMatchObject({
      status: 'FAIL',
      details: { blockedEncryptionTypes: false },
    });
    expect(noConfiguration.details).not.toHaveProperty('gaps');
  });

  it('s3-bucket-tls-min-version PASSes a policy that denies below the required version and FAILs one that stops short', () => {
    // Act
    const strict = runRule(
      tlsMinVersion,
      bucketEvidence('b', { policy: { ok: tlsVersionPolicy('b', '1.3') } }),
      [],
      { minTlsVersion: '1.3' },
    );
    const short = runRule(
      tlsMinVersion,
      bucketEvidence('b', { policy: { ok: tlsVersionPolicy('b', '1.2') } }),
      [],
      { minTlsVersion: '1.3' },
    );

    // Assess
    expect(strict).toMatchObject({
      status: 'PASS',
      message:
        'Bucket b denies TLS versions below 1.3 (required: 1.3): denied by the bucket policy statement #0.',
      details: {
        required: '1.3',
        tlsMinVersion: '1.3',
        enforcedBy: [{ layer: 'bucket-policy', statement: 'bucket policy statement #0' }],
      },
    });
    expect(short).toMatchObject({
      status: 'FAIL',
      message: `Bucket b accepts TLS 1.2 although 1.3 is required.${RCPS_NOT_READ}`,
      details: { required: '1.3', tlsMinVersion: '1.2' },
    });
  });

  it('s3-objects-kms-key-mismatch SKIPs a bucket with no default KMS key', () => {
    // Act
    const outcome = runRule(objectsKmsKeyMismatch, bucketEvidence('b', { objects: objectScan() }));

    // Assess
    expect(outcome).toEqual({
      status: 'SKIPPED',
      message: 'Bucket b has no default KMS key to compare objects with.',
    });
  });

  it('s3-objects-kms-key-unusable is ERROR for objects under a key that was never described', () => {
    // Act
    const outcome = runRule(
      objectsKmsKeyUnusable,
      bucketEvidence('b', {
        objects: objectScan({
          byEncryption: { 'SSE-KMS': tally(3, 'k1') },
          byKmsKey: { [KEY_ARN]: tally(3, 'k1') },
        }),
      }),
    );

    // Assess
    expect(outcome).toMatchObject({
      status: 'ERROR',
      message: `Could not read the state of every key that objects of bucket b use: ${KEY_ARN} (not described).`,
    });
  });

  it('s3-objects-weaker-than-default is ERROR when the default is of an unknown type', () => {
    // Act
    const outcome = runRule(
      objectsWeakerThanDefault,
      bucketEvidence('b', {
        ...kmsEncryption(undefined, { algorithm: 'aws:future' }),
        objects: objectScan(),
      }),
    );

    // Assess
    expect(outcome).toEqual({
      status: 'ERROR',
      message:
        'Bucket b has a default of unknown type "aws:future", so object strength cannot be compared.',
    });
  });

  it('s3-bucket-kms-key-same-account reads the owner from DescribeKey when the default names a bare key id', () => {
    // Prepare: the bucket default names the key by id; DescribeKey says another account owns it.
    const foreign = KEY_ARN.replace(ACCOUNT, '444455556666');
    const bucket = bucketEvidence('b', {
      ...kmsEncryption('1234abcd-12ab-34cd-56ef-1234567890ab'),
      defaultKmsKeyRef: KEY_ARN,
    });

    // Act
    const outcome = runRule(kmsKeySameAccount, bucket, [
      keyEvidence(KEY_ARN, { describe: { ok: keyMetadata(foreign) } }),
    ]);

    // Assess
    expect(outcome).toMatchObject({ status: 'FAIL', details: { keyAccount: '444455556666' } });
  });

  it('s3-bucket-sse-c-blocked lists only the SSE-C gaps of a policy that leaves other verdicts open too', () => {
    // Prepare: an Allow-only policy leaves TLS and SSE-C open alike.
    const allowOnly = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::b/*',
        },
      ],
    });

    // Act
    const outcome = runRule(sseCBlocked, bucketEvidence('b', { policy: { ok: allowOnly } }));

    // Assess
    const gaps = (outcome.details as { gaps: { verdict: string }[] }).gaps;
    expect(outcome.status).toBe('FAIL');
    expect(gaps.map((g) => g.verdict)).toEqual(gaps.map(() => 'sseCBlocked'));
  });

  it('s3-bucket-policy-pins-kms-key lists only the key-pinning gaps of a policy that pins nothing', () => {
    // Prepare
    const allowOnly = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::b/*' },
      ],
    });

    // Act
    const outcome = runRule(
      policyPinsKmsKey,
      bucketEvidence('b', { ...kmsEncryption(KEY_ARN), policy: { ok: allowOnly } }),
      [keyEvidence(KEY_ARN)],
    );

    // Assess
    const gaps = (outcome.details as { gaps: { verdict: string }[] }).gaps;
    expect(outcome.status).toBe('FAIL');
    expect(gaps.map((g) => g.verdict)).toEqual(gaps.map(() => 'kmsKeyEnforced'));
  });
});
