import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getFindings, getOverview, getSummaryText } from '../lib/dashboard/api.js';
import { summarize } from '../lib/engine/evaluate.js';
import type { Finding } from '../lib/engine/types.js';
import type { ScanEvidence } from '../lib/evidence/types.js';
import { storedPosture } from '../lib/history/posture-overview.js';
import { LocalReportStore } from '../lib/report-store/local.js';
import type { ScanSummaryFile } from '../lib/report-store/types.js';
import { report, timeIt } from './common.js';
import { findings } from './drift.js';

/**
 * Stores a scan of `count` synthetic findings (scan id `scan-1`) the way s3scan stores one,
 * findings index included; returns its number of buckets.
 */
export async function writeSyntheticScan(
  root: string,
  count: number,
  seed: number,
): Promise<number> {
  const list: Finding[] = findings(count, seed);
  const names = [...new Set(list.map((f) => f.resource.name))];
  const scanTime = '2026-11-01T06:00:00.000Z';
  await new LocalReportStore(root).writeScan({
    summary: {
      schemaVersion: '1',
      source: 'scan',
      ...summarize(
        {
          scanId: 'scan-1',
          scanTime,
          accountId: '111122223333',
          buckets: names.map((name) => ({ name }) as never),
        },
        list,
        { expiredSuppressions: [], disabledRules: [] },
      ),
    },
    findings: list,
    evidence: {
      schemaVersion: '1.0',
      tool: { name: 's3scan', version: 'bench' },
      scanId: 'scan-1',
      scanTime,
      accountId: '111122223333',
      partition: 'aws',
      buckets: [],
      kmsKeys: {},
    },
  });
  return names.length;
}

/** Rescans after the scan, of {@link RESCANNED_PER_RESCAN} buckets each: a busy day of events. */
const RESCANS = 20;
const RESCANNED_PER_RESCAN = 25;

/**
 * Stores {@link RESCANS} rescans after `scan-1`, each of 25 of its buckets (500 in all, a few
 * overlapping), their findings the scan's with every FAIL fixed: what the posture now overlays.
 * Each stores the posture now with it, as s3scan's rescans do.
 */
export async function writeSyntheticRescans(root: string, count: number, seed: number) {
  const store = new LocalReportStore(root);
  const all = findings(count, seed);
  for (let r = 0; r < RESCANS; r++) await writeSyntheticRescan(store, all, r, true);
}

/**
 * The rescan number `r` after `scan-1`, of 25 of its buckets; with `posture`, the posture now
 * stored with it (s3scan's way), without, left for the dashboard to compute on request.
 */
async function writeSyntheticRescan(
  store: LocalReportStore,
  all: Finding[],
  r: number,
  posture: boolean,
): Promise<void> {
  const buckets = Math.ceil(all.length / 20);
  const names = new Set(
    Array.from(
      { length: RESCANNED_PER_RESCAN },
      (_, i) => `bucket-${(r * 977 + i * 7919) % buckets}`,
    ),
  );
  const list = all
    .filter((f) => names.has(f.resource.name))
    .map((f): Finding => (f.status === 'FAIL' ? { ...f, status: 'PASS' } : f));
  const scanId = `rescan-${String(r).padStart(2, '0')}`;
  const scanTime = `2026-11-01T${String(7 + Math.floor(r / 4)).padStart(2, '0')}:${String((r % 4) * 15).padStart(2, '0')}:00.000Z`;
  const summary: ScanSummaryFile = {
    schemaVersion: '1',
    source: 'rescan',
    ...summarize(
      { scanId, scanTime, accountId: '111122223333', buckets: [...names].map(() => ({})) },
      list,
      { expiredSuppressions: [], disabledRules: [] },
    ),
    scope: { buckets: [...names].sort(), regions: [] },
    rescanOf: {
      scanId: 'scan-1',
      scanTime: '2026-11-01T06:00:00.000Z',
      events: ['PutBucketPolicy'],
    },
  };
  const evidence: ScanEvidence = {
    schemaVersion: '1.0',
    tool: { name: 's3scan', version: 'bench' },
    scanId,
    scanTime,
    accountId: '111122223333',
    partition: 'aws',
    buckets: [],
    kmsKeys: {},
  };
  const stored = posture
    ? await storedPosture(store, { summary, findings: list }, evidence)
    : undefined;
  if (posture && !stored) throw new Error(`${scanId}: no posture now was computed`);
  await store.writeScan({
    summary,
    findings: list,
    evidence,
    ...(stored ? { posture: stored } : {}),
  });
}

/** The requests measured, each in a fresh process (so its memory is its own). */
const REQUESTS = {
  summary: 'GET /scans/{id}/summary (summary.json)',
  overview: 'GET /scans/{id}/overview (view/overview.json)',
  page: 'GET /scans/{id}/findings?status=FAIL&limit=100 (first page)',
  'page-deep': 'GET /scans/{id}/findings?severity=low&sort=bucket&order=desc&limit=100, page 50',
  'page-text': 'GET /scans/{id}/findings?q=bucket-4242&limit=100',
  'overview-now': `GET /scans/{id}/overview?posture=now (${RESCANS} rescans of ${RESCANNED_PER_RESCAN} buckets overlaid)`,
  'page-now': `GET /scans/{id}/findings?status=FAIL&limit=100&posture=now (${RESCANS} rescans overlaid)`,
  'page-now-deep':
    'GET /scans/{id}/findings?severity=low&sort=bucket&order=desc&limit=100&posture=now, page 50',
  'overview-after-rescan':
    'GET /scans/{id}/overview?posture=now, the first request after a new rescan was stored with its posture (the server warm)',
  'page-after-rescan':
    'GET /scans/{id}/findings?status=FAIL&limit=100&posture=now, the first request after a new rescan was stored with its posture (the server warm)',
  'overview-after-rescan-on-request':
    'GET /scans/{id}/overview?posture=now, the first request after a new rescan stored without its posture: computed on request (the fallback)',
  'page-after-rescan-on-request':
    'GET /scans/{id}/findings?status=FAIL&limit=100&posture=now, the first request after a new rescan stored without its posture: computed on request',
} as const;
type Request = keyof typeof REQUESTS;
type Mode = Request | 'naive-summary' | 'naive-page';

interface Measured {
  /** The first request: the index read from disk and decoded. */
  coldMs: number;
  /** The same request again in the same process (the index cached, as in a warm Lambda). */
  warmMs: number;
  peakMiB: number;
  startMiB: number;
}

function measureIn(root: string, mode: Mode, count: number): Measured {
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
      '--count',
      String(count),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (child.status !== 0) throw new Error(`the dashboard API measurement (${mode}) failed`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}');
}

/**
 * The dashboard API at 1,000,000 findings, stored the way s3scan stores a scan (the findings
 * index included): summary, overview and pages of 100 findings, time (first request and warm)
 * and peak memory per request, against the full-read way (parse the whole findings file for
 * each request). Targets: 50 ms and 100 MiB.
 */
export async function benchDashboardApi(quick: boolean): Promise<void> {
  const count = quick ? 200_000 : 1_000_000;
  const root = mkdtempSync(join(tmpdir(), 's3scan-api-bench-'));
  try {
    const { ms: writeMs, result: buckets } = await timeIt(() => writeSyntheticScan(root, count, 1));
    report({
      bench: 'dashboard-api',
      metric: 'store-write-ms',
      value: writeMs,
      unit: 'ms',
      note: `writing the scan of ${count} findings (${buckets} buckets) with its findings index, once per scan`,
    });
    await writeSyntheticRescans(root, count, 1);
    const naive = {
      summary: measureIn(root, 'naive-summary', count),
      page: measureIn(root, 'naive-page', count),
    };
    const measured = new Map<Request, Measured>();
    for (const what of Object.keys(REQUESTS) as Request[]) {
      const now = measureIn(root, what, count);
      measured.set(what, now);
      const full = what === 'summary' || what.startsWith('overview') ? naive.summary : naive.page;
      const mib = now.peakMiB - now.startMiB;
      report({
        bench: 'dashboard-api',
        metric: `${what}-ms`,
        value: now.coldMs,
        unit: 'ms',
        note: `${REQUESTS[what]} at ${count} findings: first request ${now.coldMs.toFixed(1)} ms, warm ${now.warmMs.toFixed(1)} ms, peak ${mib.toFixed(0)} MiB above start; the full read ${full.coldMs.toFixed(0)} ms (${(full.coldMs / now.coldMs).toFixed(0)}x slower), ${(full.peakMiB - full.startMiB).toFixed(0)} MiB (${((full.peakMiB - full.startMiB) / Math.max(1, mib)).toFixed(0)}x); target <= 50 ms and <= 100 MiB`,
      });
      report({
        bench: 'dashboard-api',
        metric: `${what}-warm-ms`,
        value: now.warmMs,
        unit: 'ms',
        note: `the same request again in the same process (index cached, as in a warm Lambda)`,
      });
      report({
        bench: 'dashboard-api',
        metric: `${what}-peak-mib`,
        value: mib,
        unit: 'MiB',
        note: `peak RSS above the process's start (${now.startMiB.toFixed(0)} MiB)`,
      });
    }
    // What overlaying the rescans costs, against the same request on the scan as stored.
    for (const [overlaid, stored] of [
      ['overview-now', 'overview'],
      ['page-now', 'page'],
      ['page-now-deep', 'page-deep'],
      ['overview-after-rescan', 'overview-after-rescan-on-request'],
      ['page-after-rescan', 'page-after-rescan-on-request'],
    ] as const) {
      const a = measured.get(overlaid) as Measured;
      const b = measured.get(stored) as Measured;
      report({
        bench: 'dashboard-api',
        metric: `${overlaid}-vs-scan`,
        value: a.coldMs / b.coldMs,
        unit: 'x',
        note: `${overlaid} first request ${a.coldMs.toFixed(0)} ms against ${stored} ${b.coldMs.toFixed(0)} ms (warm ${a.warmMs.toFixed(1)} against ${b.warmMs.toFixed(1)} ms): ${overlaid.includes('after-rescan') ? 'the posture now the new rescan stored, against computing it on request; target <= 50 ms' : `the rows read and ${RESCANS} rescans' findings placed among them`}`,
      });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** The measuring half of {@link benchDashboardApi}: one request twice, one JSON line. */
export async function measureDashboardApi(): Promise<void> {
  const root = process.argv[process.argv.indexOf('--root') + 1] ?? '';
  const mode = process.argv[process.argv.indexOf('--mode') + 1] as Mode;
  const count = Number(process.argv[process.argv.indexOf('--count') + 1]);
  const store = new LocalReportStore(root);
  if (mode.includes('after-rescan')) {
    // The server warm: both requests answered once over the rescans listed. Then a new rescan
    // is stored (by the rescan Lambda in production; not timed here), with its posture or not.
    await getOverview(store, 'scan-1', { posture: 'now' });
    await getFindings(store, 'scan-1', { status: 'FAIL', limit: '100', posture: 'now' });
    // Written by another process, as the rescan Lambda would: this one keeps only its caches,
    // and its event loop stays free meanwhile (as a server's is between requests).
    const writer = await spawnAndWait(process.execPath, [
      fileURLToPath(import.meta.url),
      '--only',
      'dashboard-api-rescan',
      '--root',
      root,
      '--count',
      String(count),
      ...(mode.endsWith('on-request') ? ['--no-posture'] : []),
    ]);
    if (writer !== 0) throw new Error('storing the new rescan failed');
  }
  const startMiB = process.memoryUsage().rss / 2 ** 20;
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 2);
  const once = async (): Promise<unknown> => {
    switch (mode) {
      case 'summary':
        return getSummaryText(store, 'scan-1');
      case 'overview':
        return getOverview(store, 'scan-1');
      case 'page':
        return getFindings(store, 'scan-1', { status: 'FAIL', limit: '100' });
      case 'page-deep':
        return getFindings(store, 'scan-1', {
          severity: 'low',
          sort: 'bucket',
          order: 'desc',
          limit: '100',
          cursor: Buffer.from(String(49 * 100)).toString('base64url'),
        });
      case 'page-text':
        return getFindings(store, 'scan-1', { q: 'bucket-4242', limit: '100' });
      case 'overview-now':
      case 'overview-after-rescan':
      case 'overview-after-rescan-on-request':
        return getOverview(store, 'scan-1', { posture: 'now' });
      case 'page-after-rescan':
      case 'page-after-rescan-on-request':
      case 'page-now':
        return getFindings(store, 'scan-1', { status: 'FAIL', limit: '100', posture: 'now' });
      case 'page-now-deep':
        return getFindings(store, 'scan-1', {
          severity: 'low',
          sort: 'bucket',
          order: 'desc',
          limit: '100',
          posture: 'now',
          cursor: Buffer.from(String(49 * 100)).toString('base64url'),
        });
      default: {
        const { summary, findings: all } = await store.readScan('scan-1');
        return mode === 'naive-summary'
          ? summary
          : all.filter((f) => f.status === 'FAIL').slice(0, 100);
      }
    }
  };
  const cold = await timeIt(once);
  const warm = mode.startsWith('naive') ? cold : await timeIt(once);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const answer = cold.result as { total?: number; findings?: unknown[] };
  if (mode.startsWith('page') && (answer.findings?.length ?? 0) === 0)
    throw new Error(`${mode} answered no finding: the benchmark would measure nothing`);
  if (mode.endsWith('-now') || mode.includes('-now-') || mode.includes('after-rescan')) {
    const overlaid = cold.result as { shows?: string; seen?: unknown[] };
    if (overlaid.shows !== 'now' && overlaid.seen === undefined)
      throw new Error(`${mode} answered the scan as stored: no rescan was overlaid`);
  }
  process.stdout.write(
    `${JSON.stringify({ coldMs: cold.ms, warmMs: warm.ms, peakMiB: peak / 2 ** 20, startMiB })}\n`,
  );
}

/** Stores the next rescan after `scan-1` (with its posture now, unless `--no-posture`). */
export async function writeNextRescan(): Promise<void> {
  const root = process.argv[process.argv.indexOf('--root') + 1] ?? '';
  const count = Number(process.argv[process.argv.indexOf('--count') + 1]);
  const store = new LocalReportStore(root);
  const listed = ((await store.readIndex())?.scans ?? []).filter((s) => s.rescanOf).length;
  await writeSyntheticRescan(
    store,
    findings(count, 1),
    listed,
    !process.argv.includes('--no-posture'),
  );
}

/** Runs a command to its end without blocking the event loop; its exit code. */
function spawnAndWait(command: string, args: string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('close', resolve);
  });
}
