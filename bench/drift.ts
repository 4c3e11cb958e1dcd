import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { fingerprint } from '../lib/engine/evaluate.js';
import { type Finding, SEVERITIES, STATUSES } from '../lib/engine/types.js';
import { diffScans } from '../lib/history/drift.js';
import { diffFindingStreams } from '../lib/history/drift-stream.js';
import { LocalReportStore } from '../lib/report-store/local.js';
import { report, timeIt } from './common.js';

const ACCOUNT = '111122223333';
const RULES = Array.from({ length: 18 }, (_, i) => `s3-rule-${String(i).padStart(2, '0')}`);

/** `count` findings of one scan: 18 rules a bucket, statuses and severities by a seeded walk. */
export function findings(count: number, seed: number): Finding[] {
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

/**
 * The next day's scan of the same account: each finding keeps its status, except `changed`
 * of them (a seeded pick) which take another; the last `goneShare` of the buckets were
 * deleted and as many new ones appear. About what a real account changes in a day.
 */
export function nextDay(
  before: Finding[],
  options: { changed: number; goneShare: number; seed: number },
): Finding[] {
  let state = options.seed;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state >>> 8;
  };
  const keep = Math.floor(before.length * (1 - options.goneShare));
  const kept = before
    .slice(0, keep)
    .map((f) =>
      next() % 1_000_000 < options.changed * 1_000_000
        ? { ...f, status: STATUSES[(STATUSES.indexOf(f.status) + 1 + (next() % 3)) % 4]! }
        : f,
    );
  const added = findings(before.length - keep, options.seed + 7).map((f) => {
    const bucket = `new-${f.resource.name}`;
    const arn = `arn:aws:s3:::${bucket}`;
    return {
      ...f,
      resource: { ...f.resource, arn, name: bucket },
      evidenceRef: `evidence/${ACCOUNT}/us-east-1/${bucket}.json`,
      fingerprint: fingerprint(f.ruleId, arn),
    };
  });
  return [...kept, ...added];
}

/** A stored scan as the local store lays it out (summary and findings only). */
export function writeStoredScan(
  root: string,
  scanId: string,
  scanTime: string,
  list: Finding[],
): void {
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

type Mode = 'floor' | 'streamed' | 'naive';
interface Measured {
  ms: number;
  peakMiB: number;
  startMiB: number;
  counts?: Record<string, number>;
  findings: number;
}

/** Runs one measuring mode in a fresh process, so its peak RSS is its own. */
function measureIn(root: string, mode: Mode, after: string): Measured {
  const child = spawnSync(
    process.execPath,
    [
      fileURLToPath(import.meta.url),
      '--only',
      'drift-measure',
      '--root',
      root,
      '--mode',
      mode,
      '--after',
      after,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 * 2 ** 20 },
  );
  if (child.status !== 0)
    throw new Error(`the drift measurement (${mode}) failed (exit ${child.status})`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as Measured;
}

/**
 * Drift of two stored scans of `count` findings each: the streamed drift s3scan uses, against
 * the floor any drift must pay (stream, gunzip and parse both findings files, keeping
 * nothing), and against the naive way (read both scans whole, diff in memory), each in a
 * fresh process. Two pairs: a day's change (the target figures), and a stress pair in which
 * every status is drawn anew (more than half the findings change), reported beside it.
 */
export async function benchDrift(quick: boolean): Promise<void> {
  const count = quick ? 200_000 : 1_000_000;
  const root = mkdtempSync(join(tmpdir(), 's3scan-drift-bench-'));
  try {
    const before = findings(count, 1);
    writeStoredScan(root, 'before', '2026-10-31T06:00:00.000Z', before);
    // A day later: 3 % of the findings changed status, 1 % of the buckets deleted, 1 % new.
    writeStoredScan(
      root,
      'after',
      '2026-11-01T06:00:00.000Z',
      nextDay(before, { changed: 0.03, goneShare: 0.01, seed: 5 }),
    );
    // Stress: every status drawn anew (56 % of the findings change) and 10 % of buckets gone.
    writeStoredScan(
      root,
      'stress',
      '2026-11-01T06:00:00.000Z',
      findings(count, 2).slice(0, Math.floor(count * 0.9)),
    );
    const figures = (name: string, after: string, target: boolean) => {
      const floor = measureIn(root, 'floor', after);
      const streamed = measureIn(root, 'streamed', after);
      const naive = measureIn(root, 'naive', after);
      const c = streamed.counts ?? {};
      const changes = ['new', 'regressed', 'resolved', 'unverifiable', 'gone'].reduce(
        (n, k) => n + (c[k] ?? 0),
        0,
      );
      report({
        bench: 'drift',
        metric: `${name}-vs-read-and-parse`,
        value: streamed.ms / floor.ms,
        unit: 'ratio',
        note: `streamed drift ${streamed.ms.toFixed(0)} ms vs stream + parse both ${floor.ms.toFixed(0)} ms (${floor.findings} findings, ${changes} changes: ${c.new} new, ${c.regressed} regressed, ${c.resolved} resolved, ${c.unverifiable} unverifiable, ${c.gone} gone; ${c['still-failing']} still failing); naive read-whole + diff ${naive.ms.toFixed(0)} ms (${(naive.ms / floor.ms).toFixed(2)}x)${target ? '; target <= 1.3' : ''}`,
      });
      report({
        bench: 'drift',
        metric: `${name}-peak-rss`,
        value: streamed.peakMiB,
        unit: 'MiB',
        note: `streamed drift; the floor peaks at ${floor.peakMiB.toFixed(0)} MiB, the naive way (both scans parsed whole) at ${naive.peakMiB.toFixed(0)} MiB; process start ${streamed.startMiB.toFixed(0)} MiB${target ? '; target < 500 MiB' : ''}`,
      });
    };
    figures('day', 'after', true);
    figures('stress', 'stress', false);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** The measuring half of {@link benchDrift}, in its own process: prints one JSON line. */
export async function measureDrift(): Promise<void> {
  const root = process.argv[process.argv.indexOf('--root') + 1] ?? '';
  const mode = (process.argv[process.argv.indexOf('--mode') + 1] ?? 'streamed') as Mode;
  const after = process.argv[process.argv.indexOf('--after') + 1] ?? 'after';
  const store = new LocalReportStore(root);
  const startMiB = process.memoryUsage().rss / 2 ** 20;
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  const scope = { accountId: ACCOUNT, buckets: [], regions: [] };
  const side = async (scanId: string) => ({
    scanId,
    scanTime: (await store.readSummary(scanId)).scanTime,
    lines: () => store.findingLines(scanId),
  });
  const run = await timeIt(
    async (): Promise<{ findings: number; counts?: Record<string, number> }> => {
      if (mode === 'floor') {
        let n = 0;
        for (const scanId of ['before', after])
          for await (const batch of store.findingLines(scanId))
            for (const line of batch) n += JSON.parse(line) ? 1 : 0;
        return { findings: n };
      }
      if (mode === 'naive') {
        const [a, b] = await Promise.all([store.readScan('before'), store.readScan('after')]);
        const drift = diffScans(
          { scanId: 'before', scanTime: a.summary.scanTime, findings: a.findings },
          { scanId: 'after', scanTime: b.summary.scanTime, findings: b.findings },
          scope,
        );
        return { findings: a.findings.length + b.findings.length, counts: drift.counts };
      }
      const drift = await diffFindingStreams(await side('before'), await side(after), scope);
      return {
        findings: Object.values(drift.counts).reduce((x, y) => x + y, 0),
        counts: drift.counts,
      };
    },
  );
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  process.stdout.write(
    `${JSON.stringify({ ms: run.ms, peakMiB: peak / 2 ** 20, startMiB, ...run.result } satisfies Measured)}\n`,
  );
}
