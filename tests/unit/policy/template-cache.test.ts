import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { analyzePolicySafely } from '../../../lib/policy/analyze.js';
import { PolicyAnalysisCache } from '../../../lib/policy/template-cache.js';

const shared = fileURLToPath(
  new URL('../../../../shared/corpus/aws-published-policies.jsonl', import.meta.url),
);
const corpus = readFileSync(
  existsSync(shared)
    ? shared
    : fileURLToPath(new URL('../../fixtures/aws-published-policies.jsonl', import.meta.url)),
  'utf8',
)
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as { id: string; bucketPolicy: unknown });

/** The corpus policy rewritten for another bucket name. */
function forBucket(policy: unknown, bucket: string): string {
  return JSON.stringify(policy).replace(
    /arn:(aws[a-z-]*):s3:::DOC[-_]EXAMPLE[-_]BUCKET1?/g,
    `arn:$1:s3:::${bucket}`,
  );
}

const options = (bucket: string, partition = 'aws') => ({
  bucket,
  partition,
  accountId: '111122223333',
});

describe('Class: PolicyAnalysisCache', () => {
  it.each(corpus.map((c) => [c.id, c] as const))(
    '%s: shared analysis equals direct analysis for every bucket',
    (_id, corpusCase) => {
      // Prepare
      const cache = new PolicyAnalysisCache();
      const partition = JSON.stringify(corpusCase.bucketPolicy).includes('arn:aws-cn:')
        ? 'aws-cn'
        : 'aws';

      for (const bucket of ['alpha-bucket', 'logs.example.com', 'zeta-9']) {
        // Act
        const policy = forBucket(corpusCase.bucketPolicy, bucket);
        const cached = cache.analyze(policy, options(bucket, partition));

        // Assess
        expect(cached).toEqual(analyzePolicySafely(policy, options(bucket, partition)));
      }
    },
  );

  it('does not share across buckets when a wildcard bucket pattern might match one name only', () => {
    // Prepare
    const policy = (bucket: string) =>
      JSON.stringify({
        Statement: [
          {
            Effect: 'Deny',
            Principal: '*',
            Action: 's3:*',
            Resource: ['arn:aws:s3:::prod-*', `arn:aws:s3:::${bucket}/*`],
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        ],
      });
    const cache = new PolicyAnalysisCache();

    // Act
    const prod = cache.analyze(policy('prod-data'), options('prod-data'));
    const dev = cache.analyze(policy('dev-data'), options('dev-data'));

    // Assess
    expect('analysis' in prod && prod.analysis.tlsEnforced).toBe(true);
    expect('analysis' in dev && dev.analysis.tlsEnforced).toBe(false);
  });

  it('does not share when the name appears outside the bucket ARNs', () => {
    // Prepare: a Sid that names the bucket, and a condition on another bucket containing the name.
    const cache = new PolicyAnalysisCache();
    const policy = JSON.stringify({
      Statement: [
        {
          Sid: 'data',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: ['arn:aws:s3:::data', 'arn:aws:s3:::data/*', 'arn:aws:s3:::data-archive/*'],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    });

    // Act & Assess
    expect(cache.analyze(policy, options('data'))).toEqual(
      analyzePolicySafely(policy, options('data')),
    );
  });

  it('keeps escaped names correct', () => {
    // Prepare
    const cache = new PolicyAnalysisCache();
    const policy = JSON.stringify({
      Statement: {
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: ['arn:aws:s3:::abc', 'arn:aws:s3:::abc/*'],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    }).replace(':::abc/', ':::\\u0061bc/');

    // Act & Assess
    expect(cache.analyze(policy, options('abc'))).toEqual(
      analyzePolicySafely(policy, options('abc')),
    );
    expect(cache.analyze(policy, options('abc'))).toMatchObject({
      analysis: { tlsEnforced: true },
    });
  });

  it('refuses a policy nested too deep to analyse, as s3scan policy does, instead of exhausting the stack', () => {
    // Prepare: 10,000 levels of objects inside a Condition.
    const levels = 10_000;
    const deep = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b1/*","Condition":${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}}]}`;

    // Act
    const outcome = new PolicyAnalysisCache().analyze(deep, { bucket: 'b1', partition: 'aws' });

    // Assess
    expect(outcome).toEqual({
      error:
        'the policy nests more than 64 levels deep; a bucket policy needs about 7, so this cannot be one',
    });
  });
});

describe('PolicyAnalysisCache near the size limit', () => {
  it('judges a real policy just under 20 KB that names a short bucket often, as direct analysis does', () => {
    // Prepare: 690 object ARNs of bucket "full"; the placeholder would add 18 bytes to each.
    const policy = (bucket: string) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'DenyHttp',
            Effect: 'Deny',
            Principal: '*',
            Action: 's3:*',
            Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
          {
            Sid: 'Readers',
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::111122223333:root' },
            Action: 's3:GetObject',
            Resource: Array.from({ length: 690 }, (_, i) => `arn:aws:s3:::${bucket}/${i}/data`),
          },
        ],
      });
    const text = policy('full');
    const cache = new PolicyAnalysisCache();

    // Act
    const cached = cache.analyze(text, options('full'));
    const again = cache.analyze(policy('fuller'), options('fuller'));

    // Assess: under the limit, judged (TLS enforced), not refused as too large.
    expect(Buffer.byteLength(text)).toBeLessThan(20 * 1024);
    expect(cached).toEqual(analyzePolicySafely(text, options('full')));
    expect('analysis' in cached && cached.analysis.tlsEnforced).toBe(true);
    expect(again).toEqual(analyzePolicySafely(policy('fuller'), options('fuller')));
  });
});
