import { describe, expect, it } from 'vitest';
import {
  DEFAULT_EVALUATION_CONFIG,
  type EvaluationConfig,
  evaluate,
  failsAt,
  fingerprint,
  ruleEnabled,
} from '../../../lib/engine/evaluate.js';
import type { Rule } from '../../../lib/engine/types.js';
import type { ScanEvidence } from '../../../lib/evidence/types.js';
import { BUCKET_RULES } from '../../../lib/rules/index.js';
import { bucketEvidence, scanEvidence, tlsPolicy } from '../../helpers/evidence.js';

/** The bucket rules on by default: one of the two upload-header rules is off. */
const RUN_BY_DEFAULT = BUCKET_RULES.filter((r) => ruleEnabled(r, DEFAULT_EVALUATION_CONFIG)).length;

/** The engine with the whole catalogue, as every host runs it. */
function judge(evidence: ScanEvidence, configured: EvaluationConfig = DEFAULT_EVALUATION_CONFIG) {
  return evaluate(evidence, configured, BUCKET_RULES);
}

function config(overrides: Partial<EvaluationConfig>): EvaluationConfig {
  return { ...DEFAULT_EVALUATION_CONFIG, ...overrides };
}

describe('Function: evaluate', () => {
  it('gives the same findings, byte for byte, whatever the bucket order', () => {
    // Prepare
    const a = bucketEvidence('a-bucket', { policy: { ok: tlsPolicy('a-bucket') } });
    const b = bucketEvidence('b.bucket.with.dots');

    // Act
    const first = JSON.stringify(judge(scanEvidence([a, b])));
    const second = JSON.stringify(judge(scanEvidence([b, a])));

    // Assess
    expect(first).toBe(second);
  });

  it('runs every rule on every bucket with stable fingerprints and evidence refs', () => {
    // Act
    const { findings, summary } = judge(scanEvidence([bucketEvidence('b1')]));

    // Assess
    expect(findings).toHaveLength(RUN_BY_DEFAULT);
    expect(summary.findings).toBe(RUN_BY_DEFAULT);
    expect(findings[0]).toMatchObject({
      resource: {
        arn: 'arn:aws:s3:::b1',
        type: 'AWS::S3::Bucket',
        region: 'us-east-1',
        account: '111122223333',
      },
      evidenceRef: 'evidence/111122223333/us-east-1/b1.json',
      fingerprint: fingerprint(findings[0]!.ruleId, 'arn:aws:s3:::b1'),
    });
  });

  it('turns a throwing rule into an ERROR finding and keeps going', () => {
    // Prepare
    const broken: Rule = {
      ...BUCKET_RULES[0]!,
      id: 's3-bucket-broken',
      evaluate: () => {
        throw new Error('boom');
      },
    };

    // Act
    const { findings } = evaluate(
      scanEvidence([bucketEvidence('b1'), bucketEvidence('b2')]),
      DEFAULT_EVALUATION_CONFIG,
      [broken],
    );

    // Assess
    expect(findings.map((f) => [f.resource.name, f.status, f.message])).toEqual([
      ['b1', 'ERROR', 'Rule s3-bucket-broken failed on bucket b1: boom.'],
      ['b2', 'ERROR', 'Rule s3-bucket-broken failed on bucket b2: boom.'],
    ]);
  });

  it('applies disabled rules and severity overrides from the config', () => {
    // Act
    const { findings, summary } = judge(
      scanEvidence([bucketEvidence('b1')]),
      config({
        rules: {
          's3-bucket-key-enabled': { enabled: false },
          's3-bucket-tls-enforced': { severity: 'critical' },
        },
      }),
    );

    // Assess
    expect(findings.some((f) => f.ruleId === 's3-bucket-key-enabled')).toBe(false);
    expect(findings.find((f) => f.ruleId === 's3-bucket-tls-enforced')?.severity).toBe('critical');
    // The rule of the other upload-encryption stance is off too.
    expect(summary.disabledRules).toEqual([
      's3-bucket-key-enabled',
      's3-bucket-policy-requires-encryption',
    ]);
  });

  it('applies an active suppression and reports an expired one as expired', () => {
    // Prepare
    const suppressions = [
      {
        rule: 's3-bucket-tls-enforced',
        resource: 'legacy-*',
        reason: 'migrating',
        expires: '2026-11-01',
      },
      {
        rule: 's3-bucket-tls-enforced',
        resource: 'arn:aws:s3:::old-*',
        reason: 'was migrating',
        expires: '2026-10-31',
      },
    ];

    // Act
    const { findings, summary } = judge(
      scanEvidence([bucketEvidence('legacy-1'), bucketEvidence('old-1'), bucketEvidence('old-2')]),
      config({ suppressions }),
    );

    // Assess
    const tls = findings.filter((f) => f.ruleId === 's3-bucket-tls-enforced');
    expect(tls.map((f) => [f.resource.name, f.status, f.suppression?.active])).toEqual([
      ['legacy-1', 'FAIL', true],
      ['old-1', 'FAIL', false],
      ['old-2', 'FAIL', false],
    ]);
    expect(summary.suppressed).toBe(1);
    // The expired wildcard is reported once, with how many buckets it matched.
    expect(summary.expiredSuppressions).toEqual([
      {
        rule: 's3-bucket-tls-enforced',
        resource: 'arn:aws:s3:::old-*',
        reason: 'was migrating',
        expires: '2026-10-31',
        buckets: 2,
      },
    ]);
    const unsuppressedHigh = findings.filter(
      (f) => f.status === 'FAIL' && f.severity === 'high' && !f.suppression?.active,
    );
    expect(summary.failedBySeverity.high).toBe(unsuppressedHigh.length);
    expect(unsuppressedHigh.map((f) => `${f.resource.name} ${f.ruleId}`)).toContain(
      'old-1 s3-bucket-tls-enforced',
    );
    expect(unsuppressedHigh.map((f) => `${f.resource.name} ${f.ruleId}`)).not.toContain(
      'legacy-1 s3-bucket-tls-enforced',
    );
  });

  it('--fail-on counts unsuppressed FAILs at or above the threshold only', () => {
    // Prepare
    const blocksSseC = {
      ok: {
        Rules: [
          {
            ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
            BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] },
          },
        ],
      },
    };
    const { summary, findings } = judge(
      scanEvidence([
        bucketEvidence('b1', { encryption: blocksSseC, policy: { ok: tlsPolicy('b1') } }),
      ]),
    );

    // Assess: SSE-S3 only fails medium and low rules here; high ones pass.
    expect(summary.failedBySeverity.high).toBe(0);
    expect(failsAt(findings, 'high')).toBe(false);
    expect(failsAt(findings, 'medium')).toBe(true);
    // A suppressed FAIL never trips the gate.
    const suppressed = findings.map((f) => ({
      ...f,
      suppression: {
        active: true,
        reason: 'accepted',
        expires: '2099-01-01',
        rule: f.ruleId,
        resource: '*',
      },
    }));
    expect(failsAt(suppressed as typeof findings, 'low')).toBe(false);
  });

  it('runs one of the two upload-header rules, chosen by uploadEncryption; rules.<id>.enabled still wins', () => {
    // Prepare
    const evidence = scanEvidence([bucketEvidence('b1', { policy: { ok: tlsPolicy('b1') } })]);
    const ran = (config: EvaluationConfig) =>
      new Set(evaluate(evidence, config, BUCKET_RULES).findings.map((f) => f.ruleId));
    const stance = (uploadEncryption: 'use-bucket-default' | 'require-header') => ({
      ...DEFAULT_EVALUATION_CONFIG,
      settings: { ...DEFAULT_EVALUATION_CONFIG.settings, uploadEncryption },
    });

    // Act
    const byDefault = ran(DEFAULT_EVALUATION_CONFIG);
    const requireHeader = ran(stance('require-header'));
    const both = ran({
      ...stance('require-header'),
      rules: { 's3-bucket-policy-allows-default-encryption': { enabled: true } },
    });

    // Assess
    expect(byDefault.has('s3-bucket-policy-allows-default-encryption')).toBe(true);
    expect(byDefault.has('s3-bucket-policy-requires-encryption')).toBe(false);
    expect(requireHeader.has('s3-bucket-policy-requires-encryption')).toBe(true);
    expect(requireHeader.has('s3-bucket-policy-allows-default-encryption')).toBe(false);
    expect(both.has('s3-bucket-policy-requires-encryption')).toBe(true);
    expect(both.has('s3-bucket-policy-allows-default-encryption')).toBe(true);
  });

  it('evaluates 10,000 buckets without trouble', () => {
    // Prepare
    const buckets = Array.from({ length: 10_000 }, (_, i) =>
      bucketEvidence(`bucket-${String(i).padStart(5, '0')}`),
    );

    // Act
    const { summary } = judge(scanEvidence(buckets));

    // Assess
    expect(summary.buckets).toBe(10_000);
    expect(summary.findings).toBe(10_000 * RUN_BY_DEFAULT);
  });
});
