import { describe, expect, it } from 'vitest';
import type { EncryptionSetting } from '../../../lib/aws/bucket-settings.js';
import {
  actionsToApply,
  actionsToUndo,
  applyPlan,
  type FixPorts,
  fixRecordId,
  proveFixes,
  savedSettings,
  undoFix,
} from '../../../lib/remediation/apply.js';
import { FIX_IAM_ACTIONS } from '../../../lib/remediation/settings.js';
import { evaluateScan } from '../../../lib/scan/evaluate-scan.js';
import { kmsError, s3AccessDenied, s3Error } from '../../helpers/aws-errors.js';
import {
  ACCOUNT,
  bucketEvidence,
  KEY_ARN,
  keyEvidence,
  kmsEncryption,
  scanEvidence,
} from '../../helpers/evidence.js';
import { MemoryRecords, planOf, type SettingsWorld, worldOf } from '../../helpers/fix-world.js';

const CALLER = `arn:aws:sts::${ACCOUNT}:assumed-role/SecurityAdmin/alice`;

/** A policy with one statement the fix must keep. */
const readOnly = (bucket: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ReadOnly',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
        Action: 's3:GetObject',
        Resource: `arn:aws:s3:::${bucket}/*`,
      },
    ],
  });

const evidence = scanEvidence(
  [
    bucketEvidence('no-policy'),
    bucketEvidence('read-only', { policy: { ok: readOnly('read-only') } }),
    bucketEvidence('kms-default', { ...kmsEncryption(KEY_ARN, { bucketKey: true }) }),
    bucketEvidence('kms-too', { ...kmsEncryption(KEY_ARN) }),
  ],
  [keyEvidence(KEY_ARN, { rotation: { ok: { KeyRotationEnabled: false } } })],
);

function portsOf(world: SettingsWorld, records = new MemoryRecords()): FixPorts {
  return {
    settings: world,
    records,
    by: CALLER,
    account: ACCOUNT,
    now: () => new Date('2026-12-07T07:00:00.000Z'),
    sleep: async () => undefined,
  };
}

const tlsPlan = () => planOf(evidence, { rules: ['s3-bucket-tls-enforced'] }).plan;

describe('s3scan fix --apply', () => {
  it('writes the planned setting, saves the one it replaced first, and reads it back', async () => {
    // Prepare
    const plan = tlsPlan();
    const world = worldOf(evidence);
    const records = new MemoryRecords();

    // Act
    const outcome = await applyPlan(plan, portsOf(world, records));

    // Assess: both buckets written as planned; the previous policy saved, the result recorded.
    expect(outcome.results.map((r) => [r.bucket, r.status, r.verified])).toEqual(
      plan.fixes.map((f) => [f.bucket, 'applied', true]),
    );
    const fix = plan.fixes.find((f) => f.bucket === 'read-only');
    expect(JSON.parse(world.policies.get('read-only') ?? '')).toEqual(fix?.after);
    const saved = await savedSettings(records, plan.fixId);
    expect(saved.find((s) => s.fix.bucket === 'read-only')).toMatchObject({
      previous: JSON.parse(readOnly('read-only')),
      by: CALLER,
    });
    expect(saved.find((s) => s.fix.bucket === 'no-policy')?.previous).toBeNull();
    expect(outcome.results.find((r) => r.bucket === 'read-only')?.calls).toEqual([
      'GetBucketPolicy',
      'PutBucketPolicy',
      'GetBucketPolicy',
    ]);
    expect(outcome).toMatchObject({ mode: 'apply', by: CALLER, fixId: plan.fixId });
  });

  it('refuses a bucket whose setting changed since the scan, says what changed, and writes nothing there', async () => {
    // Prepare: someone added a statement to read-only's policy after the scan.
    const plan = tlsPlan();
    const world = worldOf(evidence);
    const changed = JSON.parse(readOnly('read-only'));
    changed.Statement.push({
      Sid: 'Later',
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:ListBucket',
      Resource: 'arn:aws:s3:::read-only',
    });
    world.policies.set('read-only', JSON.stringify(changed));
    const records = new MemoryRecords();

    // Act
    const outcome = await applyPlan(plan, portsOf(world, records));

    // Assess
    const refused = outcome.results.find((r) => r.bucket === 'read-only');
    expect(refused?.status).toBe('refused');
    expect(refused?.reason).toBe(
      'changed since scan test-scan: the bucket policy has 1 statement(s) added and 0 removed; nothing was written (rescan, then plan again)',
    );
    expect(JSON.parse(world.policies.get('read-only') ?? '')).toEqual(changed);
    expect(world.writes.map((w) => w.target)).not.toContain('read-only');
    expect((await savedSettings(records, plan.fixId)).map((s) => s.fix.bucket)).not.toContain(
      'read-only',
    );
  });

  it('leaves a setting that already is what the fix writes, and writes nothing', async () => {
    // Prepare: no-policy got exactly the planned policy from someone else.
    const plan = tlsPlan();
    const world = worldOf(evidence);
    const fix = plan.fixes.find((f) => f.bucket === 'no-policy');
    world.policies.set('no-policy', JSON.stringify(fix?.after));

    // Act
    const outcome = await applyPlan(plan, portsOf(world));

    // Assess
    expect(outcome.results.find((r) => r.bucket === 'no-policy')).toMatchObject({
      status: 'already',
      calls: ['GetBucketPolicy'],
    });
    expect(world.writes.map((w) => w.target)).not.toContain('no-policy');
    expect(world.writes).toHaveLength(plan.fixes.length - 1);
  });

  it('retries OperationAborted (409) and applies; refuses to retry AccessDenied and says the setting is unchanged', async () => {
    // Prepare: a concurrent config write twice, then success; the other bucket denied.
    const plan = tlsPlan();
    const world = worldOf(evidence);
    const aborted = () =>
      s3Error(
        'OperationAborted',
        409,
        'A conflicting conditional operation is currently in progress against this resource. Please try again.',
      );
    world.failNext('putPolicy', aborted(), aborted());
    const plan1 = { ...plan, fixes: plan.fixes.filter((f) => f.bucket === 'no-policy') };
    const plan2 = { ...plan, fixes: plan.fixes.filter((f) => f.bucket === 'read-only') };

    // Act
    const retried = await applyPlan(plan1, portsOf(world));
    world.failNext('putPolicy', s3AccessDenied());
    const denied = await applyPlan(plan2, portsOf(world));

    // Assess
    expect(retried.results[0]).toMatchObject({ status: 'applied', verified: true });
    expect(retried.results[0]?.calls).toEqual([
      'GetBucketPolicy',
      'PutBucketPolicy',
      'PutBucketPolicy',
      'PutBucketPolicy',
      'GetBucketPolicy',
    ]);
    expect(denied.results[0]).toMatchObject({
      status: 'failed',
      reason: 'the write failed (AccessDenied (HTTP 403): Access Denied); the setting is unchanged',
    });
    expect(world.policies.get('read-only')).toBe(readOnly('read-only'));
  });

  it('judges a write that timed out by its read-back: landed is applied, unknown is failed and undoable', async () => {
    // Prepare: both writes land, then time out; the second bucket's read-back fails as well.
    const plan = tlsPlan();
    const world = worldOf(evidence);
    const records = new MemoryRecords();
    const timeout = Object.assign(new Error('Connection timed out after 30000 ms'), {
      name: 'TimeoutError',
    });
    const only = (bucket: string) => ({
      ...plan,
      fixes: plan.fixes.filter((f) => f.bucket === bucket),
    });
    world.landThenFail('putPolicy', timeout).landThenFail('putPolicy', timeout);

    // Act
    const first = await applyPlan(only('no-policy'), portsOf(world, records));
    world.failNext(
      'readPolicy',
      null,
      s3Error('InternalError', 500, 'We encountered an internal error. Please try again.'),
    );
    const second = await applyPlan(only('read-only'), portsOf(world, records));

    // Assess
    expect(first.results[0]).toMatchObject({
      status: 'applied',
      verified: true,
      reason:
        'the write failed (TimeoutError: Connection timed out after 30000 ms), yet the read-back shows it landed',
    });
    expect(second.results[0]?.status).toBe('failed');
    expect(second.results[0]?.reason).toMatch(
      /^the write failed \(TimeoutError: .*\), and the read-back failed too \(InternalError \(HTTP 500\): .*\): whether it landed is unknown; the saved setting lets --undo restore it$/,
    );

    // Act: undo, with reads healthy again.
    const undone = await undoFix(plan.fixId, portsOf(world, records));

    // Assess: both policies as they were at the scan.
    expect(undone.results.map((r) => [r.bucket, r.status, r.verified])).toEqual([
      ['no-policy', 'applied', true],
      ['read-only', 'applied', true],
    ]);
    expect(world.policies.has('no-policy')).toBe(false);
    expect(JSON.parse(world.policies.get('read-only') ?? '')).toEqual(
      JSON.parse(readOnly('read-only')),
    );
  });

  it('applies a plan once when two runs race: the second finds the saved setting and refuses', async () => {
    // Prepare: slow writes, so both runs re-read before either writes.
    const plan = tlsPlan();
    const world = worldOf(evidence, 20);
    const records = new MemoryRecords();

    // Act
    const [a, b] = await Promise.all([
      applyPlan(plan, portsOf(world, records)),
      applyPlan(plan, portsOf(world, records)),
    ]);

    // Assess: each bucket written exactly once, by one run or the other.
    const applied = [...a.results, ...b.results].filter((r) => r.status === 'applied');
    expect(applied.map((r) => r.bucket).sort()).toEqual(plan.fixes.map((f) => f.bucket).sort());
    expect(world.writes).toHaveLength(plan.fixes.length);
    const refused = [...a.results, ...b.results].filter((r) => r.status === 'refused');
    expect(refused).toHaveLength(plan.fixes.length);
    for (const r of refused)
      expect(r.reason).toBe(
        `an earlier run of fix ${plan.fixId} already applied it; nothing was written (s3scan fix --undo ${plan.fixId} restores it)`,
      );
  });

  it('writes one setting at a time per bucket, and a key shared by two buckets once', async () => {
    // Prepare: TLS, SSE-C and rotation fixes; two buckets share the key.
    const { plan } = planOf(evidence);
    const world = worldOf(evidence, 5);

    // Act
    const outcome = await applyPlan(plan, portsOf(world));

    // Assess
    expect(world.maxWritesInFlight).toBe(1);
    const rotations = outcome.results.filter((r) => r.rule === 's3-bucket-kms-key-rotation');
    expect(rotations.map((r) => r.status).sort()).toEqual(['already', 'applied']);
    expect(world.rotation.get(KEY_ARN)).toEqual({
      KeyRotationEnabled: true,
      RotationPeriodInDays: 365,
    });
    expect(world.writes.filter((w) => w.op === 'enableRotation')).toHaveLength(1);
    expect(outcome.results.every((r) => r.status === 'applied' || r.status === 'already')).toBe(
      true,
    );
  });

  it("refuses a bucket of another account: the caller's credentials write only their own", async () => {
    // Act
    const outcome = await applyPlan(tlsPlan(), {
      ...portsOf(worldOf(evidence)),
      account: '999988887777',
    });

    // Assess
    expect(outcome.results.every((r) => r.status === 'refused' && r.calls.length === 0)).toBe(true);
    expect(outcome.results[0]?.reason).toBe(
      `the bucket is in account ${ACCOUNT} and these credentials are of account 999988887777; nothing was written (apply it with that account's credentials)`,
    );
  });

  it('names the IAM actions applying and undoing need: each read, and each write', async () => {
    // Prepare
    const { plan } = planOf(evidence);
    const records = new MemoryRecords();
    await applyPlan(plan, portsOf(worldOf(evidence), records));

    // Act
    const toApply = actionsToApply(plan.fixes);
    const toUndo = actionsToUndo(await savedSettings(records, plan.fixId));

    // Assess
    expect(toApply).toEqual([
      'kms:EnableKeyRotation',
      'kms:GetKeyRotationStatus',
      's3:GetBucketPolicy',
      's3:GetEncryptionConfiguration',
      's3:PutBucketPolicy',
      's3:PutEncryptionConfiguration',
    ]);
    expect(toUndo).toEqual([
      'kms:DisableKeyRotation',
      'kms:GetKeyRotationStatus',
      's3:DeleteBucketPolicy',
      's3:GetBucketPolicy',
      's3:GetEncryptionConfiguration',
      's3:PutBucketPolicy',
      's3:PutEncryptionConfiguration',
    ]);
    // The deployment's remediation role grants exactly FIX_IAM_ACTIONS: every action here is one.
    const granted: string[] = [...FIX_IAM_ACTIONS.reads, ...FIX_IAM_ACTIONS.writes];
    expect([...toApply, ...toUndo].filter((a) => !granted.includes(a))).toEqual([]);
    expect(new Set([...toApply, ...toUndo])).toEqual(new Set(granted));
  });
});

describe('s3scan fix --undo', () => {
  it('restores every saved setting: the policy deleted or put back, SSE-C unblocked explicitly, rotation off', async () => {
    // Prepare
    const { plan } = planOf(evidence);
    const world = worldOf(evidence);
    const records = new MemoryRecords();
    await applyPlan(plan, portsOf(world, records));
    world.writes.length = 0;

    // Act
    const outcome = await undoFix(plan.fixId, portsOf(world, records));

    // Assess: AWS as at the scan.
    expect(outcome.results.every((r) => r.status !== 'failed' && r.status !== 'refused')).toBe(
      true,
    );
    expect(world.policies.has('no-policy')).toBe(false);
    expect(world.rotation.get(KEY_ARN)).toEqual({ KeyRotationEnabled: false });
    // "NONE" says nothing is blocked: whether a PUT without the member keeps a block is unverified.
    const put = world.writes.find((w) => w.op === 'putEncryption' && w.target === 'no-policy');
    expect((put?.value as EncryptionSetting | undefined)?.Rules[0]?.BlockedEncryptionTypes).toEqual(
      {
        EncryptionType: ['NONE'],
      },
    );
    for (const bucket of evidence.buckets)
      expect(
        world.encryption.get(bucket.name)?.Rules[0]?.ApplyServerSideEncryptionByDefault,
      ).toEqual(
        'ok' in bucket.encryption
          ? bucket.encryption.ok.Rules[0]?.ApplyServerSideEncryptionByDefault
          : undefined,
      );
    expect(outcome.mode).toBe('undo');
  });

  it('refuses a setting changed since the fix, and leaves it as it is', async () => {
    // Prepare
    const plan = tlsPlan();
    const world = worldOf(evidence);
    const records = new MemoryRecords();
    await applyPlan(plan, portsOf(world, records));
    world.policies.set('read-only', readOnly('read-only').replace('s3:GetObject', 's3:GetObject*'));
    const changed = world.policies.get('read-only');

    // Act
    const outcome = await undoFix(plan.fixId, portsOf(world, records));

    // Assess
    const refused = outcome.results.find((r) => r.bucket === 'read-only');
    expect(refused).toMatchObject({
      status: 'refused',
      reason:
        'changed since the fix: the bucket policy has 1 statement(s) added and 2 removed; nothing was restored',
    });
    expect(world.policies.get('read-only')).toBe(changed);
    expect(outcome.results.find((r) => r.bucket === 'no-policy')?.status).toBe('applied');
  });

  it('recovers from a run killed mid-apply: a write that never left needs nothing, one that landed is restored', async () => {
    // Prepare: the records a run leaves when killed after saving: no result, one write landed.
    const plan = tlsPlan();
    const world = worldOf(evidence);
    const records = new MemoryRecords();
    for (const fix of plan.fixes)
      await records.create(plan.fixId, `apply/${fixRecordId(fix)}.previous`, {
        fixId: plan.fixId,
        fix,
        previous: fix.before,
        at: '2026-12-07T07:00:00.000Z',
        by: CALLER,
      });
    const landed = plan.fixes.find((f) => f.bucket === 'read-only');
    world.policies.set('read-only', JSON.stringify(landed?.after));

    // Act
    const outcome = await undoFix(plan.fixId, portsOf(world, records));

    // Assess
    expect(outcome.results.find((r) => r.bucket === 'read-only')).toMatchObject({
      status: 'applied',
      verified: true,
    });
    expect(outcome.results.find((r) => r.bucket === 'no-policy')).toMatchObject({
      status: 'already',
      reason: 'the bucket policy already is as it was before the fix; nothing was written',
    });
    expect(JSON.parse(world.policies.get('read-only') ?? '')).toEqual(
      JSON.parse(readOnly('read-only')),
    );
    expect(world.writes).toHaveLength(1);
  });
});

describe('s3scan fix: the proof', () => {
  it("attaches each fix's verdict from the rescan's findings, by fingerprint", async () => {
    // Prepare: the rescan judges the world after the fix.
    const plan = tlsPlan();
    const world = worldOf(evidence);
    const outcome = await applyPlan(plan, portsOf(world));
    const rescanned = scanEvidence(
      evidence.buckets.map((b) => {
        const policy = world.policies.get(b.name);
        return policy === undefined ? b : { ...b, policy: { ok: policy } };
      }),
      Object.values(evidence.kmsKeys),
    );

    // Act
    const proved = proveFixes(outcome, 'rescan-1', evaluateScan(rescanned).findings);

    // Assess
    expect(proved.rescanId).toBe('rescan-1');
    expect(proved.results.map((r) => r.verdict?.status)).toEqual(plan.fixes.map(() => 'PASS'));
  });

  it('reports a KMS error as the SDK raises it, per bucket', async () => {
    // Prepare: the key cannot rotate (asymmetric, HMAC or imported: KMS says so at the write).
    const plan = planOf(evidence, { rules: ['s3-bucket-kms-key-rotation'] }).plan;
    const world = worldOf(evidence);
    world.failNext(
      'enableRotation',
      kmsError(
        'UnsupportedOperationException',
        400,
        `${KEY_ARN} origin is EXTERNAL which is not valid for this operation.`,
      ),
    );

    // Act
    const outcome = await applyPlan(plan, portsOf(world));

    // Assess: the first bucket's write fails; the second sees the key unchanged and tries again.
    expect(outcome.results[0]).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(
        /^the write failed \(UnsupportedOperationException \(HTTP 400\): .* origin is EXTERNAL .*\); the setting is unchanged$/,
      ),
    });
    expect(outcome.results[1]).toMatchObject({ status: 'applied', verified: true });
    expect(world.writes.filter((w) => w.op === 'enableRotation')).toHaveLength(1);
  });
});
