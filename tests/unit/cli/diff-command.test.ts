import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliInProcess } from '../../helpers/cli-io.js';
import { bucketEvidence, scanEvidence, tlsPolicy } from '../../helpers/evidence.js';

const cli = (args: string[]) => runCliInProcess(args);

/** A store with two judged scans: b1 gets its TLS policy, b2 appears, b3 is deleted. */
async function storeWithTwoScans(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 's3scan-diff-'));
  const before = {
    ...scanEvidence([bucketEvidence('b1'), bucketEvidence('b3')]),
    scanTime: '2026-10-31T06:00:00.000Z',
  };
  const after = {
    ...scanEvidence([
      bucketEvidence('b1', { policy: { ok: tlsPolicy('b1') } }),
      bucketEvidence('b2'),
    ]),
    scanTime: '2026-11-01T06:00:00.000Z',
  };
  writeFileSync(join(dir, 'before.json'), JSON.stringify(before));
  writeFileSync(join(dir, 'after.json'), JSON.stringify(after));
  const store = join(dir, 'store');
  for (const file of ['before.json', 'after.json'])
    expect(
      (await cli(['evaluate', '--evidence', join(dir, file), '--store', store, '--format', 'json']))
        .code,
    ).toBe(0);
  return store;
}

describe('s3scan diff', () => {
  it('prints each change kind of the latest scan against the one before', async () => {
    // Prepare
    const store = await storeWithTwoScans();

    // Act
    const json = await cli(['diff', '--store', store, '--format', 'json']);
    const table = await cli(['diff', '--store', store]);

    // Assess
    expect(json.code).toBe(0);
    const drift = JSON.parse(json.out);
    const tls = (kind: string) =>
      drift[kind]
        .filter((f: { ruleId: string }) => f.ruleId === 's3-bucket-tls-enforced')
        .map((f: { resource: { name: string }; status: string; previousStatus: string | null }) => [
          f.resource.name,
          f.status,
          f.previousStatus,
        ]);
    expect(tls('resolved')).toEqual([['b1', 'PASS', 'FAIL']]);
    expect(tls('new')).toEqual([['b2', 'FAIL', null]]);
    expect(tls('gone')).toEqual([['b3', 'FAIL', 'FAIL']]);
    expect(
      drift.new.every((f: { firstSeen: string }) => f.firstSeen === '2026-11-01T06:00:00.000Z'),
    ).toBe(true);
    expect(Object.keys(drift)).toEqual(
      expect.arrayContaining([
        'from',
        'to',
        'scope',
        'counts',
        'new',
        'regressed',
        'resolved',
        'unverifiable',
        'gone',
        'still-failing',
      ]),
    );
    expect(table.out.split('\n')[0]).toMatch(
      /: \d+ new, \d+ resolved, \d+ gone since 2026-10-31 \(\d+ still failing\)$/,
    );
    expect(table.out).toContain('resolved (');
    expect(table.out).toMatch(/\[high\] b1 s3-bucket-tls-enforced: .*\(was FAIL high\)/);
  });

  it('says clearly when there is nothing to compare with, or the scan is unknown', async () => {
    // Prepare
    const store = await storeWithTwoScans();
    const empty = mkdtempSync(join(tmpdir(), 's3scan-diff-'));

    // Act
    const unknown = await cli(['diff', '--store', store, '--to', 'no-such-scan']);
    const none = await cli(['diff', '--store', empty]);

    // Assess
    expect(unknown).toMatchObject({ code: 2, out: '' });
    expect(unknown.err).toMatch(/scan no-such-scan is not in .*index.json/);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/no scans in/);
  });
});
