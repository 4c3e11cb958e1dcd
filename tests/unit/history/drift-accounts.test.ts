import { describe, expect, it } from 'vitest';
import type { AccountEvidence, ScanEvidence } from '../../../lib/evidence/types.js';
import { type Drift, diffScans, scopeOf } from '../../../lib/history/drift.js';
import { diffFindingStreams } from '../../../lib/history/drift-stream.js';
import { evaluateScan } from '../../../lib/scan/evaluate-scan.js';
import { bucketEvidence, scanEvidence } from '../../helpers/evidence.js';

/**
 * Drift across two organisation-wide scans: an account that could not be read the second
 * time leaves its earlier findings unverifiable (the alerts' kind for "could not check"),
 * never gone; a bucket deleted in a readable account is still gone.
 */
const OWN = '111122223333';
const MEMBER = '222233334444';
const BROKEN = '333344445555';

const account = (
  accountId: string,
  status: AccountEvidence['status'],
  buckets: number,
  reason?: string,
): AccountEvidence => ({
  accountId,
  access: accountId === OWN ? 'own' : 'role',
  ...(accountId === OWN ? {} : { roleArn: `arn:aws:iam::${accountId}:role/s3scan-read` }),
  status,
  ...(reason ? { reason } : {}),
  region: 'us-east-1',
  buckets,
});

function orgScan(
  scanId: string,
  scanTime: string,
  readable: boolean,
  memberBuckets: string[],
): ScanEvidence {
  const base = scanEvidence([
    bucketEvidence('own-logs', { accountId: OWN }),
    ...memberBuckets.map((name) => bucketEvidence(name, { accountId: MEMBER })),
    ...(readable ? [bucketEvidence('broken-data', { accountId: BROKEN })] : []),
  ]);
  return {
    ...base,
    scanId,
    scanTime,
    accountId: OWN,
    accounts: [
      account(OWN, 'scanned', 1),
      account(MEMBER, 'scanned', memberBuckets.length),
      readable
        ? account(BROKEN, 'scanned', 1)
        : account(
            BROKEN,
            'failed',
            0,
            'could not assume arn:aws:iam::333344445555:role/s3scan-read (AccessDenied)',
          ),
    ],
  };
}

const lines = (findings: unknown[]) =>
  async function* () {
    yield findings.map((f) => JSON.stringify(f));
  };

const kindsOf = (drift: Drift) =>
  Object.fromEntries(
    Object.entries(drift.changes).map(([kind, entries]) => [
      kind,
      entries
        .map(
          (e) => `${(e.current ?? e.previous)!.resource.name}:${(e.current ?? e.previous)!.ruleId}`,
        )
        .sort(),
    ]),
  );

describe('drift of organisation-wide scans', () => {
  it('calls an unreadable account’s earlier findings unverifiable, not gone, in both drift engines', async () => {
    // Prepare
    const before = evaluateScan(
      orgScan('s1', '2026-11-01T06:00:00.000Z', true, ['member-a', 'member-b']),
    );
    const after = evaluateScan(orgScan('s2', '2026-11-02T06:00:00.000Z', false, ['member-a']));
    const accounts = [OWN, MEMBER, BROKEN];
    const scope = scopeOf({
      accountId: OWN,
      scope: { buckets: [], regions: [], accounts, unreachableAccounts: [BROKEN] },
    });

    // Act
    const direct = diffScans(
      { scanId: 's1', scanTime: '2026-11-01T06:00:00.000Z', findings: before.findings },
      { scanId: 's2', scanTime: '2026-11-02T06:00:00.000Z', findings: after.findings },
      scope,
    );
    const streamed = await diffFindingStreams(
      { scanId: 's1', scanTime: '2026-11-01T06:00:00.000Z', lines: lines(before.findings) },
      { scanId: 's2', scanTime: '2026-11-02T06:00:00.000Z', lines: lines(after.findings) },
      scope,
    );

    // Assess: the broken account's bucket findings that passed or failed are unverifiable,
    // and so is the account itself (PASS, now ERROR); the deleted member bucket is gone.
    const previousOfBroken = before.findings.filter(
      (f) => f.resource.account === BROKEN && (f.status === 'PASS' || f.status === 'FAIL'),
    );
    expect(previousOfBroken.length).toBeGreaterThan(2);
    const unverifiable = direct.changes.unverifiable;
    expect(unverifiable.every((e) => (e.current ?? e.previous)!.resource.account === BROKEN)).toBe(
      true,
    );
    // The account's own finding is among them: PASS before, ERROR now.
    expect(unverifiable).toHaveLength(previousOfBroken.length);
    expect(unverifiable.map((e) => e.current?.ruleId).filter(Boolean)).toEqual([
      's3-account-scanned',
    ]);
    expect(direct.changes.gone.every((e) => e.previous!.resource.name === 'member-b')).toBe(true);
    expect(direct.changes.gone.length).toBeGreaterThan(0);
    // The two engines agree, kind by kind and count by count.
    expect(kindsOf(streamed)).toEqual(kindsOf(direct));
    expect(streamed.counts).toEqual(direct.counts);
  });

  it('without the unreachable list the same change reads as gone: the scope is what tells them apart', () => {
    // Prepare
    const before = evaluateScan(orgScan('s1', '2026-11-01T06:00:00.000Z', true, ['member-a']));
    const after = evaluateScan(orgScan('s2', '2026-11-02T06:00:00.000Z', false, ['member-a']));

    // Act
    const drift = diffScans(
      { scanId: 's1', scanTime: '2026-11-01T06:00:00.000Z', findings: before.findings },
      { scanId: 's2', scanTime: '2026-11-02T06:00:00.000Z', findings: after.findings },
      scopeOf({
        accountId: OWN,
        scope: { buckets: [], regions: [], accounts: [OWN, MEMBER, BROKEN] },
      }),
    );

    // Assess
    expect(drift.changes.gone.every((e) => e.previous!.resource.account === BROKEN)).toBe(true);
    expect(drift.counts.gone).toBeGreaterThan(2);
  });

  it('keeps account findings in scope whatever the bucket filters, and other accounts out', () => {
    // Prepare
    const { findings } = evaluateScan(
      orgScan('s1', '2026-11-01T06:00:00.000Z', true, ['member-a']),
    );
    const scope = scopeOf({
      accountId: OWN,
      scope: { buckets: ['own-*'], regions: [], accounts: [OWN, MEMBER] },
    });

    // Act
    const drift = diffScans(
      { scanId: 's0', scanTime: '2026-10-31T06:00:00.000Z', findings: [] },
      { scanId: 's1', scanTime: '2026-11-01T06:00:00.000Z', findings },
      scope,
    );

    // Assess: own-logs and the two accounts' findings count; BROKEN is outside the scope.
    const counted = Object.values(drift.counts).reduce((a, b) => a + b, 0);
    const expected = findings.filter(
      (f) =>
        (f.resource.type === 'AWS::::Account' && f.resource.account !== BROKEN) ||
        f.resource.name === 'own-logs',
    ).length;
    expect(counted).toBe(expected);
  });
});
