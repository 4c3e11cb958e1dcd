import { describe, expect, it } from 'vitest';
import { rule } from '../../../lib/rules/s3-bucket-policy-requires-encryption.js';
import { bucketEvidence } from '../../helpers/evidence.js';
import { runRule } from '../../helpers/rules.js';

const withCondition = (condition: object) =>
  JSON.stringify({
    Statement: {
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: 'arn:aws:s3:::b1/*',
      Condition: condition,
    },
  });

describe('Rule: s3-bucket-policy-requires-encryption', () => {
  it('passes when header-less uploads are denied', () => {
    // Act
    const outcome = runRule(
      rule,
      bucketEvidence('b1', {
        policy: { ok: withCondition({ Null: { 's3:x-amz-server-side-encryption': 'true' } }) },
      }),
    );

    // Assess
    expect(outcome.status).toBe('PASS');
  });

  it('fails a positive StringEquals that lets header-less uploads through', () => {
    // Act
    const outcome = runRule(
      rule,
      bucketEvidence('b1', {
        policy: {
          ok: withCondition({ StringEquals: { 's3:x-amz-server-side-encryption': 'AES256' } }),
        },
      }),
    );

    // Assess
    expect(outcome).toMatchObject({ status: 'FAIL', details: { sseEnforced: false } });
  });

  it('fails without a policy', () => {
    expect(runRule(rule, bucketEvidence('b1')).status).toBe('FAIL');
  });

  it('is an ERROR when the policy read failed', () => {
    expect(
      runRule(rule, bucketEvidence('b1', { policy: { error: 'InternalError', message: 'x' } }))
        .status,
    ).toBe('ERROR');
  });
});
