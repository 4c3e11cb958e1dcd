import { execSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { startDashboardServer } from '../lib/dashboard/server.js';
import { LocalReportStore } from '../lib/report-store/local.js';
import { report } from './common.js';
import { writeSyntheticScan } from './dashboard-api.js';

const RUNS = 5;
/** The page's gzip budget: no charting library, plain DOM and CSS. */
const PAGE_BUDGET_KB = 20;

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/**
 * The page in Chromium: time from navigation to the first complete overview (the page's own
 * `s3scan:ready` mark: overview, drift, charts and the first 100 findings drawn), median of 5
 * fresh pages, for the demo and a 100,000-finding scan, against the same page over the same
 * scan without its findings index (the pre-index way: every request streams the findings);
 * target < 1 s. And the page's gzip size (budget 20 KB).
 */
export async function benchDashboardPage(quick: boolean): Promise<void> {
  const webRoot = join(process.cwd(), 'dist', 'web');
  const bytes = ['app.js', 'app.css', 'index.html'].reduce(
    (sum, file) => sum + gzipSync(readFileSync(join(webRoot, file))).length,
    0,
  );
  report({
    bench: 'dashboard-page',
    metric: 'bundle-gzip-kb',
    value: bytes / 1024,
    unit: 'KB',
    note: `index.html + app.js + app.css, gzip: ${(bytes / 1024).toFixed(1)} KB; the page's budget is ${PAGE_BUDGET_KB} KB (${((bytes / 1024 / PAGE_BUDGET_KB) * 100).toFixed(0)} % of it; it was 10 KB before the bars, states and panels of issue 25)`,
  });
  const executable = execSync('command -v chromium', { encoding: 'utf8' }).trim();
  const work = mkdtempSync(join(tmpdir(), 's3scan-page-bench-'));
  const browser = await chromium.launch({
    executablePath: executable,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const demo = join(work, 'demo');
    const ran = spawnSync(
      process.execPath,
      ['bin/s3scan.js', 'demo', '--no-serve', '--store', demo],
      {
        encoding: 'utf8',
      },
    );
    if (ran.status !== 0) throw new Error(`s3scan demo failed: ${ran.stderr}`);
    const big = join(work, 'big');
    const count = quick ? 20_000 : 100_000;
    await writeSyntheticScan(big, count, 3);
    const unindexed = join(work, 'unindexed');
    cpSync(big, unindexed, { recursive: true });
    rmSync(join(unindexed, 'scans', 'scan-1', 'view'), { recursive: true });
    const measure = async (root: string): Promise<number> => {
      const server = await startDashboardServer({ store: new LocalReportStore(root), webRoot });
      try {
        const times: number[] = [];
        for (let run = 0; run < RUNS; run++) {
          const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
          const page = await context.newPage();
          await page.goto(server.url);
          await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
          times.push(
            (await page.evaluate(
              'performance.getEntriesByName("s3scan:ready")[0].startTime',
            )) as number,
          );
          await context.close();
        }
        return median(times);
      } finally {
        await server.close();
      }
    };
    const demoMs = await measure(demo);
    report({
      bench: 'dashboard-page',
      metric: 'demo-first-render-ms',
      value: demoMs,
      unit: 'ms',
      note: `the demo (2 scans, 24 buckets): first complete overview ${demoMs.toFixed(0)} ms after navigation (median of ${RUNS}); target < 1000 ms`,
    });
    const bigMs = await measure(big);
    const naiveMs = await measure(unindexed);
    report({
      bench: 'dashboard-page',
      metric: 'large-first-render-ms',
      value: bigMs,
      unit: 'ms',
      note: `a scan of ${count} findings: first complete overview ${bigMs.toFixed(0)} ms (median of ${RUNS}); the same scan without its findings index ${naiveMs.toFixed(0)} ms (${(naiveMs / bigMs).toFixed(1)}x slower); target < 1000 ms`,
    });
  } finally {
    await browser.close();
    rmSync(work, { recursive: true, force: true });
  }
}
