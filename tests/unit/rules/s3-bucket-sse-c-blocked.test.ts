import { describe, expect, it } from 'vitest';
import { rule } from '../../../lib/rules/s3-bucket-sse-c-blocked.js';
import { bucketEvidence } from '../../helpers/evidence.js';
import { runRule } from '../../helpers/rules.js';

const sseS3 = (blocked?: string[]) => ({
  ok: {
    Rules: [
      {
        ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
        BucketKeyEnabled: false,
        ...(blocked ? { BlockedEncryptionTypes: { EncryptionType: blocked } } : {}),
      },
    ],
  },
});
const denySseCPolicy = JSON.stringify({
  Statement: {
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:PutObject',
    Resource: 'arn:aws:s3:::b1/*',
    Condition: { Null: { 's3:x-amz-server-side-encryption-customer-algorithm': 'false' } },
  },
});

describe('Rule: s3-bucket-sse-c-blocked', () => {
  it('passes BlockedEncryptionTypes {EncryptionType: ["SSE-C"]} and reports both controls', () => {
    // Act
    const outcome = runRule(rule, bucketEvidence('b1', { encryption: sseS3(['SSE-C']) }));

    // Assess
    expect(outcome).toMatchObject({
      status: 'PASS',
      details: { blockedEncryptionTypes: true, policySseCBlocked: null },
    });
  });

  it('passes a policy Deny on the SSE-C header', () => {
    // Act
    const outcome = runRule(
      rule,
      bucketEvidence('b1', { encryption: sseS3(['NONE']), policy: { ok: denySseCPolicy } }),
    );

    // Assess
    expect(outcome).toMatchObject({
      status: 'PASS',
      details: { blockedEncryptionTypes: false, policySseCBlocked: true },
    });
  });

  it.each([
    ['["NONE"]', ['NONE']],
    ['absent', undefined],
  ])('fails when BlockedEncryptionTypes is %s and no policy blocks', (_name, blocked) => {
    expect(runRule(rule, bucketEvidence('b1', { encryption: sseS3(blocked) })).status).toBe('FAIL');
  });

  it('is an ERROR when the policy could not be read and the bucket does not block', () => {
    // Act
    const outcome = runRule(
      rule,
      bucketEvidence('b1', { encryption: sseS3(), policy: { denied: 'AccessDenied' } }),
    );

    // Assess
    expect(outcome.status).toBe('ERROR');
  });

  it('still passes on BlockedEncryptionTypes when the policy could not be read', () => {
    expect(
      runRule(
        rule,
        bucketEvidence('b1', { encryption: sseS3(['SSE-C']), policy: { denied: 'AccessDenied' } }),
      ).status,
    ).toBe('PASS');
  });
});
