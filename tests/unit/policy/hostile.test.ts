import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { analyzePolicySafely } from '../../../lib/policy/analyze.js';
import { largestPolicy } from '../../helpers/largest-policy.js';

const options = { bucket: 'example-bucket' };

describe('analyzePolicySafely on hostile input', () => {
  it('reports invalid JSON instead of throwing', () => {
    // Act
    const outcome = analyzePolicySafely('{"Statement": [', options);

    // Assess
    expect(outcome).toEqual({ error: expect.stringMatching(/^the policy is not valid JSON/) });
  });

  it.each([
    ['an array', '[]', /must be a JSON object/],
    ['a number', '42', /must be a JSON object/],
    ['no Statement', '{"Version":"2012-10-17"}', /no Statement/],
    ['an empty Statement', '{"Statement":[]}', /empty array/],
    [
      'a bad Effect',
      '{"Statement":{"Effect":"Block","Principal":"*","Action":"*","Resource":"*"}}',
      /Effect must be/,
    ],
    [
      'a numeric Action',
      '{"Statement":{"Effect":"Deny","Principal":"*","Action":7,"Resource":"*"}}',
      /Action must be a string/,
    ],
    [
      'Action and NotAction',
      '{"Statement":{"Effect":"Deny","Principal":"*","Action":"*","NotAction":"s3:GetObject","Resource":"*"}}',
      /both Action and NotAction/,
    ],
    [
      'no Resource',
      '{"Statement":{"Effect":"Deny","Principal":"*","Action":"*"}}',
      /neither Resource nor NotResource/,
    ],
    [
      'an object condition value',
      '{"Statement":{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":{"x":1}}}}}',
      /must be a string, number or boolean/,
    ],
    [
      'an unknown Version',
      '{"Version":"2020-01-01","Statement":{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}}',
      /Version must be/,
    ],
  ])('names what is wrong with %s', (_what, document, message) => {
    // Act
    const outcome = analyzePolicySafely(document, options);

    // Assess
    expect('error' in outcome && outcome.error).toMatch(message);
  });

  it('survives nesting 100,000 levels deep', () => {
    // Prepare
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;

    // Act
    const result = analyzePolicySafely(`{"Statement": ${deep}}`, options);

    // Assess
    expect('error' in result).toBe(true);
  });

  it('refuses a 1 MB policy, naming the 20 KB limit, without parsing it', () => {
    // Prepare
    const statements = Array.from({ length: 3000 }, (_, i) => ({
      Sid: `S${i}${'x'.repeat(300)}`,
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: [`arn:aws:s3:::example-bucket/prefix-${i}/*`],
    }));
    const document = JSON.stringify({ Version: '2012-10-17', Statement: statements });
    expect(document.length).toBeGreaterThan(1_000_000);

    const parse = vi.spyOn(JSON, 'parse');

    // Act
    const result = analyzePolicySafely(document, options);
    const parsed = parse.mock.calls.length;
    parse.mockRestore();

    // Assess: refused on its size alone; its cost is the policy bench's (npm run bench).
    expect('error' in result && result.error).toMatch(/AWS limits bucket policies to 20 KB/);
    expect(parsed).toBe(0);
  });

  it('analyses a policy at the 20 KB limit (its time: the policy bench)', () => {
    // Prepare
    const document = largestPolicy();
    expect(document.length).toBeGreaterThan(18_000);
    expect(document.length).toBeLessThan(20 * 1024);

    // Act
    const result = analyzePolicySafely(document, options);

    // Assess
    expect('analysis' in result && result.analysis.tlsEnforced).toBe(false);
  });

  it('keeps unicode in Sids and bucket names intact', () => {
    // Prepare
    const document = {
      Statement: [
        {
          Sid: 'Ünïcödé ✓ 🚫',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: ['arn:aws:s3:::bücket', 'arn:aws:s3:::bücket/*'],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    };

    // Act
    const outcome = analyzePolicySafely(document, { bucket: 'bücket' });

    // Assess
    expect('analysis' in outcome && outcome.analysis.tlsEnforced).toBe(true);
  });

  it('never throws on arbitrary JSON: it answers an analysis or an error', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const outcome = analyzePolicySafely(value, options);
        expect('analysis' in outcome || 'error' in outcome).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on statement-shaped objects with wrong types', () => {
    const anything = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string()),
      fc.dictionary(fc.string(), fc.jsonValue()),
    );
    const statement = fc.record(
      {
        Effect: fc.oneof(fc.constantFrom('Allow', 'Deny'), anything),
        Principal: fc.oneof(fc.constant('*'), anything),
        Action: fc.oneof(fc.constantFrom('s3:*', '*', ['s3:Get*']), anything),
        Resource: fc.oneof(fc.constant('*'), anything),
        Condition: fc.oneof(
          fc.dictionary(fc.string(), fc.dictionary(fc.string(), anything)),
          anything,
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(statement, fc.array(statement, { maxLength: 5 })), (Statement) => {
        const outcome = analyzePolicySafely({ Version: '2012-10-17', Statement }, options);
        expect('analysis' in outcome || 'error' in outcome).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
