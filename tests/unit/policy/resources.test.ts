import { describe, expect, it } from 'vitest';
import { analyzePolicy } from '../../../lib/policy/analyze.js';

const B = 'example-bucket';
const BUCKET = `arn:aws:s3:::${B}`;
const OBJECTS = `${BUCKET}/*`;

const tlsDeny = (resources: Record<string, unknown>) => ({
  Sid: 'TlsOnly',
  Effect: 'Deny',
  Principal: '*',
  Action: 's3:*',
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  ...resources,
});
const policy = (...Statement: unknown[]) => ({ Version: '2012-10-17', Statement });
const analyze = (doc: unknown) => analyzePolicy(doc, { bucket: B, accountId: '111122223333' });

describe('Policy analysis reasons over the policy’s own resource patterns', () => {
  it('a NotResource carve-out makes TLS enforcement partial, and the gap names the pattern', () => {
    // Prepare: everything is denied over HTTP except objects under public/.
    const doc = policy(tlsDeny({ NotResource: `${BUCKET}/public/*` }));

    // Act
    const analysis = analyze(doc);

    // Assess
    expect(analysis.tlsEnforced).toBe(false);
    const gap = analysis.gaps.find((g) => g.verdict === 'tlsEnforced');
    expect(gap?.resources).toEqual([`${BUCKET}/public/*`]);
    expect(gap?.closestStatement).toMatch(/Sid "TlsOnly"/);
    expect(gap?.reason).toMatch(/NotResource carves arn:aws:s3:::example-bucket\/public\/\* out/);
  });

  it('a Resource narrower than the bucket is partial, naming what it leaves out', () => {
    // Prepare: only private/ objects (and the bucket) are covered.
    const doc = policy(tlsDeny({ Resource: [BUCKET, `${BUCKET}/private/*`] }));

    // Act
    const analysis = analyze(doc);

    // Assess
    expect(analysis.tlsEnforced).toBe(false);
    expect(analysis.gaps.find((g) => g.verdict === 'tlsEnforced')?.resources).toEqual([OBJECTS]);
  });

  it('two statements that together cover every object are still full coverage', () => {
    // Prepare: one statement for public/*, one for everything but public/*.
    const doc = policy(
      tlsDeny({ Resource: [BUCKET, `${BUCKET}/public/*`] }),
      tlsDeny({ Sid: 'Rest', NotResource: [`${BUCKET}/public/*`] }),
    );

    // Act & Assess
    expect(analyze(doc).tlsEnforced).toBe(true);
  });

  it('a NotResource naming another bucket leaves this bucket fully covered', () => {
    // Act
    const analysis = analyze(policy(tlsDeny({ NotResource: 'arn:aws:s3:::other-bucket/*' })));

    // Assess
    expect(analysis.tlsEnforced).toBe(true);
  });

  it('an SSE requirement with a carve-out for uploads/ does not count as enforced', () => {
    // Prepare
    const doc = policy({
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:PutObject',
      NotResource: `${BUCKET}/uploads/*`,
      Condition: { Null: { 's3:x-amz-server-side-encryption': 'true' } },
    });

    // Act
    const analysis = analyze(doc);

    // Assess
    expect(analysis.sseEnforced).toBe(false);
    expect(analysis.gaps.find((g) => g.verdict === 'sseEnforced')?.resources).toEqual([
      `${BUCKET}/uploads/*`,
    ]);
  });

  it('question-mark and mid-key wildcards are probed inside too', () => {
    // Prepare: logs of any year are exempt.
    const doc = policy(tlsDeny({ NotResource: `${BUCKET}/logs/20??/*.gz` }));

    // Act & Assess
    expect(analyze(doc).tlsEnforced).toBe(false);
  });
});
