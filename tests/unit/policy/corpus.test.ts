import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { analyzePolicy } from '../../../lib/policy/analyze.js';

interface CorpusCase {
  id: string;
  bucketPolicy: { Statement: unknown };
  verdicts: Record<string, unknown>;
}

// The team's shared corpus when it sits beside the repo (it may have grown), else the copy
// committed with the tests so a lone clone still runs.
const sharedCorpus = fileURLToPath(
  new URL('../../../../shared/corpus/aws-published-policies.jsonl', import.meta.url),
);
const corpusPath = existsSync(sharedCorpus)
  ? sharedCorpus
  : fileURLToPath(new URL('../../fixtures/aws-published-policies.jsonl', import.meta.url));
const cases: CorpusCase[] = readFileSync(corpusPath, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as CorpusCase);

/** The corpus names no bucket: take it from the first bucket ARN the policy mentions. */
function bucketOf(policy: unknown): string {
  const match = /arn:[^:]+:s3:::([^/"]+)/.exec(JSON.stringify(policy));
  if (!match?.[1]) throw new Error('no bucket ARN in the policy');
  return match[1];
}

describe('analyzePolicy on the AWS-published corpus', () => {
  it('has at least the 14 published cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(14);
  });

  it.each(cases.map((c) => [c.id, c] as const))(
    '%s: all five verdicts match',
    (_id, corpusCase) => {
      // Act
      const analysis = analyzePolicy(corpusCase.bucketPolicy, {
        bucket: bucketOf(corpusCase.bucketPolicy),
      });

      // Assess
      expect({
        tlsEnforced: analysis.tlsEnforced,
        tlsMinVersion: analysis.tlsMinVersion,
        sseEnforced: analysis.sseEnforced,
        kmsKeyEnforced: analysis.kmsKeyEnforced,
        sseCBlocked: analysis.sseCBlocked,
      }).toEqual(corpusCase.verdicts);
    },
  );

  it.each(cases.map((c) => [c.id, c] as const))(
    '%s: explains every unsatisfied verdict',
    (_id, corpusCase) => {
      // Act
      const analysis = analyzePolicy(corpusCase.bucketPolicy, {
        bucket: bucketOf(corpusCase.bucketPolicy),
      });

      // Assess
      if (!analysis.tlsEnforced)
        expect(analysis.gaps.some((g) => g.verdict === 'tlsEnforced')).toBe(true);
      for (const verdict of ['sseEnforced', 'kmsKeyEnforced', 'sseCBlocked'] as const) {
        if (analysis[verdict] === false)
          expect(analysis.gaps.some((g) => g.verdict === verdict)).toBe(true);
      }
      for (const gap of analysis.gaps) expect(gap.reason.length).toBeGreaterThan(20);
    },
  );
});
