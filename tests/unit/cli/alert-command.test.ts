import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCliInProcess } from '../../helpers/cli-io.js';
import { startSlackHook } from '../../helpers/slack-hook.js';

const cli = (args: string[]) => runCliInProcess(args);

/** The demo store: the bundled account a day apart, two scans. */
async function demoStore(): Promise<string> {
  const store = join(mkdtempSync(join(tmpdir(), 's3scan-alert-')), 'reports');
  expect((await cli(['demo', '--no-serve', '--store', store, '--format', 'json'])).code).toBe(0);
  return store;
}

describe('s3scan alert', () => {
  const saved = process.env.S3SCAN_SLACK_WEBHOOK_URL;
  afterEach(() => {
    if (saved === undefined) delete process.env.S3SCAN_SLACK_WEBHOOK_URL;
    else process.env.S3SCAN_SLACK_WEBHOOK_URL = saved;
  });

  it('--dry-run on the demo store prints what each sink would get and writes nothing', async () => {
    // Prepare
    delete process.env.S3SCAN_SLACK_WEBHOOK_URL;
    const store = await demoStore();

    // Act
    const run = await cli([
      'alert',
      '--store',
      store,
      '--dry-run',
      '--config',
      'demo/s3scan.config.yml',
    ]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^Alerts for \S+: \d+ new, \d+ regressed, \d+ resolved/);
    expect(run.out).toMatch(/slack: dry-run \(1 to send/);
    expect(run.out).toMatch(/sns: dry-run \(\d+ to send/);
    expect(run.out).toMatch(/eventbridge: dry-run/);
    expect(run.out).toMatch(/securityhub: dry-run/);
    expect(readdirSync(store)).not.toContain('alerts');
  });

  it('sends to a Slack hook once; the second run for the same scan sends nothing', async () => {
    // Prepare
    const store = await demoStore();
    const hook = await startSlackHook();
    const { posts } = hook;
    process.env.S3SCAN_SLACK_WEBHOOK_URL = hook.url;
    const config = join(store, '..', 'slack.yml');
    writeFileSync(config, 'alerts:\n  slack: {}\n');

    // Act
    const first = await cli(['alert', '--store', store, '--config', config, '--format', 'json']);
    const second = await cli(['alert', '--store', store, '--config', config, '--format', 'json']);
    hook.close();

    // Assess
    expect([first.code, second.code]).toEqual([0, 0]);
    expect(posts).toHaveLength(1);
    expect(JSON.parse(first.out).sinks[0]).toMatchObject({ sink: 'slack', sent: 1 });
    expect(JSON.parse(second.out).sinks[0]).toMatchObject({ sent: 0, alreadySent: 1 });
    expect(first.out).not.toContain('127.0.0.1');
  });

  it('exits 5 when a sink is left undelivered, and says why without the secret URL', async () => {
    // Prepare: a hook that is gone (410).
    const store = await demoStore();
    const hook = createServer((_req, res) => res.writeHead(410).end('channel_is_archived'));
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    process.env.S3SCAN_SLACK_WEBHOOK_URL = `http://127.0.0.1:${(hook.address() as { port: number }).port}/services/SECRET`;
    const config = join(store, '..', 'slack.yml');
    writeFileSync(config, 'alerts:\n  slack: {}\n');

    // Act
    const run = await cli(['alert', '--store', store, '--config', config]);
    hook.close();

    // Assess
    expect(run.code).toBe(5);
    expect(run.out).toMatch(
      /slack: failed .*\n\s+permanent digest: the webhook is gone \(410 channel_is_archived\)/,
    );
    expect(run.out + run.err).not.toContain('SECRET');
  });

  it('refuses a config without an alerts: section, and a Slack sink without its URL, by name', async () => {
    // Prepare
    delete process.env.S3SCAN_SLACK_WEBHOOK_URL;
    const store = await demoStore();
    const config = join(store, '..', 'slack.yml');
    writeFileSync(config, 'alerts:\n  slack: {}\n');

    // Act
    const none = await cli(['alert', '--store', store]);
    const noUrl = await cli(['alert', '--store', store, '--config', config]);

    // Assess
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/has no alerts: section/);
    expect(noUrl.code).toBe(2);
    expect(noUrl.err).toMatch(/S3SCAN_SLACK_WEBHOOK_URL is not set/);
  });

  it('scan --alert refuses before scanning when the config has no alerts: section', async () => {
    // Act
    const run = await cli(['scan', '--alert', '--store', mkdtempSync(join(tmpdir(), 's3scan-'))]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/--alert needs a config with an alerts: section/);
  });
});

describe('s3scan report shows the alert outcome of the scan', () => {
  it('prints what each sink was sent, from the ledger, on stderr', async () => {
    // Prepare
    const store = await demoStore();
    const hook = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    process.env.S3SCAN_SLACK_WEBHOOK_URL = `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook`;
    const config = join(store, '..', 'slack.yml');
    writeFileSync(config, 'alerts:\n  slack: {}\n');
    await cli(['alert', '--store', store, '--config', config]);
    hook.close();

    // Act
    const report = await cli(['report', '--store', store, '--format', 'json']);

    // Assess
    expect(report.code).toBe(0);
    expect(report.err).toMatch(/^Alerts \(\S+\): slack sent \(1 delivered\)$/m);
    expect(() => JSON.parse(report.out)).not.toThrow();
  });
});
