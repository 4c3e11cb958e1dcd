import { describe, expect, it } from 'vitest';
import { summarize } from '../../../lib/engine/evaluate.js';
import { renderTable, sanitiseLine } from '../../../lib/export/table.js';
import { scanEvidence } from '../../helpers/evidence.js';
import { finding } from '../../helpers/findings.js';

describe('renderTable never cuts what a user copies', () => {
  it('keeps whole a 63-character bucket name, the longest rule id, the severity and a long ARN', () => {
    // Prepare
    const bucket = `b${'x'.repeat(61)}z`;
    const arn = `arn:aws:kms:us-east-1:111122223333:key/mrk-${'0123456789abcdef'.repeat(4)}`;
    const findings = [
      finding('s3-bucket-kms-key-decrypt-restricted', bucket, 'FAIL', {
        severity: 'informational',
        message: `Bucket ${bucket} uses ${arn}, whose key policy lets anyone decrypt.`,
      }),
      finding('s3-bucket-tls-enforced', 'short', 'ERROR', { severity: 'high' }),
    ];
    const summary = summarize(scanEvidence([]), findings, {
      expiredSuppressions: [],
      disabledRules: [],
    });

    // Act
    const text = renderTable(findings, summary);

    // Assess
    expect(text).not.toContain('…');
    for (const whole of [bucket, arn, 's3-bucket-kms-key-decrypt-restricted', 'informational'])
      expect(text).toContain(whole);
  });
});

describe('sanitiseLine keeps a name on one line', () => {
  it('shows newline, carriage return, tab and escape as code points', () => {
    expect(sanitiseLine('a\nb\rc\td\u001b[31me')).toBe('a<U+000A>b<U+000D>c<U+0009>d<U+001B>[31me');
    expect(sanitiseLine('plain-bucket.name')).toBe('plain-bucket.name');
  });
});
