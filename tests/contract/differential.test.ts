// Differential test: the analyzer's per-request decisions against @cloud-copilot/iam-simulate.
// iam-simulate is AGPL: a dev dependency used here only (tests/contract/dependencies.test.ts
// fails if product code imports it or it reaches the bundle).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzePolicy } from '../../lib/policy/analyze.js';
import { explicitlyDenied } from '../../lib/policy/decide.js';
import { layerStatements } from '../../lib/policy/layers.js';
import { parsePolicy } from '../../lib/policy/parse.js';
import {
  ACCOUNT,
  BUCKET,
  conditionBlock,
  keysFromPatterns,
  oneOrMany,
  policy,
  principals,
  probe,
  type RcpLevels,
  SAME,
  theirs,
} from '../helpers/policy-arbitraries.js';

const POLICIES = Number(process.env.S3SCAN_DIFFERENTIAL_POLICIES ?? 1000);

describe('Differential: explicit-deny decisions against @cloud-copilot/iam-simulate', () => {
  it(`agrees on every request of ${POLICIES} generated policies`, async () => {
    const tally = {
      compared: 0,
      agreed: 0,
      denied: 0,
      invalidForSimulator: 0,
      unknownForS3scan: 0,
      policies: 0,
    };
    const disagreements: string[] = [];
    await fc.assert(
      fc.asyncProperty(
        policy,
        fc.array(probe, { minLength: 4, maxLength: 6 }),
        async (doc, drawn) => {
          tally.policies += 1;
          const parsed = parsePolicy(doc);
          // Besides the drawn requests, one per key inside each of the policy's own patterns.
          // A GetObject carries no upload headers: AWS (and iam-simulate) has no SSE keys for it.
          const requests = [
            ...drawn,
            ...keysFromPatterns(doc).map((key, i) => {
              const base = drawn[i % drawn.length]!;
              const get = base.action !== 's3:PutObject';
              return {
                ...base,
                resource: `${BUCKET}/${key}`,
                action: get ? 's3:GetObject' : 's3:PutObject',
                context: get
                  ? Object.fromEntries(
                      Object.entries(base.context).filter(
                        ([k]) => !k.startsWith('s3:x-amz-server-side-encryption'),
                      ),
                    )
                  : base.context,
              };
            }),
          ];
          for (const request of requests) {
            const ours = explicitlyDenied(parsed, {
              principal: principals[request.who],
              action: request.action,
              resource: request.resource,
              context: request.context,
            });
            const reference = await theirs(doc, request);
            if (reference === 'invalid') {
              tally.invalidForSimulator += 1;
              continue;
            }
            if (ours === 'unknown') {
              tally.unknownForS3scan += 1;
              continue;
            }
            tally.compared += 1;
            if (reference) tally.denied += 1;
            if (ours === reference) tally.agreed += 1;
            else if (disagreements.length < 5)
              disagreements.push(JSON.stringify({ doc, request, ours, reference }));
          }
        },
      ),
      { numRuns: POLICIES, seed: Number(process.env.S3SCAN_DIFFERENTIAL_SEED ?? 20261126) },
    );
    console.info(`differential: ${JSON.stringify(tally)}`);
    expect(disagreements).toEqual([]);
    expect(tally.policies).toBeGreaterThanOrEqual(POLICIES);
    expect(tally.compared).toBeGreaterThan(POLICIES * 3);
    // Both outcomes must be well represented, or agreement would mean little.
    expect(tally.denied).toBeGreaterThan(tally.compared / 20);
    expect(tally.compared - tally.denied).toBeGreaterThan(tally.compared / 20);
  }, 300_000);

  it('never calls TLS or an SSE header enforced when a request drawn from the policy’s own patterns gets through', async () => {
    // Prepare: a full TLS-only Deny and an SSE-header Deny, each varied with carve-outs,
    // narrower Resources, NotAction and NotPrincipal, so both verdicts come out both ways.
    const variant = fc.record({
      tlsResource: fc.constantFrom<Record<string, unknown>>(
        { Resource: [BUCKET, `${BUCKET}/*`] },
        { Resource: '*' },
        { Resource: [`${BUCKET}*`] },
        { Resource: [BUCKET, `${BUCKET}/public/*`] },
        { NotResource: `${BUCKET}/public/*` },
        { NotResource: [`${BUCKET}/p?blic/*`] },
        { NotResource: 'arn:aws:s3:::other/*' },
        { Resource: [BUCKET, `${BUCKET}/a*`, `${BUCKET}/[!a]*`] },
      ),
      tlsAction: fc.constantFrom<Record<string, unknown>>(
        { Action: 's3:*' },
        { Action: '*' },
        { NotAction: 's3:GetObject' },
        { NotAction: 'sqs:*' },
      ),
      tlsPrincipal: fc.constantFrom<Record<string, unknown>>(
        { Principal: '*' },
        { NotPrincipal: { AWS: SAME } },
      ),
      extraTls: fc.boolean(),
      sseResource: fc.constantFrom<Record<string, unknown>>(
        { Resource: `${BUCKET}/*` },
        { NotResource: `${BUCKET}/uploads/*` },
        { Resource: `${BUCKET}/a*` },
      ),
    });
    const tally = { policies: 0, tlsEnforced: 0, sseEnforced: 0, requests: 0 };
    const violations: string[] = [];

    // Act
    await fc.assert(
      fc.asyncProperty(variant, async (v) => {
        tally.policies += 1;
        const doc = {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'TlsOnly',
              Effect: 'Deny',
              ...v.tlsPrincipal,
              ...v.tlsAction,
              ...v.tlsResource,
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
            ...(v.extraTls
              ? [
                  {
                    Sid: 'TlsPublic',
                    Effect: 'Deny',
                    Principal: '*',
                    Action: 's3:*',
                    Resource: `${BUCKET}/public/*`,
                    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
                  },
                ]
              : []),
            {
              Sid: 'RequireSse',
              Effect: 'Deny',
              Principal: '*',
              Action: 's3:PutObject',
              ...v.sseResource,
              Condition: { Null: { 's3:x-amz-server-side-encryption': 'true' } },
            },
          ],
        };
        const verdicts = analyzePolicy(doc, { bucket: 'b1', accountId: ACCOUNT });
        const keys = ['k', 'deep/x.bin', ...keysFromPatterns(doc)];
        const who = ['anonymous', 'same', 'other'] as const;
        if (verdicts.tlsEnforced) {
          tally.tlsEnforced += 1;
          for (const w of who)
            for (const [action, resource] of [
              ['s3:ListBucket', BUCKET],
              ['s3:GetBucketPolicy', BUCKET],
              ...keys.flatMap((k) => [
                ['s3:GetObject', `${BUCKET}/${k}`],
                ['s3:PutObject', `${BUCKET}/${k}`],
              ]),
            ] as const) {
              tally.requests += 1;
              const request = {
                who: w,
                action,
                resource,
                context: { 'aws:SecureTransport': 'false' },
              };
              if ((await theirs(doc, request)) !== true && violations.length < 5)
                violations.push(`tlsEnforced but allowed: ${JSON.stringify({ doc, request })}`);
            }
        }
        if (verdicts.sseEnforced === true) {
          tally.sseEnforced += 1;
          for (const w of who)
            for (const k of keys) {
              tally.requests += 1;
              const request = {
                who: w,
                action: 's3:PutObject',
                resource: `${BUCKET}/${k}`,
                context: { 'aws:SecureTransport': 'true', 's3:TlsVersion': '1.3' },
              };
              if ((await theirs(doc, request)) !== true && violations.length < 5)
                violations.push(`sseEnforced but allowed: ${JSON.stringify({ doc, request })}`);
            }
        }
      }),
      { numRuns: 300, seed: 20261201 },
    );
    console.info(`verdict differential: ${JSON.stringify(tally)}`);

    // Assess: sound, and both verdicts came out true often enough to mean something.
    expect(violations).toEqual([]);
    expect(tally.tlsEnforced).toBeGreaterThan(20);
    expect(tally.tlsEnforced).toBeLessThan(tally.policies - 20);
    expect(tally.sseEnforced).toBeGreaterThan(20);
    expect(tally.sseEnforced).toBeLessThan(tally.policies - 20);
  }, 300_000);

  it('agrees on every request when RCPs on the root, an OU and the account join the bucket policy', async () => {
    // Prepare: RCPs as AWS allows them (Deny only, Principal "*", service-prefixed actions),
    // at up to three levels, with or without a bucket policy of the bucket's own.
    const rcpStatement = fc
      .record({
        action: oneOrMany(fc.constantFrom('s3:*', 's3:PutObject', 's3:GetObject', 's3:Put*')),
        notResource: fc.boolean(),
        resource: oneOrMany(fc.constantFrom('*', `${BUCKET}/*`, BUCKET, `${BUCKET}/logs/*`)),
        conditions: fc.array(conditionBlock, { minLength: 1, maxLength: 2 }),
      })
      .map((s) => {
        const condition: Record<string, Record<string, unknown>> = {};
        for (const [operator, key, value] of s.conditions)
          condition[operator] = { ...condition[operator], [key]: value };
        return {
          Effect: 'Deny',
          Principal: '*',
          Action: s.action,
          ...(s.notResource ? { NotResource: s.resource } : { Resource: s.resource }),
          Condition: condition,
        };
      });
    const rcp = fc
      .array(rcpStatement, { minLength: 1, maxLength: 2 })
      .map((Statement) => ({ Version: '2012-10-17', Statement }));
    const levels = fc.record({
      root: fc.option(rcp, { nil: undefined }),
      ou: fc.option(rcp, { nil: undefined }),
      account: fc.option(rcp, { nil: undefined }),
    });
    const tally = { compared: 0, agreed: 0, denied: 0, deniedByRcpOnly: 0, skipped: 0 };
    const disagreements: string[] = [];

    // Act
    await fc.assert(
      fc.asyncProperty(
        fc.option(policy, { nil: undefined }),
        levels,
        fc.array(probe, { minLength: 4, maxLength: 6 }),
        async (doc, attached, requests) => {
          const targets = [
            ['r-ab12', attached.root],
            ['ou-ab12-11111111', attached.ou],
            [ACCOUNT, attached.account],
          ] as const;
          const documents = targets.flatMap(([target, document], i) =>
            document
              ? [
                  {
                    kind: 'rcp' as const,
                    policyId: `p-rcp0000000${i}`,
                    policyName: `level${i}`,
                    attachedTo: target,
                    document: JSON.stringify(document),
                  },
                ]
              : [],
          );
          const own = doc ? parsePolicy(doc).statements : [];
          const combined = { statements: [...own, ...layerStatements(documents, own.length)] };
          const rcps: RcpLevels = targets.map(([target, document]) => ({
            orgIdentifier: target,
            policies: document ? [{ name: target, policy: document }] : [],
          }));
          for (const request of requests) {
            const ours = explicitlyDenied(combined, {
              principal: principals[request.who],
              action: request.action,
              resource: request.resource,
              context: request.context,
            });
            const reference = await theirs(doc, request, rcps);
            if (reference === 'invalid' || ours === 'unknown') {
              tally.skipped += 1;
              continue;
            }
            tally.compared += 1;
            if (reference) tally.denied += 1;
            if (reference && doc !== undefined && !(await theirs(doc, request)))
              tally.deniedByRcpOnly += 1;
            if (reference && doc === undefined) tally.deniedByRcpOnly += 1;
            if (ours === reference) tally.agreed += 1;
            else if (disagreements.length < 5)
              disagreements.push(JSON.stringify({ doc, attached, request, ours, reference }));
          }
        },
      ),
      { numRuns: Math.max(100, Math.round(POLICIES / 2)), seed: 20261206 },
    );
    console.info(`RCP differential: ${JSON.stringify(tally)}`);

    // Assess: agreement, and RCPs decided a good share of the denials on their own.
    expect(disagreements).toEqual([]);
    expect(tally.compared).toBeGreaterThan(300);
    expect(tally.deniedByRcpOnly).toBeGreaterThan(tally.compared / 20);
    expect(tally.compared - tally.denied).toBeGreaterThan(tally.compared / 20);
  }, 300_000);
});
