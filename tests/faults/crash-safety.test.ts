import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeAwsEnv, isolatedHome, startCli, waitFor } from '../helpers/cli.js';
import { type FakeAccountModel, startFakeAccount } from '../helpers/fake-account.js';
import type { FakeAws } from '../helpers/fake-aws-server.js';

const DEMO_EVIDENCE = resolve('demo/demo-account.json');

/** Every scan index.json names has a whole folder; index.json itself parses. */
function assertStoreConsistent(store: string): { latest: string; scans: string[] } {
  const index = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8')) as {
    latest: string;
    scans: { scanId: string }[];
  };
  for (const { scanId } of index.scans) {
    expect(existsSync(join(store, 'scans', scanId, 'summary.json'))).toBe(true);
    expect(existsSync(join(store, 'scans', scanId, 'findings.ndjson.gz'))).toBe(true);
  }
  expect(index.scans.map((s) => s.scanId)).toContain(index.latest);
  return { latest: index.latest, scans: index.scans.map((s) => s.scanId) };
}

describe('kill -9 while the report store writes never breaks the store', () => {
  it.each([
    'store:evidence-written',
    'store:scan-written',
    'store:scan-renamed',
    'store:index-locked',
    'store:index-written',
  ])(
    'at %s: index.json still points at whole scans, and the next run cleans up',
    async (point) => {
      // Prepare: one good demo run first (it stores two scans: the day before, and now).
      const home = isolatedHome();
      const store = join(home, 'reports');
      expect((await startCli(['demo', '--no-serve', '--store', store], {}, home).done).code).toBe(
        0,
      );
      const good = assertStoreConsistent(store);

      // Act
      // (A second demo run stores nothing: the same demo history is already there.)
      const evaluate = ['evaluate', '--evidence', DEMO_EVIDENCE, '--store', store];
      const crashed = await startCli(evaluate, { S3SCAN_TEST_CRASH_AT: point }, home).done;
      const afterCrash = assertStoreConsistent(store);
      const next = await startCli(evaluate, {}, home).done;

      // Assess
      expect(crashed.signal).toBe('SIGKILL');
      // At index-written the crashed scan is whole and listed.
      expect(good.scans).toHaveLength(2);
      if (point === 'store:index-written') expect(afterCrash.scans).toHaveLength(3);
      else expect(afterCrash).toEqual(good);
      expect(next.code).toBe(0);
      const final = assertStoreConsistent(store);
      expect(final.scans).toHaveLength(afterCrash.scans.length + 1);
      expect(readdirSync(join(store, 'scans')).filter((n) => n.startsWith('.'))).toEqual([]);
      expect(readdirSync(store).filter((n) => n.includes('.tmp-'))).toEqual([]);
    },
    60_000,
  );
});

describe('Per-object CSVs survive kill -9 during --resume', () => {
  const keys = Array.from({ length: 4500 }, (_, i) => `data/${String(i).padStart(5, '0')}.bin`);
  const MODEL: FakeAccountModel = {
    account: '111122223333',
    buckets: [
      {
        name: 'big',
        region: 'us-east-1',
        objects: keys.map((key, i) => ({ key, sse: i % 3 === 0 ? 'aws:kms' : 'AES256' })),
      },
      { name: 'small', region: 'us-east-1', objects: [{ key: 'one', sse: 'AES256' }] },
    ],
  };
  let server: FakeAws;
  beforeAll(async () => {
    server = await startFakeAccount(MODEL, { latencyMs: 2 });
  });
  afterAll(() => server.close());

  const env = () => fakeAwsEnv(server.endpoint);
  const args = (store: string, ...extra: string[]) => [
    'scan',
    '--objects',
    'full',
    '--store',
    store,
    '--no-progress',
    '--format',
    'summary',
    '--concurrency',
    '8',
    ...extra,
  ];
  const listings = () => server.requests.filter((r) => r.query.get('list-type') === '2').length;
  const csvLines = (store: string) => {
    const { latest } = assertStoreConsistent(store);
    const text = gunzipSync(
      readFileSync(join(store, 'scans', latest, 'objects/111122223333/big.csv.gz')),
    ).toString('utf8');
    return text.split('\r\n').filter((line) => line !== '');
  };

  it('SIGINT, then kill -9 twice while resuming, then a resume that finishes: the rows of one uninterrupted run', async () => {
    // Prepare: the rows an uninterrupted scan writes.
    const home = isolatedHome();
    const reference = join(home, 'reference');
    expect((await startCli(args(reference), env(), home).done).code).toBe(0);
    const expected = csvLines(reference);
    const store = join(home, 'interrupted');

    // Act: SIGINT after the second page is listed, kill -9 after the third and the fourth.
    server.requests.length = 0;
    const first = startCli(args(store), env(), home);
    await waitFor(() => listings() >= 2, 30_000, 'two listing pages');
    first.child.kill('SIGINT');
    expect((await first.done).code).toBe(4);
    for (const pages of [3, 4]) {
      const resumed = startCli(args(store, '--resume'), env(), home);
      await waitFor(() => listings() >= pages, 30_000, `${pages} listing pages`);
      await new Promise((resolve) => setTimeout(resolve, 150));
      resumed.child.kill('SIGKILL');
      expect((await resumed.done).signal).toBe('SIGKILL');
    }
    const last = await startCli(args(store, '--resume'), env(), home).done;

    // Assess: one header, every object exactly once, gzip whole.
    expect(last.code).toBe(0);
    const lines = csvLines(store);
    expect(lines[0]).toBe(expected[0]);
    expect(lines.filter((l) => l.startsWith('key,'))).toHaveLength(1);
    expect(lines.length).toBe(expected.length);
    expect([...lines].sort()).toEqual([...expected].sort());
    expect(lines.length).toBe(keys.length + 1);
  }, 120_000);
});
