import { describe, expect, it } from 'vitest';
import { rule } from '../../../lib/rules/s3-bucket-policy-pins-kms-key.js';
import { bucketEvidence, KEY_ARN, keyEvidence, kmsEncryption } from '../../helpers/evidence.js';
import { runRule } from '../../helpers/rules.js';

const pin = (key: string) =>
  JSON.stringify({
    Statement: {
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: 'arn:aws:s3:::b1/*',
      Condition: {
        ArnNotEqualsIfExists: { 's3:x-amz-server-side-encryption-aws-kms-key-id': key },
      },
    },
  });

describe('Rule: s3-bucket-policy-pins-kms-key', () => {
  it('passes when the policy pins the default key', () => {
    // Act
    const outcome = runRule(
      rule,
      bucketEvidence('b1', { ...kmsEncryption(KEY_ARN), policy: { ok: pin(KEY_ARN) } }),
      [keyEvidence(KEY_ARN)],
    );

    // Assess
    expect(outcome.status).toBe('PASS');
  });

  it('fails when the policy pins another key than the default', () => {
    // Act
    const outcome = runRule(
      rule,
      bucketEvidence('b1', {
        ...kmsEncryption(KEY_ARN),
        policy: { ok: pin('arn:aws:kms:us-east-1:111122223333:key/other') },
      }),
      [keyEvidence(KEY_ARN)],
    );

    // Assess
    expect(outcome).toMatchObject({
      status: 'FAIL',
      message: expect.stringMatching(/not the default key/),
    });
  });

  it('fails without a pin', () => {
    expect(
      runRule(rule, bucketEvidence('b1', kmsEncryption(KEY_ARN)), [keyEvidence(KEY_ARN)]).status,
    ).toBe('FAIL');
  });

  it('is an ERROR when the policy could not be read', () => {
    expect(
      runRule(
        rule,
        bucketEvidence('b1', { ...kmsEncryption(KEY_ARN), policy: { denied: 'AccessDenied' } }),
      ).status,
    ).toBe('ERROR');
  });

  it('is SKIPPED for SSE-S3 and for aws/s3', () => {
    expect(runRule(rule, bucketEvidence('b1')).status).toBe('SKIPPED');
    expect(runRule(rule, bucketEvidence('b1', kmsEncryption(undefined))).status).toBe('SKIPPED');
  });
});
