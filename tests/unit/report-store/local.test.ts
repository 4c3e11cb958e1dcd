import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReportStoreError } from '../../../lib/errors.js';
import { loadEvidence } from '../../../lib/report-store/evidence-files.js';
import { LocalReportStore } from '../../../lib/report-store/local.js';
import type { ScanRecord } from '../../../lib/report-store/types.js';
import { evaluateScan } from '../../../lib/scan/evaluate-scan.js';
import { bucketEvidence, scanEvidence } from '../../helpers/evidence.js';
import { DEFAULT_BUCKET_RULES } from '../../helpers/rules.js';

function record(scanId: string, scanTime: string, bucketNames = ['b1']): ScanRecord {
  const evidence = { ...scanEvidence(bucketNames.map((n) => bucketEvidence(n))), scanId, scanTime };
  const { findings, summary } = evaluateScan(evidence);
  return { summary: { schemaVersion: '1', source: 'scan', ...summary }, findings, evidence };
}

describe('Class: LocalReportStore', () => {
  it('stores a scan of no bucket whose evidence still has an accounts file (a rescan that found its bucket deleted)', async () => {
    // Prepare
    const root = mkdtempSync(join(tmpdir(), 's3scan-store-'));
    const store = new LocalReportStore(root);
    const empty = record('scan-gone', '2026-11-01T06:00:00.000Z', []);
    empty.evidence.policyLayers = [
      {
        accountId: '111122223333',
        rcps: { absent: 'NotInOrganization' },
        scps: { absent: 'NotInOrganization' },
      },
    ];

    // Act
    await store.writeScan(empty);

    // Assess
    expect(existsSync(join(root, 'scans', 'scan-gone', 'evidence', 'accounts.json'))).toBe(true);
    expect((await store.readIndex())?.latest).toBe('scan-gone');
  });

  it('writes the DESIGN.md layout and points index.json at the scan', async () => {
    // Prepare
    const root = mkdtempSync(join(tmpdir(), 's3scan-store-'));
    const store = new LocalReportStore(root);

    // Act
    await store.writeScan(record('scan-1', '2026-11-01T06:00:00.000Z', ['b1', 'logs.example.com']));

    // Assess
    const scanDir = join(root, 'scans', 'scan-1');
    expect(readdirSync(scanDir).sort()).toEqual([
      'evidence',
      'findings.ndjson.gz',
      'manifest.json',
      'summary.json',
      'view',
    ]);
    expect(readdirSync(join(scanDir, 'view')).sort()).toEqual([
      'buckets.json',
      'index.json',
      'overview.json',
      'pages.bin',
      'rows.bin',
      'rules.json',
    ]);
    expect(existsSync(join(scanDir, 'evidence/111122223333/us-east-1/logs.example.com.json'))).toBe(
      true,
    );
    const index = JSON.parse(readFileSync(join(root, 'index.json'), 'utf8'));
    expect(index).toMatchObject({ latest: 'scan-1', scans: [{ scanId: 'scan-1', buckets: 2 }] });
    const { findings, summary } = await store.readScan('scan-1');
    expect(findings).toHaveLength(2 * DEFAULT_BUCKET_RULES.length);
    expect(summary.scanId).toBe('scan-1');
  });

  it('keeps an organisation-wide scan’s accounts beside the evidence, so judging it again sees the failed account', async () => {
    // Prepare
    const root = mkdtempSync(join(tmpdir(), 's3scan-store-'));
    const store = new LocalReportStore(root);
    const evidence = {
      ...scanEvidence([bucketEvidence('b1')]),
      scanId: 'org-1',
      accounts: [
        {
          accountId: '111122223333',
          access: 'own' as const,
          status: 'scanned' as const,
          region: 'us-east-1',
          buckets: 1,
        },
        {
          accountId: '444455556666',
          access: 'role' as const,
          roleArn: 'arn:aws:iam::444455556666:role/s3scan-read',
          status: 'failed' as const,
          reason: 'could not assume the role (AccessDenied)',
          region: 'us-east-1',
          buckets: 0,
        },
      ],
    };
    const { findings, summary } = evaluateScan(evidence);

    // Act
    await store.writeScan({
      summary: { schemaVersion: '1', source: 'scan', ...summary },
      findings,
      evidence,
    });
    const reloaded = await loadEvidence(join(root, 'scans', 'org-1', 'evidence'));
    const again = evaluateScan(reloaded);

    // Assess
    expect(reloaded.accounts).toEqual(evidence.accounts);
    expect(again.findings).toEqual(findings);
    expect(again.summary.byAccount?.['444455556666']).toEqual({
      PASS: 0,
      FAIL: 0,
      ERROR: 1,
      SKIPPED: 0,
    });
    const index = JSON.parse(readFileSync(join(root, 'index.json'), 'utf8'));
    expect(index.scans[0].accounts).toEqual({ scanned: 1, failed: 1, skipped: 0 });
  });

  it('keeps the history newest first and the latest pointing at the newest write', async () => {
    // Prepare
    const root = mkdtempSync(join(tmpdir(), 's3scan-store-'));
    const store = new LocalReportStore(root);

    // Act
    await store.writeScan(record('scan-2', '2026-11-02T06:00:00.000Z'));
    await store.writeScan(record('scan-1', '2026-11-01T06:00:00.000Z'));

    // Assess
    const index = await store.readIndex();
    expect(index?.latest).toBe('scan-1');
    expect(index?.scans.map((s) => s.scanId)).toEqual(['scan-2', 'scan-1']);
  });

  it('refuses to rewrite a published scan: stored scans are immutable', async () => {
    // Prepare
    const root = mkdtempSync(join(tmpdir(), 's3scan-store-'));
    const store = new LocalReportStore(root);
    await store.writeScan(record('scan-1', '2026-11-01T06:00:00.000Z'));
    await store.writeScan(record('scan-2', '2026-11-02T06:00:00.000Z'));
    const summaryBefore = readFileSync(join(root, 'scans/scan-1/summary.json'), 'utf8');
    const indexBefore = readFileSync(join(root, 'index.json'), 'utf8');

    // Act & Assess
    await expect(
      store.writeScan(record('scan-1', '2026-11-03T06:00:00.000Z', ['other'])),
    ).rejects.toThrow(/could not write scan scan-1 .*immutable audit evidence/);
    expect(readFileSync(join(root, 'scans/scan-1/summary.json'), 'utf8')).toBe(summaryBefore);
    expect(readFileSync(join(root, 'index.json'), 'utf8')).toBe(indexBefore);
  });

  it('cleans what crashed runs left, and keeps the staging area of an unpublished scan', async () => {
    // Prepare: remains of a dead process (pid 2^22 + 1 is above Linux's pid_max default).
    const root = mkdtempSync(join(tmpdir(), 's3scan-store-'));
    const store = new LocalReportStore(root);
    await store.writeScan(record('published', '2026-11-01T06:00:00.000Z'));
    const dead = 4_194_305;
    for (const dir of [
      `scans/.partial-crashed-${dead}-0badc0de/evidence`,
      'scans/.staging-published/objects',
      'scans/.staging-resumable/objects',
      `scans/.partial-running-${process.pid}-1234abcd`,
    ])
      mkdirSync(join(root, dir), { recursive: true });
    writeFileSync(join(root, `index.json.tmp-${dead}-deadbeef`), '{"trunc');

    // Act
    await store.writeScan(record('next', '2026-11-02T06:00:00.000Z'));

    // Assess
    expect(readdirSync(join(root, 'scans')).sort()).toEqual([
      `.partial-running-${process.pid}-1234abcd`,
      '.staging-resumable',
      'next',
      'published',
    ]);
    expect(readdirSync(root).sort()).toEqual(['index.json', 'scans']);
  });

  it('never replaces the last good scan when a write fails half way', async () => {
    // Prepare
    const root = mkdtempSync(join(tmpdir(), 's3scan-store-'));
    const store = new LocalReportStore(root);
    await store.writeScan(record('good', '2026-11-01T06:00:00.000Z'));
    const before = readFileSync(join(root, 'index.json'), 'utf8');
    const broken = record('broken', '2026-11-02T06:00:00.000Z');
    // A finding that cannot be serialised stops the write after the evidence files.
    (broken.findings[0] as unknown as { details: Record<string, unknown> }).details = { big: 10n };

    // Act & Assess
    await expect(store.writeScan(broken)).rejects.toBeInstanceOf(ReportStoreError);
    expect(readFileSync(join(root, 'index.json'), 'utf8')).toBe(before);
    expect(readdirSync(join(root, 'scans'))).toEqual(['good']);
  });

  it('reports an unwritable store as a ReportStoreError', async () => {
    // Prepare: a store "folder" below a regular file cannot be created, even by root.
    const root = mkdtempSync(join(tmpdir(), 's3scan-store-'));
    writeFileSync(join(root, 'a-file'), 'not a folder');
    const store = new LocalReportStore(join(root, 'a-file', 'store'));

    // Act & Assess
    await expect(store.writeScan(record('x', '2026-11-01T06:00:00.000Z'))).rejects.toThrow(
      /could not write scan x/,
    );
  });

  it('keeps hostile bucket names inside the evidence folder', async () => {
    // Prepare
    const root = mkdtempSync(join(tmpdir(), 's3scan-store-'));
    const store = new LocalReportStore(root);

    // Act
    await store.writeScan(record('scan-1', '2026-11-01T06:00:00.000Z', ['../../escape', '..']));

    // Assess
    expect(readdirSync(join(root, 'scans/scan-1/evidence/111122223333/us-east-1')).sort()).toEqual([
      '.._.._escape.json',
      '_...json',
    ]);
    expect(existsSync(join(root, 'escape.json'))).toBe(false);
  });
});
