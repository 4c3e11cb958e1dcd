import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getFindings, getSummary } from '../lib/dashboard/api.js';
import { LocalReportStore } from '../lib/report-store/local.js';
import { report, timeIt } from './common.js';
import { findings, writeStoredScan } from './drift.js';

type Mode = 'summary' | 'page' | 'naive-summary' | 'naive-page';

/** One request in a fresh process: its time and the process's peak RSS above its start. */
function measureIn(root: string, mode: Mode): { ms: number; peakMiB: number; startMiB: number } {
  const child = spawnSync(
    process.execPath,
    [
      fileURLToPath(import.meta.url),
      '--only',
      'dashboard-api-measure',
      '--root',
      root,
      '--mode',
      mode,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (child.status !== 0) throw new Error(`the dashboard API measurement (${mode}) failed`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}');
}

/**
 * The dashboard API at 1,000,000 findings: GET summary and one page of 100 FAIL findings, time
 * and memory per request (targets 50 ms and 100 MiB), against the old full-read way (parse the
 * whole findings file for each request), each in a fresh process.
 */
export async function benchDashboardApi(quick: boolean): Promise<void> {
  const count = quick ? 200_000 : 1_000_000;
  const root = mkdtempSync(join(tmpdir(), 's3scan-api-bench-'));
  try {
    writeStoredScan(root, 'scan-1', '2026-11-01T06:00:00.000Z', findings(count, 1));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      join(root, 'index.json'),
      JSON.stringify({
        schemaVersion: '1',
        latest: 'scan-1',
        scans: [
          { scanId: 'scan-1', scanTime: '2026-11-01T06:00:00.000Z', accountId: '111122223333' },
        ],
      }),
    );
    for (const what of ['summary', 'page'] as const) {
      const now = measureIn(root, what);
      const naive = measureIn(root, `naive-${what}`);
      report({
        bench: 'dashboard-api',
        metric: `${what}-ms`,
        value: now.ms,
        unit: 'ms',
        note: `${what === 'summary' ? 'GET /scans/{id}/summary' : 'GET /scans/{id}/findings?status=FAIL&limit=100 (first page)'} at ${count} findings: ${now.ms.toFixed(0)} ms, peak ${(now.peakMiB - now.startMiB).toFixed(0)} MiB above start; the full read ${naive.ms.toFixed(0)} ms (${(naive.ms / now.ms).toFixed(1)}x), ${(naive.peakMiB - naive.startMiB).toFixed(0)} MiB; target <= 50 ms and <= 100 MiB`,
      });
      report({
        bench: 'dashboard-api',
        metric: `${what}-peak-mib`,
        value: now.peakMiB - now.startMiB,
        unit: 'MiB',
        note: `peak RSS above the process's start (${now.startMiB.toFixed(0)} MiB); the full read ${(naive.peakMiB - naive.startMiB).toFixed(0)} MiB`,
      });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** The measuring half of {@link benchDashboardApi}: one request, one JSON line. */
export async function measureDashboardApi(): Promise<void> {
  const root = process.argv[process.argv.indexOf('--root') + 1] ?? '';
  const mode = process.argv[process.argv.indexOf('--mode') + 1] as Mode;
  const store = new LocalReportStore(root);
  const startMiB = process.memoryUsage().rss / 2 ** 20;
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  const run = await timeIt(async () => {
    if (mode === 'summary') return getSummary(store, 'scan-1');
    if (mode === 'page') return getFindings(store, 'scan-1', { status: 'FAIL', limit: '100' });
    const { summary, findings: all } = await store.readScan('scan-1');
    return mode === 'naive-summary'
      ? summary
      : all.filter((f) => f.status === 'FAIL').slice(0, 100);
  });
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  process.stdout.write(`${JSON.stringify({ ms: run.ms, peakMiB: peak / 2 ** 20, startMiB })}\n`);
}
