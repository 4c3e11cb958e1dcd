import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedHome, startCli } from '../helpers/cli.js';
import { startSlackHook } from '../helpers/slack-hook.js';

/**
 * `s3scan alert` killed (SIGKILL) at each step of a send, against a local Slack hook: a batch
 * claimed but never sent is sent by the next run; one that was sent without its answer
 * recorded stays in doubt (exit 5) until `--resend-in-doubt` sends it, once.
 */
describe('alerts killed mid-send: nothing lost, nothing twice unless asked', () => {
  let hook: Awaited<ReturnType<typeof startSlackHook>>;
  let posts: string[];
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    hook = await startSlackHook();
    posts = hook.posts;
    env = { S3SCAN_SLACK_WEBHOOK_URL: hook.url };
  });
  afterAll(() => {
    hook.close();
  });

  async function storeWithDemo(): Promise<{
    home: string;
    alert: (args: string[], extra?: NodeJS.ProcessEnv) => ReturnType<typeof run>;
  }> {
    const home = isolatedHome();
    writeFileSync(join(home, 'alerts.yml'), 'alerts:\n  slack: {}\n');
    expect(
      (await startCli(['demo', '--no-serve', '--store', join(home, 'reports')], {}, home).done)
        .code,
    ).toBe(0);
    const alert = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
      run(
        home,
        ['alert', '--store', join(home, 'reports'), '--config', join(home, 'alerts.yml'), ...args],
        extra,
      );
    return { home, alert };
  }

  async function run(home: string, args: string[], extra: NodeJS.ProcessEnv = {}) {
    const cli = startCli(args, { ...env, ...extra }, home);
    const done = await cli.done;
    return { ...done, stdout: cli.stdout(), stderr: cli.stderr() };
  }

  it('killed after claiming, before sending: the next run sends it, exactly once', async () => {
    // Prepare
    const { alert } = await storeWithDemo();
    const before = posts.length;

    // Act
    const killed = await alert([], { S3SCAN_TEST_CRASH_AT: 'alerts:claimed-slack' });
    const rerun = await alert([]);
    const third = await alert([]);

    // Assess
    expect(killed.signal).toBe('SIGKILL');
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toMatch(/slack: sent \(1 sent, 0 already sent, 0 not delivered\)/);
    expect(third.stdout).toMatch(/slack: sent \(0 sent, 1 already sent/);
    expect(posts.length - before).toBe(1);
  }, 60_000);

  it('killed after the request left: in doubt (exit 5, the way to resend named); --resend-in-doubt slack sends it once', async () => {
    // Prepare
    const { alert } = await storeWithDemo();
    const before = posts.length;

    // Act: the kill comes after `sending` is recorded and before the post.
    const killed = await alert([], { S3SCAN_TEST_CRASH_AT: 'alerts:sending-slack' });
    const rerun = await alert([]);
    const unknownSink = await alert(['--resend-in-doubt', 'pagerduty']);
    const resent = await alert(['--resend-in-doubt', 'slack']);
    const after = await alert(['--resend-in-doubt', 'all']);

    // Assess
    expect(killed.signal).toBe('SIGKILL');
    expect(rerun.code).toBe(5);
    expect(rerun.stdout).toMatch(/in-doubt .*may have arrived/);
    expect(rerun.stdout).toMatch(/s3scan alert --resend-in-doubt slack/);
    expect(unknownSink.code).toBe(2);
    expect(unknownSink.stderr).toMatch(/--resend-in-doubt "pagerduty": name sinks among/);
    expect(resent.code).toBe(0);
    expect(resent.stdout).toMatch(/slack: sent \(1 sent/);
    expect(after.stdout).toMatch(/slack: sent \(0 sent, 1 already sent/);
    // The killed run never posted (the kill came first): one post in all.
    expect(posts.length - before).toBe(1);
  }, 60_000);
});
