import { describe, expect, it } from 'vitest';
import { rule } from '../../../lib/rules/s3-bucket-sse-c-blocked.js';
import { bucketEvidence, objectScan, tally } from '../../helpers/evidence.js';
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

  it('passes a policy that requires the SSE header, saying SSE-C is rejected as a side effect', () => {
    // Prepare: AWS's SSE-KMS example; SSE-C uploads carry no x-amz-server-side-encryption.
    const requireHeader = JSON.stringify({
      Statement: {
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:PutObject',
        Resource: 'arn:aws:s3:::b1/*',
        Condition: { Null: { 's3:x-amz-server-side-encryption': 'true' } },
      },
    });

    // Act
    const outcome = runRule(
      rule,
      bucketEvidence('b1', { encryption: sseS3(['NONE']), policy: { ok: requireHeader } }),
    );

    // Assess
    expect(outcome).toMatchObject({
      status: 'PASS',
      message: expect.stringMatching(/as a side effect of its bucket policy/),
      details: { policySseCBlocked: null, policyRejectsSseCAsSideEffect: true },
    });
  });

  it('says when SSE-C objects remain although SSE-C is now blocked', () => {
    // Prepare
    const objects = objectScan({
      byEncryption: { 'SSE-S3': tally(8, 'a'), 'SSE-C': tally(2, 'locked/1') },
      newestSseC: '2025-12-24T08:00:00.000Z',
    });

    // Act
    const outcome = runRule(rule, bucketEvidence('b1', { encryption: sseS3(['SSE-C']), objects }));

    // Assess
    expect(outcome).toMatchObject({
      status: 'PASS',
      message: expect.stringMatching(
        /2 SSE-C objects remain, written before the block \(the newest 2025-12-24T08:00:00.000Z\)/,
      ),
      details: { existingSseCObjects: 2 },
    });
  });
});
