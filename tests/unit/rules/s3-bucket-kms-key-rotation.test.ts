import { describe, expect, it } from 'vitest';
import { rule } from '../../../lib/rules/s3-bucket-kms-key-rotation.js';
import { bucketEvidence, KEY_ARN, keyEvidence, kmsEncryption } from '../../helpers/evidence.js';
import { runRule } from '../../helpers/rules.js';

const bucket = bucketEvidence('b1', kmsEncryption(KEY_ARN));

describe('Rule: s3-bucket-kms-key-rotation', () => {
  it('passes a rotating key', () => {
    expect(runRule(rule, bucket, [keyEvidence(KEY_ARN)]).status).toBe('PASS');
  });

  it('passes the AWS managed key (always rotates)', () => {
    expect(runRule(rule, bucketEvidence('b1', kmsEncryption(undefined))).status).toBe('PASS');
  });

  it('fails when rotation is off', () => {
    // Act
    const outcome = runRule(rule, bucket, [
      keyEvidence(KEY_ARN, { rotation: { ok: { KeyRotationEnabled: false } } }),
    ]);

    // Assess
    expect(outcome.status).toBe('FAIL');
  });

  it('fails a key that cannot rotate (UnsupportedOperationException)', () => {
    // Act
    const outcome = runRule(rule, bucket, [
      keyEvidence(KEY_ARN, {
        rotation: { error: 'UnsupportedOperationException', message: 'imported key material' },
      }),
    ]);

    // Assess
    expect(outcome).toMatchObject({
      status: 'FAIL',
      message: expect.stringMatching(/cannot rotate/),
    });
  });

  it('is an ERROR when GetKeyRotationStatus was denied', () => {
    // Act
    const outcome = runRule(rule, bucket, [
      keyEvidence(KEY_ARN, { rotation: { denied: 'AccessDeniedException' } }),
    ]);

    // Assess
    expect(outcome.status).toBe('ERROR');
  });

  it('is an ERROR when DescribeKey was denied', () => {
    // Act
    const outcome = runRule(rule, bucket, [
      { ref: KEY_ARN, region: 'us-east-1', describe: { denied: 'AccessDeniedException' } },
    ]);

    // Assess
    expect(outcome.status).toBe('ERROR');
  });
});
