import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getBucketFixes } from '../../../lib/dashboard/fixes-view.js';
import { applyPlan, fixRecordId, proveFixes, undoFix } from '../../../lib/remediation/apply.js';
import { LocalReportStore } from '../../../lib/report-store/local.js';
import { evaluateScan } from '../../../lib/scan/evaluate-scan.js';
import { ACCOUNT, bucketEvidence, scanEvidence } from '../../helpers/evidence.js';
import { planOf, worldOf } from '../../helpers/fix-world.js';

const WHO = `arn:aws:sts::${ACCOUNT}:assumed-role/SecurityAdmin/alice`;

describe("the dashboard's fix history of a bucket", () => {
  it('shows each fix of the bucket: the change, who ran it when, before and after, proven or not, then undone', async () => {
    // Prepare: a plan for two buckets, applied (proven by a rescan), then undone.
    const store = new LocalReportStore(mkdtempSync(join(tmpdir(), 's3scan-fixes-')));
    const evidence = scanEvidence([bucketEvidence('orders'), bucketEvidence('logs')]);
    const { plan } = planOf(evidence, { rules: ['s3-bucket-tls-enforced'] });
    const records = store.fixRecords();
    await records.create(plan.fixId, 'plan', plan);
    const world = worldOf(evidence);
    const ports = { settings: world, records, by: WHO, account: ACCOUNT };
    const applied = await applyPlan(plan, {
      ...ports,
      now: () => new Date('2026-12-07T07:00:00.000Z'),
    });
    const after = scanEvidence(
      evidence.buckets.map((b) => ({ ...b, policy: { ok: world.policies.get(b.name) ?? '' } })),
    );
    await records.write(
      plan.fixId,
      'runs/20261207T070000000Z-apply',
      proveFixes(applied, 'rescan-1', evaluateScan(after).findings),
    );

    // Act
    const proven = await getBucketFixes(store, { bucket: 'orders', account: ACCOUNT });
    const undone = await undoFix(plan.fixId, {
      ...ports,
      now: () => new Date('2026-12-07T08:00:00.000Z'),
    });
    await records.write(plan.fixId, 'runs/20261207T080000000Z-undo', undone);
    const history = await getBucketFixes(store, { bucket: 'orders' });

    // Assess
    expect(proven.fixes).toHaveLength(1);
    expect(proven.fixes[0]).toMatchObject({
      fixId: plan.fixId,
      rule: 's3-bucket-tls-enforced',
      setting: 'bucket policy',
      state: 'proven',
      next: `s3scan fix --undo ${plan.fixId}`,
    });
    expect(proven.fixes[0]?.diff[0]).toMatch(/^\+ \{"Sid":"DenyInsecureTransport"/);
    expect(proven.fixes[0]?.runs[0]).toMatchObject({
      mode: 'apply',
      by: WHO,
      status: 'applied',
      verified: true,
      verdict: { status: 'PASS' },
      rescanId: 'rescan-1',
      before: null,
    });
    expect(history.fixes[0]?.state).toBe('undone');
    expect(history.fixes[0]?.runs.map((r) => r.mode)).toEqual(['apply', 'undo']);
  });

  it('says a run stopped mid-apply, keeps other buckets out, and refuses a request that names no bucket', async () => {
    // Prepare: a saved setting with no result, as a run killed after saving leaves it.
    const store = new LocalReportStore(mkdtempSync(join(tmpdir(), 's3scan-fixes-')));
    const evidence = scanEvidence([bucketEvidence('orders'), bucketEvidence('logs')]);
    const { plan } = planOf(evidence, { rules: ['s3-bucket-tls-enforced'] });
    const records = store.fixRecords();
    await records.create(plan.fixId, 'plan', plan);
    const fix = plan.fixes.find((f) => f.bucket === 'orders')!;
    await records.create(plan.fixId, `apply/${fixRecordId(fix)}.previous`, { fix, previous: null });

    // Act
    const orders = await getBucketFixes(store, { bucket: 'orders' });
    const other = await getBucketFixes(store, { bucket: 'other-bucket' });
    const bad = await getBucketFixes(store, { bucket: '../etc' }).catch((e: Error) => e);

    // Assess
    expect(orders.fixes[0]).toMatchObject({
      state: 'interrupted',
      next: `s3scan fix --undo ${plan.fixId}`,
    });
    expect(other.fixes).toEqual([]);
    expect(bad).toMatchObject({
      statusCode: 400,
      message: 'bucket must name an S3 bucket (?bucket=NAME)',
    });
  });
});
