import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { diffScans } from '../lib/alerts/drift.js';
import { fingerprint } from '../lib/engine/evaluate.js';
import { type Finding, SEVERITIES, STATUSES } from '../lib/engine/types.js';
import { LocalReportStore } from '../lib/report-store/local.js';
import { report, timeIt } from './common.js';

const ACCOUNT = '111122223333';
const RULES = Array.from({ length: 18 }, (_, i) => `s3-rule-${String(i).padStart(2, '0')}`);

/** `count` findings of one scan: 18 rules a bucket, statuses and severities by a seeded walk. */
function findings(count: number, seed: number): Finding[] {
  let state = seed;
  const next = () => {
    // A 32-bit LCG (Numerical Recipes), high bits used: the same scans on every run.
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state >>> 8;
  };
  return Array.from({ length: count }, (_, i) => {
    const bucket = `bucket-${Math.floor(i / RULES.length)}`;
    const rule = RULES[i % RULES.length]!;
    const arn = `arn:aws:s3:::${bucket}`;
    return {
      ruleId: rule,
      title: `Rule ${rule}`,
      status: STATUSES[next() % 4]!,
      severity: SEVERITIES[next() % 5]!,
      resource: {
        arn,
        type: 'AWS::S3::Bucket',
        name: bucket,
        region: 'us-east-1',
        account: ACCOUNT,
      },
      message: `Bucket ${bucket} does not meet ${rule}: a message of about the usual length for a finding.`,
      details: { keyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/${next()}` },
      evidenceRef: `evidence/${ACCOUNT}/us-east-1/${bucket}.json`,
      fingerprint: fingerprint(rule, arn),
    };
  });
}

/** A stored scan as the local store lays it out (summary and findings only). */
function writeStoredScan(root: string, scanId: string, scanTime: string, list: Finding[]): void {
  const dir = join(root, 'scans', scanId);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'summary.json'),
    JSON.stringify({ scanId, scanTime, accountId: ACCOUNT }),
  );
  writeFileSync(
    join(dir, 'findings.ndjson.gz'),
    gzipSync(`${list.map((f) => JSON.stringify(f)).join('\n')}\n`),
  );
}

/**
 * Drift of two stored scans of `count` findings each: read both and compare, against only
 * reading and parsing both findings files (the floor any drift must pay), and peak RSS. The
 * files are written here; a fresh process measures, so its RSS is the drift's own.
 */
export async function benchDrift(quick: boolean): Promise<void> {
  const count = quick ? 200_000 : 1_000_000;
  const root = mkdtempSync(join(tmpdir(), 's3scan-drift-bench-'));
  try {
    writeStoredScan(root, 'before', '2026-10-31T06:00:00.000Z', findings(count, 1));
    writeStoredScan(root, 'after', '2026-11-01T06:00:00.000Z', findings(count, 2));
    const child = spawnSync(
      process.execPath,
      ['--expose-gc', fileURLToPath(import.meta.url), '--only', 'drift-measure', '--root', root],
      { stdio: 'inherit' },
    );
    if (child.status !== 0) throw new Error(`the drift measurement failed (exit ${child.status})`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** The measuring half of {@link benchDrift}, in its own process. */
export async function measureDrift(): Promise<void> {
  const root = process.argv[process.argv.indexOf('--root') + 1] ?? '';
  const store = new LocalReportStore(root);
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const read = await timeIt(async () => {
    const [a, b] = await Promise.all([store.readScan('before'), store.readScan('after')]);
    return Math.min(a.findings.length, b.findings.length);
  });
  global.gc?.();
  const drift = await timeIt(async () => {
    const [a, b] = await Promise.all([store.readScan('before'), store.readScan('after')]);
    return diffScans(
      { scanId: 'before', scanTime: a.summary.scanTime, findings: a.findings },
      { scanId: 'after', scanTime: b.summary.scanTime, findings: b.findings },
      { accountId: ACCOUNT, buckets: [], regions: [] },
    );
  });
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const counts = drift.result.counts;
  report({
    bench: 'drift',
    metric: 'vs-read-and-parse',
    value: drift.ms / read.ms,
    unit: 'ratio',
    note: `read both + diff ${drift.ms.toFixed(0)} ms vs read + parse both ${read.ms.toFixed(0)} ms, ${read.result} findings each (${counts.new} new, ${counts.resolved} resolved, ${counts['still-failing']} still failing); target <= 1.3`,
  });
  report({
    bench: 'drift',
    metric: 'peak-rss',
    value: peak / 2 ** 20,
    unit: 'MiB',
    note: `both scans held as parsed findings (LocalReportStore.readScan); RSS at start ${(rssBefore / 2 ** 20).toFixed(0)} MiB; target < 500 MiB`,
  });
}
