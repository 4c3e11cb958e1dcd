import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getOverview } from '../../../lib/dashboard/api.js';
import { summarize } from '../../../lib/engine/evaluate.js';
import type { Finding } from '../../../lib/engine/types.js';
import { LocalReportStore } from '../../../lib/report-store/local.js';
import { scanEvidence } from '../../helpers/evidence.js';
import { finding } from '../../helpers/findings.js';

/** Stores a scan (or, with `rescanOf`, a rescan of `buckets`) of synthetic findings. */
async function store(
  reports: LocalReportStore,
  scanId: string,
  day: number,
  findings: Finding[],
  rescan?: { of: string; buckets: string[] },
) {
  const scanTime = `2026-12-0${day}T06:00:00.000Z`;
  const evidence = { ...scanEvidence([]), scanId, scanTime };
  const summary = summarize(evidence, findings, { expiredSuppressions: [], disabledRules: [] });
  await reports.writeScan({
    summary: {
      schemaVersion: '1',
      source: rescan ? 'rescan' : 'scan',
      ...summary,
      ...(rescan
        ? {
            scope: { buckets: rescan.buckets, regions: [] },
            rescanOf: { scanId: rescan.of, scanTime: '2026-12-01T06:00:00.000Z', events: [] },
          }
        : {}),
    },
    findings,
    evidence,
  });
}

describe('Dashboard overview: the posture now, the full scan overlaid with later rescans', () => {
  it('takes each rescanned bucket’s counts from its newest rescan, and drops a bucket found gone', async () => {
    // Prepare
    const reports = new LocalReportStore(mkdtempSync(join(tmpdir(), 's3scan-posture-')));
    await store(reports, 'full-1', 1, [
      finding('rule-a', 'b', 'PASS'),
      finding('rule-a', 'c', 'FAIL'),
      finding('rule-a', 'gone', 'FAIL'),
    ]);
    await store(reports, 'rescan-1', 2, [finding('rule-a', 'b', 'FAIL')], {
      of: 'full-1',
      buckets: ['b'],
    });
    await store(reports, 'rescan-2', 3, [finding('rule-a', 'b', 'ERROR')], {
      of: 'full-1',
      buckets: ['b'],
    });
    await store(reports, 'rescan-3', 4, [], { of: 'full-1', buckets: ['gone'] });

    // Act
    const overview = await getOverview(reports, 'latest');
    const older = await getOverview(reports, 'rescan-1');

    // Assess: latest is the full scan; b is ERROR (rescan-2 wins), gone counts no more.
    expect(overview.scanId).toBe('full-1');
    expect(overview.byStatus).toMatchObject({ PASS: 1, FAIL: 2, ERROR: 0 });
    expect(overview.posture).toEqual({
      rescans: [
        { scanId: 'rescan-1', scanTime: '2026-12-02T06:00:00.000Z', buckets: ['b'] },
        { scanId: 'rescan-2', scanTime: '2026-12-03T06:00:00.000Z', buckets: ['b'] },
        { scanId: 'rescan-3', scanTime: '2026-12-04T06:00:00.000Z', buckets: ['gone'] },
      ],
      buckets: 2,
      byStatus: { PASS: 0, FAIL: 1, ERROR: 1, SKIPPED: 0 },
      scanned: { PASS: 1, FAIL: 2, ERROR: 0, SKIPPED: 0 },
    });
    // A rescan's own overview has no overlay.
    expect(older.posture).toBeUndefined();
  });
});
