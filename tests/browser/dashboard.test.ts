import { execSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summarize } from '../../lib/engine/evaluate.js';
import type { Finding } from '../../lib/engine/types.js';
import { LocalReportStore } from '../../lib/report-store/local.js';
import type { ScanSummaryFile } from '../../lib/report-store/types.js';
import { type CliRun, isolatedHome, startCli, waitFor } from '../helpers/cli.js';
import { scanEvidence } from '../helpers/evidence.js';
import { finding } from '../helpers/findings.js';

/**
 * The dashboard in real Chromium (Debian's, driven by playwright-core), served by the real
 * `s3scan dashboard` over the demo store and over a store of hostile names.
 */
const executable = (() => {
  try {
    return execSync('command -v chromium', { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
})();
if (!executable && process.env.CI) throw new Error('chromium is required for the browser tests');

const ARTIFACTS = join(process.cwd(), 'test-artifacts');

async function serve(store: string): Promise<{ run: CliRun; url: string }> {
  const home = isolatedHome();
  const run = startCli(['dashboard', '--store', store], {}, home);
  await waitFor(() => /Dashboard: (\S+)/.test(run.stdout()), 20_000, 'the dashboard line');
  return { run, url: /Dashboard: (\S+)/.exec(run.stdout())![1]! };
}

describe.skipIf(!executable)('the dashboard in Chromium', () => {
  let context: BrowserContext;
  const runs: CliRun[] = [];
  /** The demo store's latest summary and the URL its dashboard printed: one for all tests. */
  let demo: {
    summary: Pick<ScanSummaryFile, 'byStatus' | 'failedBySeverity' | 'byRule'>;
    url: string;
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    context = await chromium.launchPersistentContext(
      mkdtempSync(join(tmpdir(), 's3scan-chrome-')),
      {
        executablePath: executable,
        headless: true,
        viewport: { width: 1280, height: 720 },
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      },
    );
    const home = isolatedHome();
    const store = join(home, 'reports');
    expect((await startCli(['demo', '--no-serve', '--store', store], {}, home).done).code).toBe(0);
    const index = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8')) as { latest: string };
    const served = await serve(store);
    runs.push(served.run);
    demo = {
      summary: JSON.parse(readFileSync(join(store, 'scans', index.latest, 'summary.json'), 'utf8')),
      url: served.url,
    };
  }, 60_000);
  afterAll(async () => {
    await context?.close();
    for (const run of runs) run.child.kill('SIGTERM');
  });

  it('shows the demo: the overview numbers are summary.json’s, the drift is there, and findings page', async () => {
    // Prepare
    const { summary, url } = demo;
    const page = await context.newPage();
    const started = performance.now();

    // Act
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
    const ready = performance.now() - started;
    const card = (list: string, label: string) =>
      page.locator(`#${list} div[data-label="${label}"] dd`).textContent();

    // Assess
    expect(page.url()).not.toContain('token=');
    expect(await card('posture', 'FAIL')).toBe(summary.byStatus.FAIL.toLocaleString('en'));
    expect(await card('posture', 'ERROR')).toBe(summary.byStatus.ERROR.toLocaleString('en'));
    expect(await card('posture', 'PASS')).toBe(summary.byStatus.PASS.toLocaleString('en'));
    expect(await card('severity', 'critical')).toBe(String(summary.failedBySeverity.critical));
    expect(await card('drift', 'new')).toBe('5');
    expect(await card('drift', 'gone')).toBe('18');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-overview.png') });
    const rows = await page.locator('#findings tbody tr').count();
    expect(rows).toBe(Math.min(100, summary.byStatus.FAIL + summary.byStatus.ERROR));
    await page.selectOption('#filters select[name="status"]', 'PASS');
    await expect
      .poll(async () => [
        ...new Set(await page.locator('#findings tbody td:first-child').allTextContents()),
      ])
      .toEqual(['PASS']);
    expect(ready).toBeLessThan(5_000);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-findings-pass.png'), fullPage: true });
    await page.close();
  }, 60_000);

  it('shows hostile names as text: no injected element, no dialog, bidi isolated', async () => {
    // Prepare: findings whose bucket names and messages are markup, script links and bidi.
    const dir = mkdtempSync(join(tmpdir(), 's3scan-hostile-'));
    const store = new LocalReportStore(dir);
    const names = [
      '<img src=x onerror="window.__pwned=1">',
      'javascript:alert(1)',
      'evil\u202Etxt.exe',
    ];
    const findings: Finding[] = names.map((name) => ({
      ...finding('s3-bucket-tls-enforced', name, 'FAIL'),
      message: `<script>window.__pwned=2</script><a href="javascript:alert(3)">click</a> ${name}`,
    }));
    const evidence = {
      ...scanEvidence([]),
      scanId: 'hostile',
      scanTime: '2026-11-01T06:00:00.000Z',
    };
    await store.writeScan({
      summary: {
        schemaVersion: '1',
        source: 'scan',
        ...summarize(evidence, findings, { expiredSuppressions: [], disabledRules: [] }),
      },
      findings,
      evidence,
    });
    const { run, url } = await serve(dir);
    runs.push(run);
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });

    // Act
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });

    // Assess
    expect(
      await page.locator('#findings img, #findings script, #findings a, main img').count(),
    ).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(dialogs).toEqual([]);
    const shown = await page.locator('#findings tbody td:nth-child(3)').allTextContents();
    expect(shown.sort()).toEqual([...names].sort());
    expect(await page.locator('#findings tbody td:nth-child(3) bdi').count()).toBe(3);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-hostile.png'), fullPage: true });
    await page.close();
  }, 60_000);

  it('filters by rule and free text, and a shared URL (its hash) restores the same view', async () => {
    // Prepare
    const { summary, url } = demo;
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
    const rule = 's3-bucket-tls-enforced';

    // Act: a view shared as a URL, opened in a fresh page.
    const shared = `${new URL(page.url()).origin}/#status=FAIL&rule=${rule}`;
    const second = await context.newPage();
    await second.goto(shared);
    await second.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
    const rules = await second.locator('#findings tbody td:nth-child(4)').allTextContents();
    const count = await second.locator('#findings-count').textContent();
    await second.fill('#filters input[name="q"]', 'acme-legacy');
    await second.press('#filters input[name="q"]', 'Enter');
    await expect
      .poll(async () => second.locator('#findings tbody td:nth-child(3)').allTextContents())
      .toEqual(expect.arrayContaining([expect.stringContaining('acme-legacy')]));
    const buckets = await second.locator('#findings tbody td:nth-child(3)').allTextContents();

    // Assess
    expect(new Set(rules)).toEqual(new Set([rule]));
    expect(count).toBe(`${rules.length} of ${summary.byRule[rule]!.FAIL} shown`);
    expect(buckets.length).toBeGreaterThan(0);
    expect(buckets.every((b) => b.includes('acme-legacy'))).toBe(true);
    expect(second.url()).toContain('q=acme-legacy');
    await page.close();
    await second.close();
  }, 60_000);

  it('answers 401 to a browser without the token', async () => {
    // Prepare: the earlier tests' cookie goes, as for a browser that never had the token.
    await context.clearCookies();
    const page = await context.newPage();

    // Act
    const answer = await page.goto(demo.url.replace(/\?token=.*/, ''));

    // Assess
    expect(answer?.status()).toBe(401);
    expect(await page.textContent('body')).toMatch(/needs its access token/);
    await page.close();
  }, 60_000);
});
