import { describe, expect, it } from 'vitest';
import { decryptAccess } from '../../../lib/policy/key-policy.js';
import { rule } from '../../../lib/rules/s3-bucket-kms-key-decrypt-restricted.js';
import { rule as keyUsable } from '../../../lib/rules/s3-bucket-kms-key-usable.js';
import {
  ACCOUNT,
  bucketEvidence,
  KEY_ARN,
  keyEvidence,
  kmsEncryption,
  objectScan,
  tally,
} from '../../helpers/evidence.js';
import { runRule } from '../../helpers/rules.js';

const policy = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const ROOT = {
  Sid: 'Enable IAM User Permissions',
  Effect: 'Allow',
  Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
  Action: 'kms:*',
  Resource: '*',
};
const OPEN = {
  Sid: 'OpenDecrypt',
  Effect: 'Allow',
  Principal: '*',
  Action: 'kms:*',
  Resource: '*',
};

const judge = (keyPolicy: object) =>
  runRule(rule, bucketEvidence('b1', kmsEncryption(KEY_ARN)), [
    keyEvidence(KEY_ARN, { keyPolicy: keyPolicy as never }),
  ]);

describe('Rule: s3-bucket-kms-key-decrypt-restricted', () => {
  it('PASSes the default key policy (the account root only)', () => {
    // Act
    const outcome = judge({ ok: policy(ROOT) });

    // Assess
    expect(outcome).toMatchObject({
      status: 'PASS',
      message:
        'Bucket b1 uses a customer managed key whose key policy allows kms:Decrypt only to named principals.',
    });
  });

  it('FAILs a key policy that lets every principal decrypt, naming the statement', () => {
    // Act
    const outcome = judge({ ok: policy(ROOT, OPEN) });

    // Assess
    expect(outcome).toMatchObject({
      status: 'FAIL',
      message: `The key policy of ${KEY_ARN} (the default key of bucket b1) lets any principal of any account use it for kms:Decrypt (Sid "OpenDecrypt") with no condition naming the callers: the encryption grants no access control.`,
    });
  });

  it.each([
    [
      'kms:ViaService alone',
      { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } },
      'FAIL',
    ],
    [
      'kms:CallerAccount with kms:ViaService (the AWS managed key pattern)',
      {
        StringEquals: {
          'kms:CallerAccount': ACCOUNT,
          'kms:ViaService': 's3.us-east-1.amazonaws.com',
        },
      },
      'PASS',
    ],
    ['aws:PrincipalOrgID', { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } }, 'PASS'],
    ['a negated caller test', { StringNotEquals: { 'kms:CallerAccount': ACCOUNT } }, 'FAIL'],
    ['a wildcard caller', { StringLike: { 'aws:PrincipalArn': '*' } }, 'FAIL'],
  ])('judges Principal "*" with %s', (_what, Condition, status) => {
    // Act
    const outcome = judge({ ok: policy(ROOT, { ...OPEN, Action: 'kms:Decrypt', Condition }) });

    // Assess
    expect(outcome.status).toBe(status);
  });

  it('names other accounts allowed to decrypt, and services', () => {
    // Act
    const outcome = judge({
      ok: policy(
        ROOT,
        {
          Sid: 'Partner',
          Effect: 'Allow',
          Principal: { AWS: ['arn:aws:iam::444455556666:role/reader', '777788889999'] },
          Action: ['kms:Decrypt', 'kms:DescribeKey'],
          Resource: '*',
        },
        {
          Effect: 'Allow',
          Principal: { Service: 'logs.amazonaws.com' },
          Action: 'kms:Decrypt*',
          Resource: '*',
        },
      ),
    });

    // Assess
    expect(outcome).toMatchObject({
      status: 'PASS',
      message: expect.stringContaining(
        'other accounts allowed to decrypt: 444455556666, 777788889999; services: logs.amazonaws.com',
      ),
      details: { otherAccounts: ['444455556666', '777788889999'] },
    });
  });

  it('counts an open Allow that a Deny narrows to the organisation as narrowed', () => {
    // Act
    const access = decryptAccess(
      policy(OPEN, {
        Effect: 'Deny',
        Principal: '*',
        Action: 'kms:Decrypt',
        Resource: '*',
        Condition: { StringNotEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } },
      }),
    );

    // Assess
    expect(access).toMatchObject({ openTo: [], narrowedByDeny: ['Sid "OpenDecrypt"'] });
  });

  it('judges the keys the objects use too', () => {
    // Prepare
    const other = 'arn:aws:kms:us-east-1:111122223333:key/0000aaaa-0000-4000-8000-000000000000';
    const bucket = bucketEvidence('b1', {
      ...kmsEncryption(KEY_ARN),
      objects: objectScan({
        byEncryption: { 'SSE-KMS': tally(3, 'k') },
        byKmsKey: { [other]: tally(3, 'k') },
      }),
    });

    // Act
    const outcome = runRule(rule, bucket, [
      keyEvidence(KEY_ARN),
      keyEvidence(other, { keyPolicy: { ok: policy(ROOT, OPEN) } }),
    ]);

    // Assess
    expect(outcome.status).toBe('FAIL');
    expect(outcome.message).toContain(
      `The key policy of ${other} (a key its objects use of bucket b1)`,
    );
  });

  it('is ERROR when GetKeyPolicy was denied in the key’s own account, or the policy is not one', () => {
    // Act
    const denied = judge({
      denied: 'AccessDeniedException',
      message: `User: arn:aws:sts::${ACCOUNT}:assumed-role/s3scan/scan is not authorized to perform: kms:GetKeyPolicy on this resource because the resource does not exist in this Region, no resource-based policies allow access, or a resource-based policy explicitly denies access`,
    });
    const broken = judge({ ok: '{"Statement":' });

    // Assess
    expect(denied).toMatchObject({
      status: 'ERROR',
      message: expect.stringMatching(/access denied \(AccessDeniedException/),
    });
    expect(broken).toMatchObject({
      status: 'ERROR',
      message: expect.stringMatching(/not a valid policy: the policy is not valid JSON/),
    });
  });

  it('SKIPs a key of another account, whose policy only its own account can read', () => {
    // Prepare
    const foreign = 'arn:aws:kms:us-east-1:999988887777:key/1111bbbb-1111-4111-8111-111111111111';

    // Act
    const outcome = runRule(rule, bucketEvidence('b1', kmsEncryption(foreign)), [
      keyEvidence(foreign, {
        keyPolicy: { denied: 'AccessDeniedException', message: 'not authorized' },
      }),
    ]);

    // Assess
    expect(outcome).toMatchObject({
      status: 'SKIPPED',
      message: expect.stringMatching(/only KMS keys of other accounts .*scan those accounts/),
    });
  });

  it('SKIPs SSE-S3 and the AWS managed key', () => {
    // Act
    const outcome = runRule(rule, bucketEvidence('b1'));

    // Assess
    expect(outcome.status).toBe('SKIPPED');
  });
});

describe('Rule: s3-bucket-kms-key-usable, the key Region', () => {
  it('FAILs a default key in another Region than the bucket, however healthy the key', () => {
    // Prepare
    const elsewhere = 'arn:aws:kms:eu-west-1:111122223333:key/2222cccc-2222-4222-8222-222222222222';

    // Act
    const outcome = runRule(keyUsable, bucketEvidence('b1', kmsEncryption(elsewhere)), [
      keyEvidence(elsewhere),
    ]);

    // Assess
    expect(outcome).toMatchObject({
      status: 'FAIL',
      severity: 'critical',
      message: `The default key ${elsewhere} of bucket b1 is in eu-west-1, the bucket in us-east-1: S3 uses only KMS keys in the bucket's Region, so uploads that rely on default encryption fail.`,
    });
  });
});
