import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../lib/engine/types.js';
import type { BucketEvidence, KmsKeyEvidence, ScanEvidence } from '../../../lib/evidence/types.js';
import { type FixPlan, POLICY_SIZE_LIMIT, planFixes } from '../../../lib/remediation/plan.js';
import { evaluateScan } from '../../../lib/scan/evaluate-scan.js';
import {
  ACCOUNT,
  bucketEvidence,
  KEY_ARN,
  keyEvidence,
  keyMetadata,
  kmsEncryption,
  scanEvidence,
} from '../../helpers/evidence.js';
import { planOf } from '../../helpers/fix-world.js';

/** A policy that already denies something else: the fix must keep it as it is. */
const denyDeletes = (bucket: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Id: 'KeepMe',
    Statement: {
      Sid: 'DenyDeletes',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:DeleteObject',
      Resource: `arn:aws:s3:::${bucket}/*`,
    },
  });

const planFor = planOf;

/** The evidence with each fix's setting written, as AWS would return it after the calls. */
function applied(evidence: ScanEvidence, plan: FixPlan): ScanEvidence {
  const buckets = evidence.buckets.map((bucket): BucketEvidence => {
    let out = bucket;
    for (const fix of plan.fixes.filter((f) => f.bucket === bucket.name)) {
      const input = fix.calls[0]?.input as Record<string, unknown>;
      if (fix.calls[0]?.api === 'PutBucketPolicy')
        out = { ...out, policy: { ok: input.Policy as string } };
      else
        out = {
          ...out,
          encryption: { ok: input.ServerSideEncryptionConfiguration as never },
        };
    }
    return out;
  });
  return { ...evidence, buckets };
}

const verdicts = (findings: Finding[]) =>
  new Map(findings.map((f) => [`${f.resource.name} ${f.ruleId}`, f.status]));

describe('s3scan fix: the evidence a fix rests on', () => {
  it('refuses a failing finding whose setting the evidence does not hold', () => {
    // Prepare: findings judged from readable settings, evidence that lost them since.
    const readable = scanEvidence([bucketEvidence('lost')]);
    const { findings } = evaluateScan(readable);
    const lost = bucketEvidence('lost', {
      policy: { denied: 'AccessDenied', message: 'Access Denied' },
      encryption: { error: 'InternalError', message: 'We encountered an internal error.' },
    });

    // Act
    const plan = planFixes({
      scanId: 'test-scan',
      findings,
      evidenceOf: () => ({ bucket: lost, kmsKeys: {} }),
      now: new Date('2026-12-07T06:00:00.000Z'),
    });
    const none = planFixes({
      scanId: 'test-scan',
      findings,
      evidenceOf: () => undefined,
      now: new Date('2026-12-07T06:00:00.000Z'),
    });

    // Assess
    const reason = (rule: string) => plan.refused.find((r) => r.rule === rule)?.reason;
    expect(reason('s3-bucket-tls-enforced')).toMatch(
      /^the bucket policy was not read \(AccessDenied\); a fix would overwrite a policy nobody has seen$/,
    );
    expect(reason('s3-bucket-sse-c-blocked')).toMatch(
      /^the default encryption was not read \(InternalError\); PutBucketEncryption replaces it whole$/,
    );
    expect(plan.fixes).toEqual([]);
    expect(none.refused.find((r) => r.rule === 's3-bucket-tls-enforced')?.reason).toBe(
      'the scan holds no evidence of this bucket',
    );
  });
});

describe('s3scan fix: the plan', () => {
  const evidence = scanEvidence(
    [
      bucketEvidence('no-policy'),
      bucketEvidence('other-statement', { policy: { ok: denyDeletes('other-statement') } }),
      bucketEvidence('kms-default', { ...kmsEncryption(KEY_ARN, { bucketKey: true }) }),
    ],
    [],
  );

  it('fixes TLS and SSE-C so the engine then judges them PASS, and loosens no other verdict', () => {
    // Act
    const { plan, findings } = planFor(evidence);
    const after = evaluateScan(applied(evidence, plan)).findings;

    // Assess: every planned finding passes now; nothing that passed fails.
    const before = verdicts(findings);
    const now = verdicts(after);
    expect(plan.fixes.length).toBeGreaterThanOrEqual(6);
    for (const fix of plan.fixes)
      expect(now.get(`${fix.bucket} ${fix.rule}`), fix.bucket).toBe('PASS');
    for (const [key, status] of before)
      if (status === 'PASS') expect(now.get(key), key).toBe('PASS');
    expect(plan.actions).toEqual(['s3:PutBucketPolicy', 's3:PutEncryptionConfiguration']);
    expect(plan.fixId).toMatch(/^fix-20261207T060000Z-[0-9a-f]{12}$/);
  });

  it('takes only findings at least as severe as --severity', () => {
    // Act: TLS and SSE-C findings are high.
    const critical = planFor(evidence, { severity: 'critical' }).plan;
    const high = planFor(evidence, { severity: 'high' }).plan;

    // Assess
    expect(critical.fixes).toEqual([]);
    expect(high.fixes.length).toBeGreaterThan(0);
    expect(
      high.fixes.every(
        (f) => f.rule in { 's3-bucket-tls-enforced': 1, 's3-bucket-sse-c-blocked': 1 },
      ),
    ).toBe(true);
  });

  it('merges the TLS statement into the existing policy, keeping every statement, Version and Id', () => {
    // Act
    const { plan } = planFor(evidence, { rules: ['s3-bucket-tls-enforced'] });
    const fix = plan.fixes.find((f) => f.bucket === 'other-statement');

    // Assess
    const policy = JSON.parse(String(fix?.calls[0]?.input.Policy));
    expect(policy).toMatchObject({ Version: '2012-10-17', Id: 'KeepMe' });
    expect(policy.Statement[0]).toEqual(JSON.parse(denyDeletes('other-statement')).Statement);
    expect(policy.Statement[1]).toMatchObject({
      Sid: 'DenyInsecureTransport',
      Effect: 'Deny',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    expect(fix?.calls[0]?.input).toMatchObject({
      Bucket: 'other-statement',
      ExpectedBucketOwner: ACCOUNT,
    });
    expect(fix?.calls[0]?.input).not.toHaveProperty('ConfirmRemoveSelfBucketAccess');
    expect(fix?.keeps).toContain('every existing statement, unchanged and in order');
  });

  it('carries the KMS key, Bucket Key and algorithm forward when it blocks SSE-C', () => {
    // Act
    const { plan } = planFor(evidence, {
      buckets: ['kms-default'],
      rules: ['s3-bucket-sse-c-blocked'],
    });

    // Assess
    expect(plan.fixes).toHaveLength(1);
    expect(plan.fixes[0]?.after).toEqual({
      Rules: [
        {
          ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KEY_ARN },
          BucketKeyEnabled: true,
          BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] },
        },
      ],
    });
    expect(plan.fixes[0]?.keeps).toEqual([
      `the default algorithm aws:kms and KMS key ${KEY_ARN}`,
      'BucketKeyEnabled true',
    ]);
  });

  it('refuses what it cannot prove, saying why: an unread policy or configuration, a rule it has no fix for, a policy over the size limit', () => {
    // Prepare
    const huge = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'Big',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
          Action: 's3:GetObject',
          Resource: Array.from(
            { length: 300 },
            (_, i) => `arn:aws:s3:::large/p${i}/${'x'.repeat(30)}`,
          ),
        },
      ],
    });
    const odd = scanEvidence([
      bucketEvidence('denied', {
        policy: { denied: 'AccessDenied', message: 'Access Denied' },
        encryption: { error: 'InternalError', message: 'We encountered an internal error.' },
      }),
      bucketEvidence('large', { policy: { ok: huge } }),
    ]);

    // Act
    const { plan } = planFor(odd);
    const reasons = (bucket: string, rule: string) =>
      plan.refused.find((r) => r.bucket === bucket && r.rule === rule)?.reason;

    // Assess
    expect(Buffer.byteLength(huge)).toBeLessThan(POLICY_SIZE_LIMIT);
    // What the scan could not read it judged ERROR: nothing to fix until a rescan reads it.
    expect(reasons('denied', 's3-bucket-tls-enforced')).toMatch(
      /^the scan could not judge it \(ERROR: .*AccessDenied.*\); rescan the bucket first$/,
    );
    expect(reasons('denied', 's3-bucket-sse-c-blocked')).toMatch(/could not judge it \(ERROR/);
    expect(reasons('large', 's3-bucket-tls-enforced')).toBeUndefined();
    expect(plan.refused.some((r) => r.reason === 's3scan fix has no fix for this rule yet')).toBe(
      true,
    );
    expect(plan.fixes.every((f) => f.bucket !== 'denied')).toBe(true);
  });

  it('refuses a merged policy over S3’s 20 KB limit', () => {
    // Prepare: a policy just under the limit, which the TLS statement pushes over.
    const policyOf = (count: number) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'Readers',
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
            Action: 's3:GetObject',
            Resource: Array.from({ length: count }, (_, i) => `arn:aws:s3:::full/${i}/data`),
          },
        ],
      });
    let count = 1;
    while (Buffer.byteLength(policyOf(count + 1)) < POLICY_SIZE_LIMIT - 100) count += 1;
    const full = policyOf(count);
    const { plan } = planFor(scanEvidence([bucketEvidence('full', { policy: { ok: full } })]), {
      rules: ['s3-bucket-tls-enforced'],
    });

    // Assess
    expect(Buffer.byteLength(full)).toBeLessThan(POLICY_SIZE_LIMIT);
    expect(plan.fixes).toEqual([]);
    expect(plan.refused[0]?.reason).toMatch(
      /^the merged policy would be over S3's 20480-byte limit/,
    );
  });
});

describe('s3scan fix: key rotation', () => {
  const OTHER = 'arn:aws:kms:us-east-1:444455556666:key/abcd1234-0000-1111-2222-333344445555';
  const HMAC = `arn:aws:kms:us-east-1:${ACCOUNT}:key/hmac0000-0000-1111-2222-333344445555`;
  const bucket = (name: string, key: string) =>
    bucketEvidence(name, { ...kmsEncryption(key, { bucketKey: true }) });
  const evidence = scanEvidence(
    [bucket('own-key', KEY_ARN), bucket('other-key', OTHER), bucket('hmac-key', HMAC)],
    [
      keyEvidence(KEY_ARN, { rotation: { ok: { KeyRotationEnabled: false } } }),
      keyEvidence(OTHER, { rotation: { ok: { KeyRotationEnabled: false } } }),
      keyEvidence(HMAC, {
        describe: {
          ok: keyMetadata(HMAC, { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }),
        },
        rotation: {
          error: 'UnsupportedOperationException',
          message: 'The key does not support automatic rotation.',
        },
      }),
    ],
  );

  it('turns rotation on for a key of the bucket’s account, which the engine then judges PASS', () => {
    // Act
    const { plan } = planFor(evidence, { rules: ['s3-bucket-kms-key-rotation'] });
    const fix = plan.fixes.find((f) => f.bucket === 'own-key');
    const rotated = {
      ...evidence,
      kmsKeys: {
        ...evidence.kmsKeys,
        [KEY_ARN]: {
          ...(evidence.kmsKeys[KEY_ARN] as KmsKeyEvidence),
          rotation: { ok: { KeyRotationEnabled: true, RotationPeriodInDays: 365 } },
        },
      },
    };
    const after = evaluateScan(rotated).findings.find(
      (f) => f.resource.name === 'own-key' && f.ruleId === 's3-bucket-kms-key-rotation',
    );

    // Assess
    expect(fix?.calls).toEqual([
      {
        api: 'EnableKeyRotation',
        action: 'kms:EnableKeyRotation',
        input: { KeyId: KEY_ARN, RotationPeriodInDays: 365 },
      },
    ]);
    expect(fix?.before).toEqual({ KeyId: KEY_ARN, KeyRotationEnabled: false });
    expect(after?.status).toBe('PASS');
    expect(plan.actions).toEqual(['kms:EnableKeyRotation']);
  });

  it('refuses a key of another account and a key that cannot rotate, saying why', () => {
    // Act
    const { plan } = planFor(evidence, { rules: ['s3-bucket-kms-key-rotation'] });
    const reason = (name: string) => plan.refused.find((r) => r.bucket === name)?.reason;

    // Assess
    expect(reason('other-key')).toBe(
      `the key ${OTHER} is in account 444455556666: only that account can turn its rotation on`,
    );
    expect(reason('hmac-key')).toMatch(
      /cannot rotate automatically \(HMAC_256, origin AWS_KMS\): point the default encryption at a symmetric customer managed key instead$/,
    );
    expect(plan.fixes.map((f) => f.bucket)).toEqual(['own-key']);
  });
});
