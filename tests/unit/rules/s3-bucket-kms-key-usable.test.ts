import { describe, expect, it } from 'vitest';
import { rule } from '../../../lib/rules/s3-bucket-kms-key-usable.js';
import {
  bucketEvidence,
  KEY_ARN,
  keyEvidence,
  keyMetadata,
  kmsEncryption,
} from '../../helpers/evidence.js';
import { runRule } from '../../helpers/rules.js';

const bucket = bucketEvidence('b1', kmsEncryption(KEY_ARN));

describe('Rule: s3-bucket-kms-key-usable', () => {
  it('passes an Enabled symmetric key', () => {
    expect(runRule(rule, bucket, [keyEvidence(KEY_ARN)]).status).toBe('PASS');
  });

  it('passes the AWS managed key without describing it', () => {
    expect(runRule(rule, bucketEvidence('b1', kmsEncryption(undefined))).status).toBe('PASS');
  });

  it.each(['Disabled', 'PendingDeletion', 'PendingReplicaDeletion', 'Unavailable'])(
    'fails a %s key as critical',
    (state) => {
      // Act
      const outcome = runRule(rule, bucket, [
        keyEvidence(KEY_ARN, {
          describe: {
            ok: keyMetadata(KEY_ARN, {
              KeyState: state,
              Enabled: false,
              DeletionDate: '2026-11-20T00:00:00.000Z',
            }),
          },
        }),
      ]);

      // Assess
      expect(outcome).toMatchObject({ status: 'FAIL', severity: 'critical' });
    },
  );

  it('fails a missing key (NotFoundException) as critical', () => {
    // Act
    const outcome = runRule(rule, bucket, [
      keyEvidence(KEY_ARN, { describe: { absent: 'NotFoundException' } }),
    ]);

    // Assess
    expect(outcome).toMatchObject({
      status: 'FAIL',
      severity: 'critical',
      message: expect.stringMatching(/does not exist/),
    });
  });

  it('fails an asymmetric key as critical', () => {
    // Act
    const outcome = runRule(rule, bucket, [
      keyEvidence(KEY_ARN, {
        describe: { ok: keyMetadata(KEY_ARN, { KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }) },
      }),
    ]);

    // Assess
    expect(outcome).toMatchObject({ status: 'FAIL', severity: 'critical' });
  });

  it('fails a key still being created with the default severity', () => {
    // Act
    const outcome = runRule(rule, bucket, [
      keyEvidence(KEY_ARN, { describe: { ok: keyMetadata(KEY_ARN, { KeyState: 'Creating' }) } }),
    ]);

    // Assess
    expect(outcome.status).toBe('FAIL');
    expect(outcome.severity).toBeUndefined();
  });

  it('is an ERROR when DescribeKey was denied', () => {
    // Act
    const outcome = runRule(rule, bucket, [
      keyEvidence(KEY_ARN, { describe: { denied: 'AccessDeniedException' } }),
    ]);

    // Assess
    expect(outcome.status).toBe('ERROR');
  });
});
