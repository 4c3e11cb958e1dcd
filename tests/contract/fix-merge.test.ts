// Property test of the TLS fix (issue 26): for generated bucket policies, the policy s3scan fix
// plans loosens no verdict of the analyzer, keeps every statement, and, judged by
// @cloud-copilot/iam-simulate (an IAM evaluator nobody here wrote), decides every request over
// TLS exactly as before (the owner loses nothing) and denies every request over plain HTTP.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzePolicy } from '../../lib/policy/analyze.js';
import { bucketEvidence, scanEvidence } from '../helpers/evidence.js';
import { planOf } from '../helpers/fix-world.js';
import { type Probe, policy, probe, theirs } from '../helpers/policy-arbitraries.js';

const FIXES = Number(process.env.S3SCAN_DIFFERENTIAL_FIXES ?? 300);
const VERDICTS = ['tlsEnforced', 'sseEnforced', 'kmsKeyEnforced', 'sseCBlocked'] as const;

/** The request over TLS 1.2 (or as it was when already secure), and over plain HTTP. */
function overTls(request: Probe): Probe {
  return {
    ...request,
    context: {
      ...request.context,
      'aws:SecureTransport': 'true',
      's3:TlsVersion': request.context['s3:TlsVersion'] ?? '1.2',
    },
  };
}
function overHttp(request: Probe): Probe {
  const { 's3:TlsVersion': _tls, ...context } = request.context;
  return { ...request, context: { ...context, 'aws:SecureTransport': 'false' } };
}

describe('Differential: the merged TLS fix against @cloud-copilot/iam-simulate', () => {
  it(`loosens nothing and denies only plain HTTP, for ${FIXES} generated policies`, async () => {
    const tally = { planned: 0, notPlanned: 0, requests: 0, invalidForSimulator: 0 };
    await fc.assert(
      fc.asyncProperty(
        policy,
        fc.array(probe, { minLength: 3, maxLength: 5 }),
        async (doc, drawn) => {
          // Prepare: the policy as a scan read it; the plan as s3scan fix makes it.
          const text = JSON.stringify(doc);
          const { plan } = planOf(scanEvidence([bucketEvidence('b1', { policy: { ok: text } })]), {
            rules: ['s3-bucket-tls-enforced'],
          });
          const fix = plan.fixes[0];
          if (!fix) {
            tally.notPlanned += 1;
            return;
          }
          tally.planned += 1;
          const merged = fix.after as { Statement: unknown[] };

          // Assess: the analyzer's verdicts, held or gained; every statement kept, in order.
          const before = analyzePolicy(text, { bucket: 'b1' });
          const after = analyzePolicy(JSON.stringify(merged), { bucket: 'b1' });
          expect(after.tlsEnforced).toBe(true);
          for (const v of VERDICTS) if (before[v] === true) expect(after[v], v).toBe(true);
          expect(merged.Statement.slice(0, doc.Statement.length)).toEqual(doc.Statement);

          // Assess: iam-simulate decides every TLS request as before, and denies plain HTTP.
          for (const request of drawn) {
            const secure = overTls(request);
            const was = await theirs(doc, secure);
            const now = await theirs(merged, secure);
            const http = await theirs(merged, overHttp(request));
            if (was === 'invalid' || now === 'invalid' || http === 'invalid') {
              tally.invalidForSimulator += 1;
              continue;
            }
            tally.requests += 1;
            expect(now, JSON.stringify({ doc, secure })).toBe(was);
            expect(http, JSON.stringify({ merged, request })).toBe(true);
          }
        },
      ),
      { numRuns: FIXES },
    );
    // The generator must reach the fix: most generated policies do not enforce TLS already.
    expect(tally.planned).toBeGreaterThan(FIXES / 3);
    expect(tally.requests).toBeGreaterThan(tally.planned);
  }, 600_000);
});
