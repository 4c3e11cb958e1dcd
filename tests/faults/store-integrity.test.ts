import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isolatedHome, startCli } from '../helpers/cli.js';

const run = async (args: string[], home: string) => {
  const cli = startCli(args, {}, home);
  const { code } = await cli.done;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
};

describe('Processes writing one local store at once all keep their scans', () => {
  it('a demo and 14 evaluate runs, 8 at a time (16 scans), are all in index.json, in one unbroken chain', async () => {
    // Prepare
    const home = isolatedHome();
    const store = join(home, 'reports');
    const evaluate = [
      'evaluate',
      '--evidence',
      resolve('demo/demo-account.json'),
      '--store',
      store,
    ];
    const first = run(['demo', '--no-serve', '--store', store], home);

    // Act
    const runs = await Promise.all([
      first,
      ...Array.from({ length: 7 }, () => run(evaluate, home)),
    ]);
    runs.push(...(await Promise.all(Array.from({ length: 7 }, () => run(evaluate, home)))));
    const verify = await run(['verify', '--store', store], home);

    // Assess
    expect(runs.map((r) => r.code)).toEqual(Array(15).fill(0));
    const index = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8')) as {
      scans: { scanId: string; integrity?: { seq: number } }[];
    };
    expect(new Set(index.scans.map((s) => s.scanId)).size).toBe(16);
    expect(index.scans.map((s) => s.integrity?.seq).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(
      Array.from({ length: 16 }, (_, i) => i + 1),
    );
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/intact \(16 scans checked; index\.json chain holds\)/);
  }, 120_000);
});

describe('A stored scan edited on disk is detected by report, diff and verify', () => {
  it('a FAIL turned PASS in findings.ndjson.gz: report exits 6 naming the file; verify names it too', async () => {
    // Prepare
    const home = isolatedHome();
    const store = join(home, 'reports');
    expect((await run(['demo', '--no-serve', '--store', store], home)).code).toBe(0);
    const { latest } = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8')) as {
      latest: string;
    };
    const file = join(store, 'scans', latest, 'findings.ndjson.gz');
    const text = gunzipSync(readFileSync(file)).toString('utf8');
    writeFileSync(file, gzipSync(text.replaceAll('"status":"FAIL"', '"status":"PASS"')));

    // Act
    const report = await run(['report', '--store', store, '--fail-on', 'high'], home);
    const diff = await run(['diff', '--store', store], home);
    const verify = await run(['verify', '--store', store, '--format', 'json'], home);

    // Assess
    expect(report.code).toBe(6);
    expect(report.stdout).toBe('');
    expect(report.stderr).toMatch(
      new RegExp(
        `scan ${latest}: findings\\.ndjson\\.gz was (truncated or )?changed after the scan was stored`,
      ),
    );
    expect(diff.code).toBe(6);
    expect(verify.code).toBe(6);
    const json = JSON.parse(verify.stdout) as {
      intact: boolean;
      scans: { scanId: string; status: string; problems: string[] }[];
    };
    expect(json.intact).toBe(false);
    expect(json.scans.find((s) => s.scanId === latest)).toMatchObject({
      status: 'failed',
      problems: [expect.stringMatching(/findings\.ndjson\.gz/)],
    });
    expect(json.scans.filter((s) => s.status === 'ok')).toHaveLength(1);
  }, 60_000);

  it('--fail-on judges the findings printed, not the counts in summary.json', async () => {
    // Prepare: a store from before digests (manifest and index digests removed), counts zeroed.
    const home = isolatedHome();
    const store = join(home, 'reports');
    expect((await run(['demo', '--no-serve', '--store', store], home)).code).toBe(0);
    const indexPath = join(store, 'index.json');
    const index = JSON.parse(readFileSync(indexPath, 'utf8')) as {
      latest: string;
      scans: { integrity?: unknown }[];
    };
    for (const scan of index.scans) delete scan.integrity;
    writeFileSync(indexPath, JSON.stringify(index));
    const summaryPath = join(store, 'scans', index.latest, 'summary.json');
    const summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as {
      failedBySeverity: Record<string, number>;
    };
    for (const severity of Object.keys(summary.failedBySeverity))
      summary.failedBySeverity[severity] = 0;
    writeFileSync(summaryPath, JSON.stringify(summary));
    rmSync(join(store, 'scans', index.latest, 'manifest.json'));

    // Act
    const report = await run(
      ['report', '--store', store, '--fail-on', 'high', '--format', 'json'],
      home,
    );
    const verify = await run(['verify', '--store', store], home);

    // Assess: the gate trips on the FAILs it prints; verify says what it could not check.
    expect(report.code).toBe(1);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(
      new RegExp(`${index.latest}  not checked: stored before s3scan recorded file digests`),
    );
  }, 60_000);
});
