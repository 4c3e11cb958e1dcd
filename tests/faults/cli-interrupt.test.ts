import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeAwsEnv, isolatedHome, startCli, waitFor } from '../helpers/cli.js';
import { tlsPolicy } from '../helpers/evidence.js';
import { type FakeAccountModel, startFakeAccount } from '../helpers/fake-account.js';
import type { FakeAws } from '../helpers/fake-aws-server.js';

const ACCOUNT = '111122223333';
const MODEL: FakeAccountModel = {
  account: ACCOUNT,
  buckets: ['alpha', 'beta', 'gamma'].map((name) => ({
    name,
    region: 'us-east-1',
    policy: tlsPolicy(name),
    objects: [
      { key: `${name}/1`, sse: 'AES256' },
      { key: `${name}/2`, sse: 'AES256' },
    ],
  })),
};

let server: FakeAws;
/** The operation that hangs while set; cleared for the resumed run. */
let hung: string | undefined;

beforeAll(async () => {
  server = await startFakeAccount(MODEL, {
    fault: (_request, operation) => (operation === hung ? { status: 0, fault: 'hang' } : undefined),
  });
});
afterAll(() => server.close());

const env = () => fakeAwsEnv(server.endpoint);

describe('SIGINT or SIGTERM stops the CLI within seconds, with a checkpoint, at any point', () => {
  it.each([
    ['SIGINT', 'GetBucketEncryption', /3 buckets not yet read/],
    ['SIGTERM', 'ListObjectsV2', /3 object sweeps unfinished/],
    ['SIGINT', 'ListBuckets', /stopped before the account was listed/],
  ] as const)(
    '%s while %s hangs: exit 4, then --resume finishes the same scan',
    async (signal, operation, left) => {
      // Prepare
      const home = isolatedHome();
      const store = join(home, 'reports');
      hung = operation;
      server.requests.length = 0;
      const args = [
        'scan',
        '--store',
        store,
        '--objects',
        'full',
        '--no-progress',
        '--format',
        'json',
      ];

      // Act: interrupt once the hung call has arrived.
      const run = startCli(args, env(), home);
      await waitFor(
        () => server.requests.some((r) => r.method !== 'HEAD' && operationSeen(r, operation)),
        15_000,
        `${operation} to reach the server`,
      );
      const interruptedAt = performance.now();
      run.child.kill(signal);
      const first = await run.done;
      const stopMs = performance.now() - interruptedAt;
      const publishedWhileInterrupted = existsSync(join(store, 'index.json'));
      const checkpointWritten = existsSync(join(store, 'checkpoint.json'));
      hung = undefined;
      const resumed = await startCli(
        ['scan', '--resume', '--store', store, '--no-progress', '--format', 'json'],
        env(),
        home,
      ).done;

      // Assess
      expect(first.code).toBe(4);
      expect(stopMs).toBeLessThan(5_000);
      expect(run.stderr()).toMatch(left);
      expect(publishedWhileInterrupted).toBe(false);
      expect(checkpointWritten).toBe(true);
      expect(resumed.code).toBe(0);
      const index = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8'));
      const summary = JSON.parse(
        readFileSync(join(store, 'scans', index.latest, 'summary.json'), 'utf8'),
      );
      expect(summary.buckets).toBe(3);
      expect(summary.byStatus.ERROR).toBe(0);
      expect(existsSync(join(store, 'checkpoint.json'))).toBe(false);
    },
    60_000,
  );
});

/** Whether a request is the given operation (the fake account's own naming). */
function operationSeen(request: { path: string; query: URLSearchParams }, operation: string) {
  const [, bucket] = request.path.split('/');
  if (operation === 'ListBuckets') return !bucket;
  if (operation === 'GetBucketEncryption') return request.query.has('encryption');
  if (operation === 'ListObjectsV2') return request.query.get('list-type') === '2';
  return false;
}
