import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FRAMEWORKS } from '../../../lib/compliance/frameworks.js';
import {
  exportFindings,
  type FindingsQuery,
  getBucket,
  getCompliance,
  getDrift,
  getFindings,
  getOverview,
  MAX_EXPORT,
} from '../../../lib/dashboard/api.js';
import { summarize } from '../../../lib/engine/evaluate.js';
import type { Finding, Severity, Status } from '../../../lib/engine/types.js';
import { ruleDocuments } from '../../../lib/findings-index/rule-documents.js';
import { changesSincePrevious } from '../../../lib/history/changes.js';
import { diffScans, scopeOf } from '../../../lib/history/drift.js';
import { LocalReportStore } from '../../../lib/report-store/local.js';
import type { ScanSummaryFile } from '../../../lib/report-store/types.js';
import { BUCKET_RULES } from '../../../lib/rules/index.js';
import { bucketEvidence, scanEvidence, tlsPolicy } from '../../helpers/evidence.js';
import { finding } from '../../helpers/findings.js';

const STATUS_ORDER: Status[] = ['FAIL', 'ERROR', 'PASS', 'SKIPPED'];
const SEVERITY_ORDER: Severity[] = ['critical', 'high', 'medium', 'low', 'informational'];
const RULES = BUCKET_RULES.map((r) => r.id);
const ACCOUNTS = ['111122223333', '444455556666', '777788889999'];
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'];

/** A seeded random scan: buckets over several accounts and regions, mixed verdicts. */
function randomFindings(buckets: number, seed: number): Finding[] {
  let state = seed;
  const next = (n: number) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state >>> 8) % n;
  };
  const out: Finding[] = [];
  for (let b = 0; b < buckets; b++) {
    const name = `bucket-${String((b * 7919) % buckets).padStart(3, '0')}`;
    const account = ACCOUNTS[b % 3] as string;
    const region = REGIONS[next(3)] as string;
    for (const rule of RULES.slice(0, 3 + next(RULES.length - 3)))
      out.push(
        finding(rule, name, STATUS_ORDER[next(4)] as Status, {
          severity: SEVERITY_ORDER[next(5)] as Severity,
          account,
          region,
          ...(next(10) === 0 ? { suppression: { expires: '2027-01-01' } } : {}),
        }),
      );
  }
  return out;
}

function summaryOf(scanId: string, scanTime: string, findings: Finding[]): ScanSummaryFile {
  const names = [...new Set(findings.map((f) => f.resource.name))];
  return {
    schemaVersion: '1',
    source: 'scan',
    ...summarize(
      {
        scanId,
        scanTime,
        accountId: ACCOUNTS[0] as string,
        buckets: names.map((n) => bucketEvidence(n)),
      },
      findings,
      {
        expiredSuppressions: [],
        disabledRules: [],
      },
    ),
  };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** The index's documented order, computed the slow way. */
const priority = (x: Finding, y: Finding) =>
  STATUS_ORDER.indexOf(x.status) - STATUS_ORDER.indexOf(y.status) ||
  SEVERITY_ORDER.indexOf(x.severity) - SEVERITY_ORDER.indexOf(y.severity) ||
  cmp(x.resource.name, y.resource.name) ||
  cmp(x.resource.account, y.resource.account) ||
  cmp(x.resource.region, y.resource.region) ||
  cmp(x.ruleId, y.ruleId);

/** What a query must answer, from the whole list (the reference the index is checked against). */
function reference(all: Finding[], query: FindingsQuery): Finding[] {
  const list = (v?: string) => v?.split(',');
  const has = (v: string | undefined, x: string) => !v || (list(v) as string[]).includes(x);
  const text = query.q?.toLowerCase();
  const kept = all
    .filter(
      (f) =>
        has(query.status, f.status) &&
        has(query.severity, f.severity) &&
        has(query.rule, f.ruleId) &&
        has(query.bucket, f.resource.name) &&
        has(query.region, f.resource.region) &&
        has(query.account, f.resource.account) &&
        (!text ||
          [f.resource.name, f.resource.account, f.resource.region, f.ruleId, f.title].some((p) =>
            p.toLowerCase().includes(text),
          )),
    )
    .sort(priority);
  const key = query.sort ?? 'priority';
  const value = (f: Finding): number | string =>
    key === 'status'
      ? STATUS_ORDER.indexOf(f.status)
      : key === 'severity'
        ? SEVERITY_ORDER.indexOf(f.severity)
        : key === 'rule'
          ? f.ruleId
          : `${f.resource.name}\n${f.resource.account}\n${f.resource.region}`;
  if (key === 'priority') return query.order === 'desc' ? kept.reverse() : kept;
  const sign = query.order === 'desc' ? -1 : 1;
  // Array.prototype.sort is stable: ties keep the priority order, as the index's counting sort.
  return kept.sort((a, b) => {
    const x = value(a);
    const y = value(b);
    return sign * (typeof x === 'number' ? x - (y as number) : cmp(x, y as string));
  });
}

const root = mkdtempSync(join(tmpdir(), 's3scan-findings-index-'));
const store = new LocalReportStore(root);

/** A store over a copy of `root`, with a cache of its own (its paths differ). */
function copyOfStore(): LocalReportStore {
  const copy = mkdtempSync(join(tmpdir(), 's3scan-findings-index-copy-'));
  cpSync(root, copy, { recursive: true });
  return new LocalReportStore(copy);
}
const first = randomFindings(120, 7);
// The next day: a few verdicts changed, the last buckets gone.
const second = first
  .filter((f) => f.resource.name !== 'bucket-117')
  .map((f, i) =>
    i % 11 === 0 ? { ...f, status: (f.status === 'FAIL' ? 'PASS' : 'FAIL') as Status } : f,
  );

describe('The findings index', () => {
  beforeAll(async () => {
    const evidence = scanEvidence([]);
    await store.writeScan({
      summary: summaryOf('day-1', '2026-11-01T06:00:00.000Z', first),
      findings: first,
      evidence,
      rules: ruleDocuments(BUCKET_RULES),
    });
    const summary = summaryOf('day-2', '2026-11-02T06:00:00.000Z', second);
    const changes = await changesSincePrevious(store, summary, second);
    await store.writeScan({
      summary,
      findings: second,
      evidence: {
        ...evidence,
        buckets: [bucketEvidence('bucket-000', { policy: { ok: tlsPolicy('bucket-000') } })],
      },
      ...(changes ? { changes } : {}),
      rules: ruleDocuments(BUCKET_RULES),
    });
  });

  it.each<FindingsQuery>([
    {},
    { status: 'FAIL' },
    { status: 'FAIL,ERROR', severity: 'critical,high' },
    { rule: `${RULES[0]},${RULES[2]}`, region: 'eu-west-1' },
    { account: ACCOUNTS[1] as string, sort: 'bucket' },
    { bucket: 'bucket-007,bucket-050', sort: 'rule', order: 'desc' },
    { q: 'TLS', sort: 'severity' },
    { q: '4444', status: 'PASS', sort: 'status', order: 'desc' },
    { order: 'desc' },
    // Answered from the groups alone (no row read), in the same order as the rows would give.
    { sort: 'severity' },
    { sort: 'status', order: 'desc' },
    { sort: 'severity', order: 'desc', status: 'FAIL,PASS' },
    { q: 'no such thing anywhere' },
  ])('answers %j exactly as filtering and sorting the whole list would', async (query) => {
    // Act: every page, following the cursors.
    const pages = [];
    let cursor: string | undefined;
    do {
      const page = await getFindings(store, 'day-2', {
        ...query,
        limit: '37',
        ...(cursor ? { cursor } : {}),
      });
      pages.push(page);
      cursor = page.nextCursor;
    } while (cursor);

    // Assess
    const expected = reference(second, query);
    expect(pages[0]?.total).toBe(expected.length);
    expect(pages.flatMap((p) => p.findings)).toEqual(expected);
  });

  it('filters by the change since the previous scan, as the alerts drift counts it', async () => {
    // Prepare: the drift the alerts would compute.
    const drift = diffScans(
      { scanId: 'day-1', scanTime: '2026-11-01T06:00:00.000Z', findings: first },
      { scanId: 'day-2', scanTime: '2026-11-02T06:00:00.000Z', findings: second },
      scopeOf({ accountId: ACCOUNTS[0] as string }),
    );

    // Act
    const regressed = await getFindings(store, 'day-2', { change: 'regressed,new', limit: '500' });
    const overview = await getOverview(store, 'day-2');
    const firstOverview = await getOverview(store, 'day-1');

    // Assess: the same fingerprints, and the overview's counts are the drift's, gone included.
    expect(regressed.findings.map((f) => f.fingerprint).sort()).toEqual(
      [...drift.changes.regressed, ...drift.changes.new].map((e) => e.fingerprint).sort(),
    );
    expect(regressed.total).toBeGreaterThan(0);
    expect(overview.drift?.from.scanId).toBe('day-1');
    expect(overview.drift?.counts.gone).toBe(drift.counts.gone);
    expect(overview.drift?.counts.resolved).toBe(drift.counts.resolved);
    expect(firstOverview.drift).toBeNull();
  });

  it('counts each account and region, and ranks the buckets to fix first', async () => {
    // Act
    const overview = await getOverview(store, 'day-2');

    // Assess
    expect(overview.indexed).toBe(true);
    for (const account of ACCOUNTS)
      expect(overview.byAccount[account]?.FAIL).toBe(
        second.filter((f) => f.resource.account === account && f.status === 'FAIL').length,
      );
    const fails = (name: string) =>
      second.filter(
        (f) => f.resource.name === name && f.status === 'FAIL' && !f.suppression?.active,
      ).length;
    const top = overview.topBuckets.map((b) => fails(b.name));
    expect(top).toEqual([...top].sort((a, b) => b - a));
    expect(top[0]).toBe(Math.max(...second.map((f) => fails(f.resource.name))));
  });

  it('shows a bucket with its verdicts, its evidence and its rules’ remediation', async () => {
    // Act
    const detail = await getBucket(store, 'day-2', 'bucket-000', {});

    // Assess
    expect(detail.findings.map((f) => f.ruleId).sort()).toEqual(
      second
        .filter((f) => f.resource.name === 'bucket-000')
        .map((f) => f.ruleId)
        .sort(),
    );
    expect(detail.evidence?.bucket.policy).toEqual({ ok: tlsPolicy('bucket-000') });
    expect(detail.rules.map((r) => r.id).sort()).toEqual(
      detail.findings.map((f) => f.ruleId).sort(),
    );
    expect(detail.rules[0]?.remediation.cli).toMatch(/aws /);
  });

  it('says why a bucket cannot be shown: unknown (404), evidence missing (said in the answer)', async () => {
    await expect(getBucket(store, 'day-2', 'nope', {})).rejects.toMatchObject({ statusCode: 404 });
    // bucket-001 was never given an evidence file in this store.
    const detail = await getBucket(store, 'day-2', 'bucket-001', {});
    expect(detail.evidence).toBeNull();
    expect(detail.evidenceError).toMatch(
      /evidence file evidence\/.*bucket-001\.json is not in the scan/,
    );
  });

  it('exports exactly the filtered findings in CSV, JSON and OCSF', async () => {
    // Prepare
    const query = { status: 'FAIL', region: 'us-east-1' };
    const expected = reference(second, query);

    // Act
    const csv = await exportFindings(store, 'day-2', { ...query, format: 'csv' });
    const json = await exportFindings(store, 'day-2', { ...query, format: 'json' });
    const ocsf = await exportFindings(store, 'day-2', { ...query, format: 'ocsf' });

    // Assess
    expect(csv.body.trimEnd().split('\r\n')).toHaveLength(expected.length + 1);
    expect(JSON.parse(json.body)).toEqual(expected);
    const events = JSON.parse(ocsf.body) as { finding_info: { uid: string } }[];
    expect(events).toHaveLength(expected.length);
    expect(ocsf.filename).toBe('s3scan-day-2-findings.ocsf.json');
    await expect(exportFindings(store, 'day-2', { format: 'xlsx' })).rejects.toThrow(
      /format must be one of csv, json, ocsf/,
    );
  });

  it('refuses an export larger than the limit instead of cutting it short', async () => {
    // Prepare
    const many = randomFindings(Math.ceil((MAX_EXPORT + 1) / 3), 3).slice(0, MAX_EXPORT + 1);
    while (many.length <= MAX_EXPORT) many.push(...many.slice(0, MAX_EXPORT + 1 - many.length));
    await store.writeScan({
      summary: summaryOf('big', '2026-10-01T06:00:00.000Z', many),
      findings: many,
      evidence: scanEvidence([]),
    });

    // Act + Assess
    await expect(exportFindings(store, 'big', {})).rejects.toThrow(
      `the filters select ${many.length} findings; an export holds at most ${MAX_EXPORT}`,
    );
    expect((await exportFindings(store, 'big', { status: 'FAIL' })).count).toBeLessThanOrEqual(
      MAX_EXPORT,
    );
  });

  it('refuses an export larger than a Lambda can answer (5 MiB), naming its size', async () => {
    // Prepare: few findings, long messages.
    const wide = randomFindings(200, 5).map((f) => ({ ...f, message: 'x'.repeat(4000) }));
    await store.writeScan({
      summary: summaryOf('wide', '2026-09-01T06:00:00.000Z', wide),
      findings: wide,
      evidence: scanEvidence([]),
    });

    // Act + Assess
    expect(wide.length).toBeLessThan(MAX_EXPORT);
    await expect(exportFindings(store, 'wide', { format: 'json' })).rejects.toThrow(
      /the \d+ findings the filters select make [\d.]+ MiB of json; an export holds at most 5 MiB/,
    );
    expect((await exportFindings(store, 'wide', { format: 'csv', status: 'FAIL' })).count).toBe(
      wide.filter((f) => f.status === 'FAIL').length,
    );
  });

  it('rolls the findings up per compliance requirement, from the summary', async () => {
    // Act
    const compliance = await getCompliance(store, 'day-2');

    // Assess: every framework and requirement, each count the sum over its rules.
    expect(compliance.frameworks.map((f) => f.id)).toEqual(FRAMEWORKS.map((f) => f.id));
    for (const framework of compliance.frameworks)
      for (const requirement of framework.requirements) {
        const behind = second.filter((f) => requirement.rules.includes(f.ruleId));
        expect(requirement.counts.FAIL).toBe(behind.filter((f) => f.status === 'FAIL').length);
        expect(requirement.verdict).toBe(
          behind.some((f) => f.status === 'FAIL')
            ? 'FAIL'
            : behind.some((f) => f.status === 'ERROR')
              ? 'ERROR'
              : behind.length > 0
                ? 'PASS'
                : 'NOT_ASSESSED',
        );
      }
  });

  it('compares any two scans and lists what changed', async () => {
    // Act
    const compare = await getDrift(store, 'day-2', { from: 'day-1' });

    // Assess
    expect(compare.from?.scanId).toBe('day-1');
    const gone = (compare as { changes: Record<string, { bucket: string }[]> }).changes.gone;
    expect(gone?.length).toBeGreaterThan(0);
    expect(gone?.every((c) => c.bucket === 'bucket-117')).toBe(true);
    await expect(getDrift(store, 'day-2', { from: 'nope' })).rejects.toMatchObject({
      statusCode: 404,
    });
  });

  it('serves a scan stored before the index by streaming, and says what needs the index', async () => {
    // Prepare: day-1 without its view folder, as an older s3scan wrote it (in a copy of the
    // store: the first one's index of day-1 is cached, as it may be, stored scans never change).
    const old = copyOfStore();
    rmSync(join(old.describe('day-1'), 'view'), { recursive: true });

    // Act
    const page = await getFindings(old, 'day-1', { status: 'FAIL', limit: '500' });
    const overview = await getOverview(old, 'day-1');

    // Assess
    expect(page.total).toBe(first.filter((f) => f.status === 'FAIL').length);
    expect(overview.indexed).toBe(false);
    await expect(getFindings(old, 'day-1', { change: 'new' })).rejects.toThrow(
      /stored before the findings index: it cannot be filtered by change or sorted/,
    );
    await expect(getBucket(old, 'day-1', 'bucket-000', {})).rejects.toMatchObject({
      statusCode: 404,
    });
  });

  it('refuses a truncated or reordered rows file with a message naming it, and answers again once repaired', async () => {
    // Prepare: a copy of the store, so the cached index of the first is not in play.
    const other = copyOfStore();
    const rows = join(other.describe('day-2'), 'view', 'rows.bin');
    const bytes = readFileSync(rows);
    writeFileSync(rows, bytes.subarray(0, 100));

    // Act + Assess: the default view needs no row (its groups are in index.json); a sort does.
    expect((await getFindings(other, 'day-2', { status: 'FAIL' })).total).toBe(
      second.filter((f) => f.status === 'FAIL').length,
    );
    await expect(getFindings(other, 'day-2', { sort: 'bucket' })).rejects.toThrow(
      /view\/rows\.bin is corrupt: rows\.bin has 100 bytes; the index describes \d+/,
    );
    // The right size, but the first row says SKIPPED: it is not in the FAIL group it sits in.
    const shuffled = Buffer.from(bytes);
    shuffled[0] = 3;
    writeFileSync(rows, shuffled);
    await expect(getFindings(other, 'day-2', { sort: 'bucket' })).rejects.toThrow(
      /rows\.bin is corrupt: row 0 is out of the index's order or dictionaries/,
    );
    writeFileSync(rows, bytes);
    expect((await getFindings(other, 'day-2', { sort: 'bucket' })).total).toBe(second.length);
  });

  it('refuses scan file paths that leave the scan folder', async () => {
    for (const path of ['../../index.json', '/etc/passwd', 'view/../../x', 'view//x', ''])
      await expect(store.readScanFile('day-2', path)).rejects.toThrow(
        /is not a path inside a scan folder/,
      );
  });
});
