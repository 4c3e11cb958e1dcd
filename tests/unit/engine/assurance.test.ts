import { describe, expect, it } from 'vitest';
import { samplingUpperBound95 } from '../../../lib/engine/assurance.js';
import { DEFAULT_EVALUATION_CONFIG, evaluate } from '../../../lib/engine/evaluate.js';
import { BUCKET_RULES } from '../../../lib/rules/index.js';
import { rule as objectsUnencrypted } from '../../../lib/rules/s3-objects-unencrypted.js';
import { bucketEvidence, objectScan, scanEvidence, tally } from '../../helpers/evidence.js';
import { runRule } from '../../helpers/rules.js';

const SAMPLE = objectScan({
  mode: 'sample',
  listed: 48_210,
  classified: 100,
  byEncryption: { 'SSE-S3': tally(100, 'a') },
});

describe('Assurance: how much every verdict saw', () => {
  it('bounds a clean sample at 1 - 0.05^(1/n): about 3 % for 100 objects, about 3/n for large n', () => {
    // Assess
    expect(samplingUpperBound95(100)).toBeCloseTo(0.0295, 4);
    expect(samplingUpperBound95(10_000) * 10_000).toBeCloseTo(3, 1);
    expect(samplingUpperBound95(0)).toBe(1);
  });

  it('never says "every object" of a clean sample: it says what was seen and the bound, in objects of this bucket', () => {
    // Act
    const outcome = runRule(objectsUnencrypted, bucketEvidence('b1', { objects: SAMPLE }));

    // Assess
    expect(outcome.status).toBe('PASS');
    expect(outcome.message).not.toMatch(/every object/i);
    expect(outcome.message).toBe(
      'No unencrypted object found in bucket b1 among a sample of 100 of 48,210 listed objects (uniform by hash rank): with 95 % confidence at most 3.0 % of its objects (about 1,423) are affected; scan with --objects full or inventory to see them all.',
    );
  });

  it('says an inventory PASS rests on a delivery of a given age, and that later objects are not covered', () => {
    // Prepare
    const inventory = objectScan({
      mode: 'inventory',
      inventory: {
        configurationId: 'daily',
        manifest: 's3://inv/b1/daily/2026-10-30T01-00Z/manifest.json',
        createdAt: '2026-10-30T01:00:00.000Z',
        fileFormat: 'CSV',
        files: 1,
      },
    });

    // Act
    const outcome = runRule(objectsUnencrypted, bucketEvidence('b1', { objects: inventory }));

    // Assess
    expect(outcome.message).toMatch(
      /from the S3 Inventory delivered 2026-10-30T01:00:00\.000Z, 2\.2 days before the scan: objects written since are not covered\.$/,
    );
  });

  it('attaches the assurance to every finding, with the bound on sampled PASSes, and counts findings by it', () => {
    // Prepare
    const evidence = scanEvidence([
      bucketEvidence('sampled', { objects: SAMPLE }),
      bucketEvidence('whole', { objects: objectScan() }),
      bucketEvidence('unscanned'),
    ]);

    // Act
    const { findings, summary } = evaluate(evidence, DEFAULT_EVALUATION_CONFIG, BUCKET_RULES);

    // Assess
    const of = (bucket: string, rule: string) =>
      findings.find((f) => f.resource.name === bucket && f.ruleId === rule);
    expect(of('sampled', 's3-objects-unencrypted')?.assurance).toEqual({
      kind: 'sample',
      classified: 100,
      listed: 48_210,
      upperBound95: 0.029513,
    });
    expect(of('whole', 's3-objects-unencrypted')?.assurance).toEqual({ kind: 'complete' });
    expect(of('unscanned', 's3-objects-unencrypted')?.assurance).toEqual({ kind: 'none' });
    expect(of('sampled', 's3-bucket-tls-enforced')?.assurance).toEqual({ kind: 'complete' });
    expect(findings.every((f) => f.assurance !== undefined)).toBe(true);
    expect(summary.byAssurance?.sample?.PASS).toBeGreaterThan(0);
    expect(summary.byAssurance?.none?.SKIPPED).toBeGreaterThan(0);
  });
});
