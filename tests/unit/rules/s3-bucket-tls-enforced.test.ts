import { describe, expect, it } from 'vitest';
import { rule } from '../../../lib/rules/s3-bucket-tls-enforced.js';
import { bucketEvidence, tlsPolicy } from '../../helpers/evidence.js';
import { runRule } from '../../helpers/rules.js';

describe('Rule: s3-bucket-tls-enforced', () => {
  it('passes with the canonical TLS-only policy', () => {
    // Act
    const outcome = runRule(rule, bucketEvidence('b1', { policy: { ok: tlsPolicy('b1') } }));

    // Assess
    expect(outcome.status).toBe('PASS');
  });

  it('fails without a bucket policy', () => {
    // Act
    const outcome = runRule(rule, bucketEvidence('b1'));

    // Assess
    expect(outcome).toMatchObject({
      status: 'FAIL',
      message: expect.stringMatching(/no bucket policy/),
    });
  });

  it('fails on an objects-only policy and says which statement came closest', () => {
    // Prepare
    const policy = JSON.parse(tlsPolicy('b1'));
    policy.Statement[0].Resource = 'arn:aws:s3:::b1/*';

    // Act
    const outcome = runRule(rule, bucketEvidence('b1', { policy: { ok: JSON.stringify(policy) } }));

    // Assess
    expect(outcome.status).toBe('FAIL');
    expect(outcome.message).toMatch(/RestrictToTLSRequestsOnly.*objects only/);
    expect(outcome.details?.gaps).toEqual([
      expect.objectContaining({ verdict: 'tlsEnforced', resources: ['arn:aws:s3:::b1'] }),
    ]);
  });

  it('is an ERROR, never PASS or FAIL, when GetBucketPolicy was denied', () => {
    // Act
    const outcome = runRule(
      rule,
      bucketEvidence('b1', { policy: { denied: 'AccessDenied', message: 'Access Denied' } }),
    );

    // Assess
    expect(outcome).toMatchObject({
      status: 'ERROR',
      message: expect.stringMatching(/access denied/),
    });
  });

  it('is an ERROR when the stored policy is not JSON', () => {
    // Act
    const outcome = runRule(rule, bucketEvidence('b1', { policy: { ok: '{"Statement": [' } }));

    // Assess
    expect(outcome).toMatchObject({
      status: 'ERROR',
      message: expect.stringMatching(/not valid JSON/),
    });
  });
});
