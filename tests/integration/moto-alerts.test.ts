import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedHome, startCli } from '../helpers/cli.js';
import { type MotoServer, motoAvailable, startMoto } from '../helpers/moto.js';
import { startSlackHook } from '../helpers/slack-hook.js';

/**
 * `s3scan alert` (the real CLI) against moto's SNS, EventBridge and Security Hub and a Slack
 * hook on 127.0.0.1, reading back what arrived: SNS through a subscribed SQS queue,
 * EventBridge through a rule targeting another queue, Security Hub through GetFindings.
 * The demo store holds two scans (2026-10-31 and 2026-11-01) of the same account.
 */
const availability = motoAvailable();
if (!availability.ok && process.env.CI) {
  throw new Error(`moto is required for the integration tests: ${availability.reason}`);
}
const SINKS = fileURLToPath(new URL('./moto/alert-sinks.py', import.meta.url));

interface SinkReport {
  sink: string;
  status: string;
  sent: number;
  alreadySent: number;
  planned: number;
  preview?: string[];
  failed: unknown[];
}
interface Arrived {
  sns: {
    Subject: string;
    Message: string;
    MessageAttributes?: Record<string, { Value: string }>;
  }[];
  events: { source: string; 'detail-type': string; detail: Record<string, unknown> }[];
  findings: {
    Id: string;
    Compliance?: { Status: string };
    FirstObservedAt?: string;
    CreatedAt: string;
    UpdatedAt: string;
    RecordState: string;
    Workflow?: { Status: string };
  }[];
}

describe.skipIf(!availability.ok)(
  's3scan alert against moto (SNS, EventBridge, Security Hub) and a local Slack hook',
  () => {
    let moto: MotoServer;
    let hook: Awaited<ReturnType<typeof startSlackHook>>;
    let posts: string[] = [];
    let setup: { topicArn: string; snsQueue: string; eventsQueue: string };
    let home: string;
    let env: NodeJS.ProcessEnv;
    let scans: string[];
    let firstScanTime: string;

    const alert = async (args: string[], extra: NodeJS.ProcessEnv = {}) => {
      const run = startCli(
        [
          'alert',
          '--store',
          join(home, 'reports'),
          '--config',
          join(home, 'alerts.yml'),
          '--format',
          'json',
          ...args,
        ],
        { ...env, ...extra },
        home,
      );
      const done = await run.done;
      let report: { sinks: SinkReport[]; ok: boolean } | undefined;
      try {
        report = JSON.parse(run.stdout());
      } catch {
        report = undefined;
      }
      return { ...done, report, stderr: run.stderr() };
    };
    const arrived = (): Arrived =>
      JSON.parse(
        execFileSync('python3', [SINKS, moto.endpoint, 'read', setup.snsQueue, setup.eventsQueue], {
          encoding: 'utf8',
        }),
      );

    beforeAll(async () => {
      moto = await startMoto();
      hook = await startSlackHook();
      posts = hook.posts;
      setup = JSON.parse(
        execFileSync('python3', [SINKS, moto.endpoint, 'setup'], { encoding: 'utf8' }),
      );
      home = isolatedHome();
      env = {
        AWS_ENDPOINT_URL: moto.endpoint,
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        AWS_REGION: 'us-east-1',
        S3SCAN_SLACK_WEBHOOK_URL: hook.url,
      };
      writeFileSync(
        join(home, 'alerts.yml'),
        [
          'alerts:',
          '  minSeverity: informational',
          '  slack: {}',
          `  sns: { topicArn: "${setup.topicArn}", perFinding: true }`,
          '  eventBridge: { busName: default }',
          '  securityHub: {}',
        ].join('\n'),
      );
      const demo = startCli(
        ['demo', '--no-serve', '--store', join(home, 'reports'), '--format', 'summary'],
        env,
        home,
      );
      expect((await demo.done).code).toBe(0);
      const index = JSON.parse(
        execFileSync('cat', [join(home, 'reports', 'index.json')], { encoding: 'utf8' }),
      ) as {
        scans: { scanId: string; scanTime: string }[];
      };
      scans = index.scans.map((s) => s.scanId).reverse();
      firstScanTime = index.scans.at(-1)!.scanTime;
    }, 120_000);
    afterAll(async () => {
      await moto?.stop();
      hook?.close();
    });

    it('the first scan is a baseline: one digest each, no per-finding flood, every FAIL imported into Security Hub', async () => {
      // Act
      const run = await alert(['--scan', scans[0]!]);
      const got = arrived();

      // Assess
      expect(run.code).toBe(0);
      const by = Object.fromEntries(run.report!.sinks.map((s) => [s.sink, s]));
      expect(by.slack).toMatchObject({ status: 'sent', sent: 1 });
      expect(by.sns).toMatchObject({ status: 'sent', sent: 1 });
      expect(by.eventbridge).toMatchObject({ status: 'sent', sent: 1 });
      expect(posts).toHaveLength(1);
      expect(JSON.parse(posts[0]!).text).toMatch(/baseline/);
      expect(got.sns).toHaveLength(1);
      expect(got.events.map((e) => e['detail-type'])).toEqual(['s3scan Scan Completed']);
      expect(got.findings.length).toBe(by.securityhub!.sent);
      expect(got.findings.length).toBeGreaterThan(10);
      expect(
        got.findings.every((f) => f.Compliance?.Status === 'FAILED' && f.RecordState === 'ACTIVE'),
      ).toBe(true);
    }, 60_000);

    it('a dry run of the second scan says what would go and sends nothing', async () => {
      // Act
      const run = await alert(['--scan', scans[1]!, '--dry-run']);
      const got = arrived();

      // Assess
      expect(run.code).toBe(0);
      expect(run.report!.sinks.every((s) => s.status === 'dry-run')).toBe(true);
      expect(run.report!.sinks.find((s) => s.sink === 'sns')?.preview?.length).toBeGreaterThan(1);
      expect(got.sns).toHaveLength(0);
      expect(posts).toHaveLength(1);
    }, 60_000);

    it('killed between two sinks, then re-run: every message arrives exactly once; a third run sends nothing', async () => {
      // Prepare: what the second scan calls for, per sink.
      const plan = await alert(['--scan', scans[1]!, '--dry-run']);
      const planned = Object.fromEntries(
        plan.report!.sinks.map((s) => [s.sink, s.preview?.length ?? 0]),
      );

      // Act: SIGKILL right after the SNS sink, before EventBridge and Security Hub.
      const crashed = await alert(['--scan', scans[1]!], {
        S3SCAN_TEST_CRASH_AT: 'alerts:after-sns',
      });
      const rerun = await alert(['--scan', scans[1]!]);
      const third = await alert(['--scan', scans[1]!]);
      const got = arrived();

      // Assess
      expect(crashed.signal).toBe('SIGKILL');
      expect(rerun.code).toBe(0);
      const by = Object.fromEntries(rerun.report!.sinks.map((s) => [s.sink, s]));
      expect(by.slack).toMatchObject({ sent: 0, alreadySent: 1 });
      expect(by.sns).toMatchObject({ sent: 0, alreadySent: planned.sns });
      expect(by.eventbridge).toMatchObject({ sent: planned.eventbridge, alreadySent: 0 });
      expect(posts).toHaveLength(2);
      expect(got.sns).toHaveLength(planned.sns!);
      expect(new Set(got.sns.map((m) => m.Message)).size).toBe(planned.sns);
      expect(got.events).toHaveLength(planned.eventbridge!);
      expect(third.report!.sinks.every((s) => s.sent === 0)).toBe(true);
      // Per-finding SNS messages carry the attributes subscription filters use.
      const change = got.sns.find((m) => m.MessageAttributes?.change);
      expect(Object.keys(change!.MessageAttributes!).sort()).toEqual(
        ['account', 'bucket', 'change', 'region', 'rule', 's3scan.type', 'severity'].sort(),
      );
      expect(got.events.filter((e) => e['detail-type'] === 's3scan Finding Changed').length).toBe(
        planned.eventbridge! - 1,
      );
    }, 90_000);

    it('Security Hub after the second scan: the resolved finding PASSED, FirstObservedAt and CreatedAt unchanged, UpdatedAt later, no Workflow set', async () => {
      // Act
      const findings = arrived().findings;
      const diff = startCli(
        ['diff', '--store', join(home, 'reports'), '--format', 'json'],
        env,
        home,
      );
      await diff.done;
      const drift = JSON.parse(diff.stdout()) as {
        resolved: { fingerprint: string }[];
        gone: { fingerprint: string }[];
      };

      // Assess
      expect(drift.resolved.length).toBeGreaterThan(0);
      expect(drift.gone.length).toBeGreaterThan(0);
      for (const { fingerprint } of drift.resolved) {
        const f = findings.find((x) => x.Id === `s3scan/${fingerprint}`);
        expect(f?.Compliance?.Status).toBe('PASSED');
        expect(Date.parse(f!.FirstObservedAt!)).toBe(Date.parse(firstScanTime));
        expect(Date.parse(f!.CreatedAt)).toBe(Date.parse(firstScanTime));
        expect(Date.parse(f!.UpdatedAt)).toBeGreaterThan(Date.parse(f!.CreatedAt));
        // The Workflow is the user's: s3scan never sends one (moto keeps what was sent).
        expect(f?.Workflow).toBeUndefined();
      }
      for (const { fingerprint } of drift.gone)
        expect(findings.find((x) => x.Id === `s3scan/${fingerprint}`)?.RecordState).toBe(
          'ARCHIVED',
        );
    }, 60_000);
  },
);
