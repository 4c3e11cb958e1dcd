import { describe, expect, it } from 'vitest';
import { rule } from '../../../lib/rules/s3-bucket-kms-key-same-account.js';
import { bucketEvidence, KEY_ARN, keyEvidence, kmsEncryption } from '../../helpers/evidence.js';
import { runRule } from '../../helpers/rules.js';

const FOREIGN_KEY = 'arn:aws:kms:us-east-1:444455556666:key/4444dddd-4444-4444-8444-444444444444';

describe('Rule: s3-bucket-kms-key-same-account', () => {
  it('passes a key of the bucket account', () => {
    expect(
      runRule(rule, bucketEvidence('b1', kmsEncryption(KEY_ARN)), [keyEvidence(KEY_ARN)]).status,
    ).toBe('PASS');
  });

  it('fails a key of another account, from its ARN even when DescribeKey was denied', () => {
    // Act
    const outcome = runRule(rule, bucketEvidence('b1', kmsEncryption(FOREIGN_KEY)), [
      keyEvidence(FOREIGN_KEY, { describe: { denied: 'AccessDeniedException' } }),
    ]);

    // Assess
    expect(outcome).toMatchObject({ status: 'FAIL', details: { keyAccount: '444455556666' } });
  });

  it('passes a key of an account listed in kms.allowedKeyAccounts', () => {
    // Act
    const outcome = runRule(
      rule,
      bucketEvidence('b1', kmsEncryption(FOREIGN_KEY)),
      [keyEvidence(FOREIGN_KEY)],
      {
        allowedKeyAccounts: ['444455556666'],
      },
    );

    // Assess
    expect(outcome.status).toBe('PASS');
  });

  it('is an ERROR when the default encryption could not be read', () => {
    expect(
      runRule(rule, bucketEvidence('b1', { encryption: { denied: 'AccessDenied' } })).status,
    ).toBe('ERROR');
  });

  it('is an ERROR when the key account cannot be told (bare key id, no canonical ref, no facts)', () => {
    // Prepare
    const bucket = bucketEvidence('b1', kmsEncryption('1234abcd-12ab-34cd-56ef-1234567890ab'));

    // Act
    const outcome = runRule(rule, bucket);

    // Assess
    expect(outcome.status).toBe('ERROR');
  });
});
