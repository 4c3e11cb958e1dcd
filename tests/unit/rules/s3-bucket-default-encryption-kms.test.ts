import { describe, expect, it } from 'vitest';
import { rule } from '../../../lib/rules/s3-bucket-default-encryption-kms.js';
import { bucketEvidence, KEY_ARN, kmsEncryption } from '../../helpers/evidence.js';
import { runRule } from '../../helpers/rules.js';

describe('Rule: s3-bucket-default-encryption-kms', () => {
  it.each([
    ['SSE-KMS with a key', kmsEncryption(KEY_ARN)],
    ['SSE-KMS with aws/s3', kmsEncryption(undefined)],
    ['DSSE-KMS (counts as KMS)', kmsEncryption(KEY_ARN, { algorithm: 'aws:kms:dsse' })],
  ])('passes %s', (_name, encryption) => {
    // Act
    const outcome = runRule(rule, bucketEvidence('b1', encryption));

    // Assess
    expect(outcome.status).toBe('PASS');
  });

  it('fails SSE-S3', () => {
    // Act
    const outcome = runRule(rule, bucketEvidence('b1'));

    // Assess
    expect(outcome).toMatchObject({ status: 'FAIL', message: expect.stringMatching(/SSE-S3/) });
  });

  it('fails ServerSideEncryptionConfigurationNotFoundError as the SSE-S3 S3 applies', () => {
    // Act
    const outcome = runRule(
      rule,
      bucketEvidence('b1', {
        encryption: { absent: 'ServerSideEncryptionConfigurationNotFoundError' },
      }),
    );

    // Assess
    expect(outcome).toMatchObject({
      status: 'FAIL',
      message: expect.stringMatching(/ServerSideEncryptionConfigurationNotFoundError.*SSE-S3/),
    });
  });

  it.each(['aws:fsx', 'aws:backup', 'aws:something-new'])(
    'reports %s as encrypted, unknown type (ERROR), not a crash',
    (algorithm) => {
      // Act
      const outcome = runRule(
        rule,
        bucketEvidence('b1', {
          encryption: {
            ok: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: algorithm } }] },
          },
        }),
      );

      // Assess
      expect(outcome).toMatchObject({
        status: 'ERROR',
        message: expect.stringMatching(/encrypted, unknown type/),
      });
    },
  );

  it('is an ERROR when GetBucketEncryption was denied', () => {
    // Act
    const outcome = runRule(
      rule,
      bucketEvidence('b1', { encryption: { denied: 'AccessDenied', message: 'Access Denied' } }),
    );

    // Assess
    expect(outcome.status).toBe('ERROR');
  });
});
