import { describe, expect, it } from 'vitest';
import { rule } from '../../../lib/rules/s3-bucket-key-enabled.js';
import { bucketEvidence, KEY_ARN, kmsEncryption } from '../../helpers/evidence.js';
import { runRule } from '../../helpers/rules.js';

describe('Rule: s3-bucket-key-enabled', () => {
  it('passes SSE-KMS with the Bucket Key', () => {
    expect(
      runRule(rule, bucketEvidence('b1', kmsEncryption(KEY_ARN, { bucketKey: true }))).status,
    ).toBe('PASS');
  });

  it.each([
    ['false', false],
    ['absent', undefined],
  ])('fails SSE-KMS when BucketKeyEnabled is %s', (_name, bucketKey) => {
    // Act
    const outcome = runRule(
      rule,
      bucketEvidence('b1', kmsEncryption(KEY_ARN, bucketKey === undefined ? {} : { bucketKey })),
    );

    // Assess
    expect(outcome.status).toBe('FAIL');
  });

  it('skips DSSE-KMS, which does not support Bucket Keys', () => {
    // Act
    const outcome = runRule(
      rule,
      bucketEvidence('b1', kmsEncryption(KEY_ARN, { algorithm: 'aws:kms:dsse' })),
    );

    // Assess
    expect(outcome).toMatchObject({
      status: 'SKIPPED',
      message: expect.stringMatching(/DSSE-KMS/),
    });
  });

  it('is an ERROR when GetBucketEncryption failed', () => {
    expect(
      runRule(
        rule,
        bucketEvidence('b1', {
          encryption: { error: 'SlowDown', message: 'Please reduce your request rate.' },
        }),
      ).status,
    ).toBe('ERROR');
  });
});
