import { describe, expect, it } from 'vitest';
import { AUTO_FIXABLE_RULES, configFromDocument } from '../../../lib/config/config.js';
import { bucketEvidenceFile, bucketEvidencePath } from '../../../lib/evidence/paths.js';
import { autoFix, autoFixId, describeAutoFix } from '../../../lib/remediation/auto.js';
import { FIXABLE_RULES } from '../../../lib/remediation/plan.js';
import type { ReportStore } from '../../../lib/report-store/types.js';
import { evaluateScan } from '../../../lib/scan/evaluate-scan.js';
import { ACCOUNT, bucketEvidence, scanEvidence } from '../../helpers/evidence.js';
import { MemoryRecords, worldOf } from '../../helpers/fix-world.js';

const RESCAN = '20261207T080000Z-0123456789ab';

/** A rescan of two buckets whose TLS statement is gone, as the store holds it. */
function storedRescan() {
  const evidence = {
    ...scanEvidence([bucketEvidence('orders'), bucketEvidence('logs')]),
    scanId: RESCAN,
  };
  const files = new Map(
    evidence.buckets.map((b) => [
      bucketEvidencePath(b.accountId, b.region, b.name),
      Buffer.from(bucketEvidenceFile(evidence, b)),
    ]),
  );
  const records = new MemoryRecords();
  const store = {
    readScanFile: async (scanId: string, path: string) =>
      scanId === RESCAN ? files.get(path) : undefined,
    fixRecords: () => records,
  } as unknown as ReportStore;
  return { evidence, store, records, findings: evaluateScan(evidence).findings };
}

const tls = { rules: ['s3-bucket-tls-enforced' as const], dryRun: true };

describe('automatic fixes after a rescan (remediation.autoFix)', () => {
  it('in a dry run records the plan, named after the rescan, and writes nothing', async () => {
    // Prepare
    const { evidence, store, records, findings } = storedRescan();
    const world = worldOf(evidence);
    const proved: string[] = [];

    // Act
    const auto = await autoFix(
      {
        rescan: { scanId: RESCAN, findings },
        settings: tls,
        now: new Date('2026-12-07T08:01:00Z'),
      },
      {
        store,
        settings: world,
        by: 'role',
        account: ACCOUNT,
        prove: async (_buckets, event) => {
          proved.push(event);
          return undefined;
        },
      },
    );

    // Assess
    expect(auto?.dryRun).toBe(true);
    expect(auto?.plan.fixId).toBe(`fix-${RESCAN}`);
    expect(auto?.plan.fixes.map((f) => f.bucket).sort()).toEqual(['logs', 'orders']);
    expect(await records.read(autoFixId(RESCAN), 'plan')).toMatchObject({ automatic: true });
    expect((await records.list(autoFixId(RESCAN))).some((n) => /^runs\/.+-dry-run$/.test(n))).toBe(
      true,
    );
    expect(world.writes).toEqual([]);
    expect(proved).toEqual([]);
    expect(describeAutoFix(auto!)).toMatch(
      /^Automatic fix fix-\S+ \(dry run\): 2 fix\(es\) planned, nothing written/,
    );
  });

  it('applies with the remediation port, proves by a rescan naming the fix, and never plans the same rescan twice', async () => {
    // Prepare
    const { evidence, store, findings } = storedRescan();
    const world = worldOf(evidence);
    const asked: { buckets: string[]; event: string }[] = [];
    const ports = {
      store,
      settings: world,
      by: `arn:aws:iam::${ACCOUNT}:role/s3scan-ci-remediation`,
      account: ACCOUNT,
      prove: async (buckets: { bucket: string }[], event: string) => {
        asked.push({ buckets: buckets.map((b) => b.bucket).sort(), event });
        // The proving rescan reads what the fix wrote.
        const after = scanEvidence(
          evidence.buckets.map((b) => ({ ...b, policy: { ok: world.policies.get(b.name) ?? '' } })),
        );
        return { scanId: 'proof-1', findings: evaluateScan(after).findings };
      },
    };
    const input = {
      rescan: { scanId: RESCAN, findings },
      settings: { ...tls, dryRun: false },
      now: new Date('2026-12-07T08:01:00Z'),
    };

    // Act
    const auto = await autoFix(input, ports);
    const retried = await autoFix(input, ports);

    // Assess
    expect(
      auto?.outcome?.results.map((r) => [r.bucket, r.status, r.verdict?.status]).sort(),
    ).toEqual([
      ['logs', 'applied', 'PASS'],
      ['orders', 'applied', 'PASS'],
    ]);
    expect(auto?.outcome).toMatchObject({ rescanId: 'proof-1', by: ports.by });
    expect(asked).toEqual([
      { buckets: ['logs', 'orders'], event: `s3scan auto-fix fix-${RESCAN}` },
    ]);
    expect(retried?.refused).toBe('planned by an earlier attempt');
    expect(world.writes).toHaveLength(2);
  });

  it('refuses to write without a remediation role, and does nothing when no named rule fails', async () => {
    // Prepare
    const { store, records, findings } = storedRescan();
    const prove = async () => undefined;

    // Act
    const noRole = await autoFix(
      {
        rescan: { scanId: RESCAN, findings },
        settings: { ...tls, dryRun: false },
        now: new Date(),
      },
      { store, by: 'none', account: ACCOUNT, prove },
    );
    const nothing = await autoFix(
      {
        rescan: { scanId: RESCAN, findings },
        settings: { rules: ['s3-bucket-kms-key-rotation'], dryRun: false },
        now: new Date(),
      },
      { store, by: 'none', account: ACCOUNT, prove },
    );

    // Assess
    expect(noRole?.refused).toBe(
      'remediation.autoFix.dryRun is false, but this host has no remediation role to write with (deploy with remediation: enabled)',
    );
    expect((await records.list(autoFixId(RESCAN))).some((n) => n.endsWith('-refused'))).toBe(true);
    expect(nothing).toBeUndefined();
  });
});

describe('the remediation: section of the config', () => {
  it('names only rules s3scan can fix, and is a dry run unless it says otherwise', () => {
    // Act
    const config = configFromDocument({
      remediation: { autoFix: { rules: ['s3-bucket-tls-enforced'] } },
    });
    const off = configFromDocument({ remediation: { autoFix: { rules: [] } } });

    // Assess
    expect(config.remediation).toEqual({
      autoFix: { rules: ['s3-bucket-tls-enforced'], dryRun: true },
    });
    expect(off.remediation).toBeUndefined();
    expect(() =>
      configFromDocument({ remediation: { autoFix: { rules: ['s3-objects-unencrypted'] } } }),
    ).toThrow(/remediation\.autoFix\.rules/);
    expect(() => configFromDocument({ remediation: { autoFix: { dryRun: false } } })).toThrow(
      /rules/,
    );
    expect([...AUTO_FIXABLE_RULES].sort()).toEqual(Object.keys(FIXABLE_RULES).sort());
  });
});
