import { describe, expect, it } from 'vitest';
import { rule } from '../../../lib/rules/s3-bucket-tls-min-version.js';
import { bucketEvidence } from '../../helpers/evidence.js';
import { runRule } from '../../helpers/rules.js';

const tls13Policy = JSON.stringify({
  Statement: {
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:*',
    Resource: ['arn:aws:s3:::b1', 'arn:aws:s3:::b1/*'],
    Condition: { NumericLessThan: { 's3:TlsVersion': 1.3 } },
  },
});

describe('Rule: s3-bucket-tls-min-version', () => {
  it('passes a 1.2 requirement on AWS platform enforcement, even without a policy', () => {
    // Act
    const outcome = runRule(rule, bucketEvidence('b1'));

    // Assess
    expect(outcome).toMatchObject({ status: 'PASS', details: { enforcedBy: 'aws-platform' } });
  });

  it('passes a 1.3 requirement when the policy denies TLS below 1.3', () => {
    // Act
    const outcome = runRule(rule, bucketEvidence('b1', { policy: { ok: tls13Policy } }), [], {
      minTlsVersion: '1.3',
    });

    // Assess
    expect(outcome).toMatchObject({ status: 'PASS', details: { tlsMinVersion: '1.3' } });
  });

  it('fails a 1.3 requirement without such a policy', () => {
    // Act
    const outcome = runRule(rule, bucketEvidence('b1'), [], { minTlsVersion: '1.3' });

    // Assess
    expect(outcome.status).toBe('FAIL');
  });

  it('is an ERROR for a 1.3 requirement when the policy could not be read', () => {
    // Act
    const outcome = runRule(
      rule,
      bucketEvidence('b1', {
        policy: { error: 'InternalError', message: 'We encountered an internal error' },
      }),
      [],
      {
        minTlsVersion: '1.3',
      },
    );

    // Assess
    expect(outcome.status).toBe('ERROR');
  });
});
