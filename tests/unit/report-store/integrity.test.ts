import { createHash } from 'node:crypto';
import {
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  IntegrityCheckedStore,
  IntegrityError,
  type ScanManifest,
  verifyChain,
} from '../../../lib/report-store/integrity.js';
import { LocalReportStore } from '../../../lib/report-store/local.js';
import type { ScanRecord, StoreIndex } from '../../../lib/report-store/types.js';
import { evaluateScan } from '../../../lib/scan/evaluate-scan.js';
import { bucketEvidence, scanEvidence } from '../../helpers/evidence.js';

function record(scanId: string, scanTime: string): ScanRecord {
  const evidence = {
    ...scanEvidence([bucketEvidence('b1'), bucketEvidence('b2')]),
    scanId,
    scanTime,
  };
  const { findings, summary } = evaluateScan(evidence);
  return { summary: { schemaVersion: '1', source: 'scan', ...summary }, findings, evidence };
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function storeWithScans(n = 3) {
  const root = mkdtempSync(join(tmpdir(), 's3scan-integrity-'));
  const local = new LocalReportStore(root);
  for (let i = 1; i <= n; i++)
    await local.writeScan(record(`scan-${i}`, `2026-11-0${i}T06:00:00.000Z`));
  return { root, local, store: new IntegrityCheckedStore(local) };
}

const indexOf = (root: string) =>
  JSON.parse(readFileSync(join(root, 'index.json'), 'utf8')) as StoreIndex;

describe('A stored scan records the SHA-256 of its files, and index.json chains the scans', () => {
  it('the manifest lists every file with its digest; the index line holds the manifest digest and the link', async () => {
    // Prepare / Act
    const { root } = await storeWithScans(2);

    // Assess
    const dir = join(root, 'scans', 'scan-2');
    const manifestBytes = readFileSync(join(dir, 'manifest.json'));
    const manifest = JSON.parse(manifestBytes.toString('utf8')) as ScanManifest;
    expect(Object.keys(manifest.files)).toEqual(
      expect.arrayContaining([
        'summary.json',
        'findings.ndjson.gz',
        'evidence/111122223333/us-east-1/b1.json',
        'view/index.json',
        'view/rows.bin',
      ]),
    );
    for (const [path, { sha256: digest, bytes }] of Object.entries(manifest.files)) {
      const body = readFileSync(join(dir, path));
      expect(body.length).toBe(bytes);
      expect(sha256(body)).toBe(digest);
    }
    const index = indexOf(root);
    const [second, first] = index.scans;
    expect(second?.integrity).toMatchObject({ seq: 2, digest: sha256(manifestBytes) });
    expect(second?.integrity?.previous).toBe(first?.integrity?.chain);
    expect(first?.integrity?.previous).toBeUndefined();
    expect(verifyChain(index)).toEqual([]);
  });
});

describe('Reading a changed scan fails and names the file', () => {
  it('a FAIL changed to PASS in findings.ndjson.gz: readScan refuses, naming findings.ndjson.gz', async () => {
    // Prepare
    const { root, local, store } = await storeWithScans(1);
    const file = join(root, 'scans', 'scan-1', 'findings.ndjson.gz');
    const text = gunzipSync(readFileSync(file)).toString('utf8');
    expect(text).toContain('"status":"FAIL"');
    writeFileSync(file, gzipSync(text.replaceAll('"status":"FAIL"', '"status":"PASS"')));

    // Act
    const read = store.readScan('scan-1');

    // Assess: the bare store is fooled; the checked one is not.
    expect((await local.readScan('scan-1')).findings.some((f) => f.status === 'FAIL')).toBe(false);
    await expect(read).rejects.toThrow(IntegrityError);
    await expect(store.readScan('scan-1')).rejects.toThrow(
      /scan scan-1: findings\.ndjson\.gz was (truncated or )?changed after the scan was stored/,
    );
    await expect(
      (async () => {
        for await (const _ of store.findingLines('scan-1'));
      })(),
    ).rejects.toThrow(/findings\.ndjson\.gz was (truncated or )?changed/);
  });

  it.each([
    [
      'summary.json',
      'zeroed counts',
      (p: string) => writeFileSync(p, readFileSync(p, 'utf8').replace(/"FAIL": \d+/, '"FAIL": 0')),
      /summary\.json was changed/,
    ],
    [
      'view/rows.bin',
      'truncated',
      (p: string) => truncateSync(p, 10),
      /view\/rows\.bin was truncated or changed after the scan was stored \(\d+ bytes written, 10 found\)/,
    ],
    [
      'evidence/111122223333/us-east-1/b1.json',
      'deleted',
      (p: string) => unlinkSync(p),
      /b1\.json is missing/,
    ],
  ])('%s %s: named when read', async (path, _what, tamper, message) => {
    // Prepare
    const { root, store } = await storeWithScans(1);
    tamper(join(root, 'scans', 'scan-1', path));

    // Act
    const verdict = await store.verifyScan('scan-1');

    // Assess
    expect(verdict.status).toBe('failed');
    expect(verdict.problems.join('\n')).toMatch(message);
    if (path === 'summary.json') await expect(store.readSummary('scan-1')).rejects.toThrow(message);
    if (path === 'view/rows.bin')
      await expect(store.readScanFileRange('scan-1', path, 0, 4)).rejects.toThrow(
        /scan scan-1: view\/rows\.bin was truncated or changed after the scan was stored/,
      );
  });

  it('a file rewritten with its manifest updated to match: the digest in index.json gives it away', async () => {
    // Prepare
    const { root, store } = await storeWithScans(2);
    const dir = join(root, 'scans', 'scan-1');
    const findings = gzipSync('');
    writeFileSync(join(dir, 'findings.ndjson.gz'), findings);
    const manifestPath = join(dir, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as ScanManifest;
    manifest.files['findings.ndjson.gz'] = { sha256: sha256(findings), bytes: findings.length };
    writeFileSync(manifestPath, JSON.stringify(manifest));

    // Act / Assess
    await expect(store.readScan('scan-1')).rejects.toThrow(
      /scan scan-1: manifest\.json was changed after the scan was stored/,
    );
    // Then the index line itself changed to the new digest: the chain breaks there.
    const index = indexOf(root);
    const line = index.scans.find((s) => s.scanId === 'scan-1');
    if (line?.integrity) line.integrity.digest = sha256(readFileSync(manifestPath));
    expect(verifyChain(index)).toEqual([
      'index.json: the line of scan scan-1 was changed (its chain value does not follow from its digest)',
    ]);
  });

  it('a line removed from the middle of the history breaks the link of the one after it', async () => {
    // Prepare
    const { root } = await storeWithScans(3);
    const index = indexOf(root);
    index.scans = index.scans.filter((s) => s.scanId !== 'scan-2');

    // Act / Assess: place 3 follows place 1 only after a trim, and then its link must hold.
    index.scans.find((s) => s.scanId === 'scan-3')!.integrity!.seq = 2;
    expect(verifyChain(index)).toEqual([
      'index.json: the line of scan scan-3 does not follow the line of scan scan-1 (a line was changed, removed or inserted)',
    ]);
  });

  it('a ranged read hashes its file range by range once: a same-size change, a longer file and an intact one', async () => {
    // Prepare
    const { root, store } = await storeWithScans(1);
    const path = join(root, 'scans', 'scan-1', 'view', 'pages.bin');
    const original = readFileSync(path);
    const flipped = Buffer.from(original);
    flipped[0] = (flipped[0] ?? 0) ^ 0xff;

    // Act
    const intact = await store.readScanFileRange('scan-1', 'view/pages.bin', 0, 2);
    writeFileSync(path, flipped);
    const cached = await store.readScanFileRange('scan-1', 'view/pages.bin', 0, 2);
    const fresh = new IntegrityCheckedStore(new LocalReportStore(root));
    const changed = fresh.readScanFileRange('scan-1', 'view/pages.bin', 0, 2);
    writeFileSync(path, Buffer.concat([original, Buffer.from('x')]));
    const longer = new IntegrityCheckedStore(new LocalReportStore(root)).readScanFileRange(
      'scan-1',
      'view/pages.bin',
      0,
      2,
    );

    // Assess: checked once per process (the second read is served), every change named.
    expect(intact).toEqual(original.subarray(0, 2));
    expect(cached).toEqual(flipped.subarray(0, 2));
    await expect(changed).rejects.toThrow(/view\/pages\.bin was changed after the scan was stored/);
    await expect(longer).rejects.toThrow(/view\/pages\.bin was changed .*and it is longer/);
  });

  it('a scan stored before digests is read as it is, and said to be unprotected', async () => {
    // Prepare
    const { root, store } = await storeWithScans(1);
    rmSync(join(root, 'scans', 'scan-1', 'manifest.json'));
    const index = indexOf(root);
    delete index.scans[0]?.integrity;
    writeFileSync(join(root, 'index.json'), JSON.stringify(index));

    // Act
    const verdict = await store.verifyScan('scan-1');

    // Assess
    expect(verdict.status).toBe('unprotected');
    expect((await store.readScan('scan-1')).summary.scanId).toBe('scan-1');
  });

  it('a manifest removed from a scan index.json records a digest for is missing, not unprotected', async () => {
    // Prepare
    const { root, store } = await storeWithScans(1);
    rmSync(join(root, 'scans', 'scan-1', 'manifest.json'));

    // Act / Assess
    await expect(store.readSummary('scan-1')).rejects.toThrow(
      /scan scan-1: manifest\.json is missing \(index\.json records the scan's digest\)/,
    );
  });
});

describe('The local store reads only regular files inside itself, and never echoes content', () => {
  it('a summary.json linked to a file outside the store is refused, naming the path only', async () => {
    // Prepare
    const { root, local } = await storeWithScans(1);
    const outside = join(mkdtempSync(join(tmpdir(), 's3scan-outside-')), 'secret.txt');
    writeFileSync(outside, 'root:x:0:0:SECRET-CONTENT\n');
    const summary = join(root, 'scans', 'scan-1', 'summary.json');
    rmSync(summary);
    symlinkSync(outside, summary);

    // Act
    const error = await local.readScanFile('scan-1', 'summary.json').catch((e: Error) => e);
    const summaryError = await local.readSummary('scan-1').catch((e: Error) => e);

    // Assess
    expect(String(error)).toMatch(/summary\.json is a link that leads out of the store/);
    expect(String(error)).not.toContain('SECRET');
    expect(String(summaryError)).not.toContain('SECRET');
  });

  it('a summary.json that is not JSON is named without quoting it', async () => {
    // Prepare
    const { root, local } = await storeWithScans(1);
    writeFileSync(join(root, 'scans', 'scan-1', 'summary.json'), 'SECRET-CONTENT is here');
    writeFileSync(join(root, 'index.json'), 'SECRET-INDEX');

    // Act
    const summaryError = await local.readSummary('scan-1').catch((e: Error) => e);
    const indexError = await local.readIndex().catch((e: Error) => e);

    // Assess
    expect(String(summaryError)).toMatch(/summary\.json: not valid JSON/);
    expect(String(summaryError)).not.toContain('SECRET');
    expect(String(indexError)).toMatch(/index\.json is corrupt: not valid JSON/);
    expect(String(indexError)).not.toContain('SECRET');
  });
});

describe('index.json is updated by compare-and-swap: concurrent writers keep every scan', () => {
  it('40 scans written at once by one process into one store are all listed, in one chain', async () => {
    // Prepare
    const root = mkdtempSync(join(tmpdir(), 's3scan-cas-'));
    const store = new LocalReportStore(root);
    const ids = Array.from({ length: 40 }, (_, i) => `scan-${String(i).padStart(2, '0')}`);

    // Act
    await Promise.all(
      ids.map((id, i) =>
        store.writeScan(record(id, `2026-11-01T06:${String(i).padStart(2, '0')}:00.000Z`)),
      ),
    );

    // Assess
    const index = indexOf(root);
    expect(index.scans.map((s) => s.scanId).sort()).toEqual(ids);
    expect(index.scans.map((s) => s.integrity?.seq).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(
      ids.map((_, i) => i + 1),
    );
    expect(verifyChain(index)).toEqual([]);
  }, 30_000);

  it('a lock left by a writer killed inside the swap is taken over once its process is gone', async () => {
    // Prepare: a lock naming a process that no longer exists, a few seconds old.
    const root = mkdtempSync(join(tmpdir(), 's3scan-cas-'));
    const store = new LocalReportStore(root);
    await store.writeScan(record('scan-a', '2026-11-01T06:00:00.000Z'));
    const lock = join(root, 'index.json.lock');
    const { hostname } = await import('node:os');
    writeFileSync(lock, `999999 ${hostname()} deadbeef\n`);
    const { utimesSync } = await import('node:fs');
    utimesSync(lock, new Date(Date.now() - 5_000), new Date(Date.now() - 5_000));

    // Act
    await store.writeScan(record('scan-b', '2026-11-02T06:00:00.000Z'));

    // Assess
    expect(indexOf(root).scans.map((s) => s.scanId)).toEqual(['scan-b', 'scan-a']);
    expect(() => readFileSync(lock)).toThrow(/ENOENT/);
  });
});
