import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type AlertState, alertScan } from '../../../lib/alerts/run-alerts.js';
import { alertSettingsOf } from '../../../lib/alerts/settings.js';
import type { AlertBatch, AlertDigest, AlertSink, BatchOutcome } from '../../../lib/alerts/sink.js';
import { summarize } from '../../../lib/engine/evaluate.js';
import type { Finding } from '../../../lib/engine/types.js';
import { previousScanOf } from '../../../lib/history/drift.js';
import { LocalReportStore } from '../../../lib/report-store/local.js';
import type { IndexEntry } from '../../../lib/report-store/types.js';
import { scanEvidence } from '../../helpers/evidence.js';
import { ACCOUNT, finding } from '../../helpers/findings.js';

/** Stores a scan of synthetic findings, as a host would after judging. */
async function store(
  reports: LocalReportStore,
  scanId: string,
  scanTime: string,
  findings: Finding[],
  scope?: {
    buckets: string[];
    regions: string[];
    accounts?: string[];
    unreachableAccounts?: string[];
  },
  rescanOf?: string,
) {
  const evidence = { ...scanEvidence([]), scanId, scanTime };
  const summary = summarize(evidence, findings, { expiredSuppressions: [], disabledRules: [] });
  await reports.writeScan({
    summary: {
      schemaVersion: '1',
      source: rescanOf ? 'rescan' : 'scan',
      ...summary,
      ...(scope ? { scope } : {}),
      ...(rescanOf
        ? { rescanOf: { scanId: rescanOf, scanTime: t(1), events: ['PutBucketPolicy'] } }
        : {}),
    },
    findings,
    evidence,
  });
}

/** A sink that keeps every digest it planned and delivers everything. */
class Capture implements AlertSink<string> {
  public readonly name = 'capture';
  public readonly idempotent = false;
  public readonly digests: AlertDigest[] = [];
  public plan(digest: AlertDigest): AlertBatch<string>[] {
    this.digests.push(digest);
    return [{ id: 'digest', entries: [{ id: 'digest', payload: 'x' }] }];
  }
  public preview(): string {
    return 'capture';
  }
  public async deliver(batch: AlertBatch<string>): Promise<BatchOutcome> {
    return { delivered: batch.entries.map((e) => e.id), failed: [] };
  }
}

const settings = alertSettingsOf({
  expiringSuppressionDays: 10,
  securityHub: { reimportDays: 30 },
});
const t = (day: number) => `2026-11-${String(day).padStart(2, '0')}T06:00:00.000Z`;

describe('alertScan after rescans: the previous scan overlaid with the rescans since', () => {
  it('does not report again what a rescan reported: the next full scan sees the rescanned state', async () => {
    // Prepare: a full scan, a rescan of b (regressed) and of gone-bucket (deleted), a full scan.
    const reports = new LocalReportStore(mkdtempSync(join(tmpdir(), 's3scan-alerts-')));
    const sink = new Capture();
    const pass = finding('rule-a', 'b', 'PASS');
    const fail = finding('rule-a', 'b', 'FAIL');
    await store(reports, 'full-1', t(1), [
      pass,
      finding('rule-a', 'c', 'PASS'),
      finding('rule-a', 'gone-bucket', 'FAIL'),
    ]);
    await store(reports, 'rescan-1', t(2), [fail], { buckets: ['b'], regions: [] }, 'full-1');
    await store(reports, 'rescan-2', t(3), [], { buckets: ['gone-bucket'], regions: [] }, 'full-1');
    await store(reports, 'full-2', t(4), [fail, finding('rule-a', 'c', 'PASS')]);

    // Act
    for (const id of ['full-1', 'rescan-1', 'rescan-2', 'full-2'])
      await alertScan(reports, id, settings, () => [sink]);

    // Assess: each change reported once, by the scan that saw it first.
    const [, rescan1, rescan2, full2] = sink.digests;
    expect(rescan1?.drift.counts.regressed).toBe(1);
    expect(rescan2?.drift.counts.gone).toBe(1);
    expect(full2?.drift.counts).toMatchObject({
      regressed: 0,
      gone: 0,
      new: 0,
      'still-failing': 1,
    });
    expect(full2?.drift.from.scanId).toBe('rescan-2');
    // A rescan says what asked for it; a full scan has no cause.
    expect(rescan1?.cause).toBe('rescan after PutBucketPolicy');
    expect(full2?.cause).toBeUndefined();
    // firstSeen of the FAIL is the rescan's time, carried into the full scan.
    expect(full2?.drift.changes['still-failing'][0]?.firstSeen).toBe(t(2));
    // index.json's latest is the newest full scan throughout.
    expect((await reports.readIndex())?.latest).toBe('full-2');
  });
});

describe('alertScan after a rescan that could not reach a member account', () => {
  it('keeps that member’s buckets as last seen: unverifiable in the rescan, never new again', async () => {
    // Prepare: the member's role was denied during the rescan, so it saw none of its buckets.
    const member = '444455556666';
    const reports = new LocalReportStore(mkdtempSync(join(tmpdir(), 's3scan-alerts-')));
    const sink = new Capture();
    const fail = finding('rule-a', 'm', 'FAIL', { account: member });
    const org = { buckets: [], regions: [], accounts: [ACCOUNT, member] };
    await store(reports, 'full-1', t(1), [fail, finding('rule-a', 'own', 'PASS')], org);
    await store(
      reports,
      'rescan-1',
      t(2),
      [],
      { buckets: ['m'], regions: [], accounts: [member], unreachableAccounts: [member] },
      'full-1',
    );
    await store(reports, 'full-2', t(3), [fail, finding('rule-a', 'own', 'PASS')], org);

    // Act
    for (const id of ['full-1', 'rescan-1', 'full-2'])
      await alertScan(reports, id, settings, () => [sink]);

    // Assess: the rescan could not verify m; the next full scan finds it still failing.
    const [, rescan1, full2] = sink.digests;
    expect(rescan1?.drift.counts).toMatchObject({ gone: 0, unverifiable: 1 });
    expect(full2?.drift.counts).toMatchObject({ new: 0, gone: 0, 'still-failing': 1 });
    expect(full2?.drift.changes['still-failing'][0]?.firstSeen).toBe(t(1));
  });
});

describe('alertScan: drift against the previous scan of the same scope, state carried', () => {
  it('keeps firstSeen from the first failing scan over a sequence of scans', async () => {
    // Prepare
    const reports = new LocalReportStore(mkdtempSync(join(tmpdir(), 's3scan-alerts-')));
    const sink = new Capture();
    const failing = finding('rule-a', 'b', 'FAIL');
    await store(reports, 's1', t(1), [finding('rule-a', 'b', 'PASS')]);
    await store(reports, 's2', t(2), [failing]);
    await store(reports, 's3', t(3), [failing]);
    await store(reports, 's4', t(4), [failing]);

    // Act
    for (const id of ['s1', 's2', 's3', 's4']) await alertScan(reports, id, settings, () => [sink]);

    // Assess
    const last = sink.digests.at(-1)!;
    expect(last.drift.changes['still-failing'][0]?.firstSeen).toBe(t(2));
    const state = (await reports.alertLedger().read('s4', 'state')) as AlertState;
    expect(state.firstSeen[failing.fingerprint]).toBe(t(2));
    expect(sink.digests[0]?.baseline).toBe(true);
    expect(sink.digests[1]?.baseline).toBe(false);
  });

  it('a scan of one bucket compares with the last scan of everything and never calls others gone', async () => {
    // Prepare
    const reports = new LocalReportStore(mkdtempSync(join(tmpdir(), 's3scan-alerts-')));
    const sink = new Capture();
    await store(reports, 'full', t(1), [
      finding('rule-a', 'a', 'FAIL'),
      finding('rule-a', 'b', 'FAIL'),
    ]);
    await store(reports, 'only-a', t(2), [finding('rule-a', 'a', 'PASS')], {
      buckets: ['a'],
      regions: [],
    });

    // Act
    const run = await alertScan(reports, 'only-a', settings, () => [sink]);

    // Assess
    expect(run.previousScanId).toBe('full');
    expect(run.drift.counts.resolved).toBe(1);
    expect(run.drift.counts.gone).toBe(0);
  });

  it('warns about a suppression that expires soon once, not on every scan', async () => {
    // Prepare: the suppression ends 2026-11-08; the window is 10 days.
    const reports = new LocalReportStore(mkdtempSync(join(tmpdir(), 's3scan-alerts-')));
    const sink = new Capture();
    const suppressed = finding('rule-a', 'legacy', 'FAIL', {
      suppression: { expires: '2026-11-08' },
    });
    await store(reports, 's1', t(1), [suppressed]);
    await store(reports, 's2', t(2), [suppressed]);

    // Act
    await alertScan(reports, 's1', settings, () => [sink]);
    await alertScan(reports, 's2', settings, () => [sink]);

    // Assess
    expect(sink.digests.map((d) => d.expiring?.length)).toEqual([1, 0]);
    expect(sink.digests[0]?.drift.counts.suppressed).toBe(1);
  });

  it('re-imports an unchanged failing finding into Security Hub only when the last import is older than reimportDays', async () => {
    // Prepare
    const reports = new LocalReportStore(mkdtempSync(join(tmpdir(), 's3scan-alerts-')));
    const failing = finding('rule-a', 'b', 'FAIL');
    const hub: AlertSink<string> = {
      name: 'securityhub',
      idempotent: true,
      plan: (d) =>
        (d.reimport ?? []).length + d.drift.changes.new.length > 0
          ? [
              {
                id: 'b',
                entries: [
                  ...d.drift.changes.new.map((e) => ({ id: `new-${e.fingerprint}`, payload: '' })),
                  ...(d.reimport ?? []).map((f) => ({
                    id: `still-failing-${f.fingerprint}`,
                    payload: '',
                  })),
                ],
              },
            ]
          : [],
      preview: () => '',
      deliver: async (batch) => ({ delivered: batch.entries.map((e) => e.id), failed: [] }),
    };
    const reimports: number[] = [];
    const days = [1, 2, 20, 32];
    for (const [i, day] of days.entries()) {
      const scanTime = `2026-${day > 30 ? '12' : '11'}-${String(day > 30 ? day - 30 : day).padStart(2, '0')}T06:00:00.000Z`;
      await store(reports, `s${i}`, scanTime, [failing]);

      // Act
      const run = await alertScan(reports, `s${i}`, settings, () => [hub]);
      reimports.push(run.digest.reimport?.length ?? 0);
    }

    // Assess: imported as new on day 1; not again until 30 days later.
    expect(reimports).toEqual([0, 0, 0, 1]);
  });

  it('a dry run writes no state and no ledger records', async () => {
    // Prepare
    const reports = new LocalReportStore(mkdtempSync(join(tmpdir(), 's3scan-alerts-')));
    await store(reports, 's1', t(1), [finding('rule-a', 'b', 'FAIL')]);

    // Act
    const run = await alertScan(reports, 's1', settings, () => [new Capture()], { dryRun: true });

    // Assess
    expect(run.report.sinks[0]?.status).toBe('dry-run');
    expect(await reports.alertLedger().list('s1')).toEqual([]);
  });
});

describe('previousScanOf', () => {
  const entry = (
    scanId: string,
    scanTime: string,
    scope?: IndexEntry['scope'],
    accountId = ACCOUNT,
  ): IndexEntry => ({
    scanId,
    scanTime,
    accountId,
    buckets: 1,
    byStatus: { PASS: 0, FAIL: 0, ERROR: 0, SKIPPED: 0 },
    failedBySeverity: { critical: 0, high: 0, medium: 0, low: 0, informational: 0 },
    ...(scope ? { scope } : {}),
  });

  it('takes the newest earlier scan of the same scope or of everything, never another account, scope or a later scan', () => {
    // Prepare
    const scans = [
      entry('later', t(9)),
      entry('current', t(5), { buckets: ['a*'], regions: [] }),
      entry('other-account', t(4), undefined, '444455556666'),
      entry('other-scope', t(4), { buckets: ['z'], regions: [] }),
      entry('full', t(3)),
      entry('same-scope', t(2), { buckets: ['a*'], regions: [] }),
    ];

    // Act
    const same = previousScanOf(scans, scans[1]!);
    const fallback = previousScanOf(
      scans.filter((s) => s.scanId !== 'same-scope' && s.scanId !== 'full'),
      scans[1]!,
    );

    // Assess
    expect(same?.scanId).toBe('full');
    expect(fallback).toBeUndefined();
    expect(
      previousScanOf(
        scans.filter((s) => s.scanId !== 'full'),
        scans[1]!,
      )?.scanId,
    ).toBe('same-scope');
  });
});
