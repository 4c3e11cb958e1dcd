import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeAwsEnv, isolatedHome, startCli } from '../helpers/cli.js';
import { startFakeAccount } from '../helpers/fake-account.js';
import type { FakeAws } from '../helpers/fake-aws-server.js';
import { faultAccount } from '../helpers/fault-account.js';

let server: FakeAws;
beforeAll(async () => {
  server = await startFakeAccount({
    account: '111122223333',
    buckets: [
      { name: 'prod-logs', region: 'us-east-1' },
      { name: 'prod-data', region: 'eu-west-1' },
      { name: 'staging-data', region: 'eu-west-1' },
    ],
  });
});
afterAll(() => server.close());

const env = () => fakeAwsEnv(server.endpoint);

async function scan(args: string[], extraEnv: Record<string, string> = {}) {
  const home = isolatedHome();
  const store = join(home, 'reports');
  const run = startCli(
    ['scan', '--store', store, '--no-progress', ...args],
    { ...env(), ...extraEnv },
    home,
  );
  const done = await run.done;
  return {
    code: done.code,
    stderr: run.stderr(),
    published: existsSync(join(store, 'index.json')),
    home,
  };
}

describe('scan refuses bad input with exit 2, one clear line, and publishes nothing', () => {
  it('--bucket that matches nothing names the closest buckets', async () => {
    // Act
    const result = await scan(['--bucket', 'prod-dta']);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /--bucket prod-dta matches none of the 3 buckets of account 111122223333; the closest names are prod-data, prod-logs, staging-data/,
    );
    expect(result.published).toBe(false);
  });

  it('--region that holds none of the buckets says where they are', async () => {
    // Act
    const result = await scan(['--region', 'ap-south-1']);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /holds none of the 3 selected buckets; they are in eu-west-1, us-east-1/,
    );
    expect(result.published).toBe(false);
  });

  it('--profile that does not exist is named, with the profiles that do', async () => {
    // Prepare
    const home = isolatedHome();
    const config = join(home, 'config');
    writeFileSync(config, '[default]\nregion = us-east-1\n\n[profile audit]\nregion = eu-west-1\n');

    // Act
    const result = await scan(['--profile', 'nosuch'], { AWS_CONFIG_FILE: config });

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /profile nosuch is not defined .*; the profiles there are audit, default/,
    );
  });

  it('scans a busy account without a listener-leak warning (every call in flight listens on Ctrl-C)', async () => {
    // Prepare: an account of many buckets, so 16 calls are in flight at once.
    const busy = await startFakeAccount(faultAccount());
    const home = isolatedHome();

    // Act
    const run = startCli(
      ['scan', '--store', join(home, 'reports'), '--no-progress', '--format', 'summary'],
      fakeAwsEnv(busy.endpoint),
      home,
    );
    const done = await run.done;
    await busy.close();

    // Assess
    expect(done.code, run.stderr()).toBe(0);
    expect(run.stderr()).not.toMatch(/MaxListenersExceededWarning/);
  }, 60_000);

  it('--store naming a file is refused before any AWS call', async () => {
    // Prepare
    const home = isolatedHome();
    const notAFolder = join(home, 'reports.txt');
    writeFileSync(notAFolder, 'not a store\n');
    const seen = server.requests.length;

    // Act
    const run = startCli(['scan', '--store', notAFolder, '--no-progress'], env(), home);
    const done = await run.done;

    // Assess
    expect(done.code).toBe(2);
    expect(run.stderr()).toMatch(/--store .*reports\.txt is a file, not a folder/);
    expect(server.requests.length).toBe(seen);
  });

  it('accounts --profile that does not exist is named too, before any call', async () => {
    // Prepare
    const home = isolatedHome();
    const config = join(home, 'config');
    writeFileSync(config, '[default]\nregion = us-east-1\n\n[profile audit]\nregion = eu-west-1\n');

    // Act
    const run = startCli(
      ['accounts', '--accounts', '111122223333', '--profile', 'nosuch'],
      { ...env(), AWS_CONFIG_FILE: config },
      home,
    );
    const done = await run.done;

    // Assess
    expect(done.code).toBe(2);
    expect(run.stderr()).toMatch(
      /profile nosuch is not defined .*; the profiles there are audit, default/,
    );
  });

  it('an endpoint whose name does not resolve is called unreachable, not a permissions problem', async () => {
    // Prepare: .invalid never resolves (RFC 2606); two attempts keep the test short.
    const home = isolatedHome();
    const config = join(home, 's3scan.config.json');
    writeFileSync(config, JSON.stringify({ scan: { maxAttempts: 2 } }));

    // Act
    const result = await scan(['--config', config], {
      AWS_ENDPOINT_URL: 'http://s3scan-test.invalid:9',
    });

    // Assess
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      /the endpoint s3scan-test\.invalid is unreachable \((ENOTFOUND|EAI_AGAIN)/,
    );
  });

  it.each([
    ['ftp://example.com', /must be an http:\/\/ or https:\/\/ URL/],
    ['not a url', /must be a URL/],
    ['https://user:pw@s3.example.com', /must not carry credentials/],
  ])('--endpoint-url %s is refused', async (url, message) => {
    // Act
    const result = await scan(['--endpoint-url', url]);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
