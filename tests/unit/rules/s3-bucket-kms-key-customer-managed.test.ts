import { describe, expect, it } from 'vitest';
import { rule } from '../../../lib/rules/s3-bucket-kms-key-customer-managed.js';
import {
  bucketEvidence,
  KEY_ARN,
  keyEvidence,
  keyMetadata,
  kmsEncryption,
} from '../../helpers/evidence.js';
import { runRule } from '../../helpers/rules.js';

describe('Rule: s3-bucket-kms-key-customer-managed', () => {
  it('passes a customer managed key', () => {
    // Act
    const outcome = runRule(rule, bucketEvidence('b1', kmsEncryption(KEY_ARN)), [
      keyEvidence(KEY_ARN),
    ]);

    // Assess
    expect(outcome.status).toBe('PASS');
  });

  it.each([
    ['no KMSMasterKeyID', undefined],
    ['alias/aws/s3', 'alias/aws/s3'],
    ['the alias ARN of aws/s3', 'arn:aws:kms:us-east-1:111122223333:alias/aws/s3'],
  ])('fails the AWS managed key given as %s, without any KMS fact', (_name, keyId) => {
    // Act
    const outcome = runRule(rule, bucketEvidence('b1', kmsEncryption(keyId)));

    // Assess
    expect(outcome).toMatchObject({ status: 'FAIL', message: expect.stringMatching(/aws\/s3/) });
  });

  it('fails a key that DescribeKey reports as AWS managed', () => {
    // Act
    const outcome = runRule(rule, bucketEvidence('b1', kmsEncryption(KEY_ARN)), [
      keyEvidence(KEY_ARN, { describe: { ok: keyMetadata(KEY_ARN, { KeyManager: 'AWS' }) } }),
    ]);

    // Assess
    expect(outcome.status).toBe('FAIL');
  });

  it('fails a customer key outside kms.allowedKeyArns', () => {
    // Act
    const outcome = runRule(
      rule,
      bucketEvidence('b1', kmsEncryption(KEY_ARN)),
      [keyEvidence(KEY_ARN)],
      {
        allowedKmsKeyArns: ['arn:aws:kms:us-east-1:111122223333:key/other'],
      },
    );

    // Assess
    expect(outcome).toMatchObject({
      status: 'FAIL',
      message: expect.stringMatching(/allowedKeyArns/),
    });
  });

  it('is an ERROR when DescribeKey was denied (KMS answers 400 AccessDeniedException)', () => {
    // Act
    const outcome = runRule(rule, bucketEvidence('b1', kmsEncryption(KEY_ARN)), [
      keyEvidence(KEY_ARN, {
        describe: {
          denied: 'AccessDeniedException',
          message: 'not authorized to perform: kms:DescribeKey',
        },
      }),
    ]);

    // Assess
    expect(outcome.status).toBe('ERROR');
  });

  it('is SKIPPED for SSE-S3', () => {
    expect(runRule(rule, bucketEvidence('b1')).status).toBe('SKIPPED');
  });
});
