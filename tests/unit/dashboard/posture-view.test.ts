import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FindingsPage } from '../../../lib/dashboard/answers.js';
import {
  DashboardRequestError,
  exportFindings,
  type FindingsQuery,
  getBucket,
  getCompliance,
  getFindings,
  getOverview,
} from '../../../lib/dashboard/api.js';
import { summarize } from '../../../lib/engine/evaluate.js';
import type { Finding, Severity, Status } from '../../../lib/engine/types.js';
import { ReportStoreError } from '../../../lib/errors.js';
import type { BucketEvidence } from '../../../lib/evidence/types.js';
import { type PostureFile, VIEW_CHANGES } from '../../../lib/findings-index/format.js';
import { changesSincePrevious } from '../../../lib/history/changes.js';
import { postureSnapshot } from '../../../lib/history/posture.js';
import { storedPosture } from '../../../lib/history/posture-overview.js';
import { composePosture, rescansOver } from '../../../lib/history/previous.js';
import { LocalReportStore } from '../../../lib/report-store/local.js';
import { bucketEvidence, objectScan, scanEvidence, tally } from '../../helpers/evidence.js';
import { ACCOUNT, finding } from '../../helpers/findings.js';

/**
 * The posture now (a full scan overlaid with the rescans since) checked against the findings
 * index itself: the same findings stored as one scan are the reference, so every sort, order,
 * filter and page of the overlay must equal what the index answers for the composed scan.
 */
const MEMBER = '444455556666';
const RULES = ['s3-a-encrypted', 's3-b-tls', 's3-c-key', 's3-d-versioned'];
const STATUSES: Status[] = ['FAIL', 'PASS', 'ERROR', 'SKIPPED', 'PASS', 'FAIL'];
const SEVERITIES: Severity[] = ['critical', 'high', 'medium', 'low', 'informational'];

/** A small deterministic generator: the same findings on every run. */
function random(seed: number) {
  let x = seed;
  return (n: number) => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x % n;
  };
}

interface Bucket {
  name: string;
  account: string;
  region: string;
  objects?: number;
}

function findingsOf(buckets: Bucket[], seed: number): Finding[] {
  const pick = random(seed);
  return buckets.flatMap((b) =>
    RULES.map((rule) =>
      finding(rule, b.name, STATUSES[pick(STATUSES.length)] as Status, {
        severity: SEVERITIES[pick(SEVERITIES.length)] as Severity,
        account: b.account,
        region: b.region,
        ...(pick(9) === 0 ? { suppression: { expires: '2027-06-01' } } : {}),
      }),
    ),
  );
}

const evidenceOf = (b: Bucket): BucketEvidence =>
  bucketEvidence(b.name, {
    accountId: b.account,
    region: b.region,
    arn: `arn:aws:s3:::${b.name}`,
    ...(b.objects !== undefined
      ? {
          objects: objectScan({
            byEncryption: {
              'SSE-S3': tally(10),
              ...(b.objects > 0 ? { NONE: tally(b.objects, 'plain.txt') } : {}),
            },
          }),
        }
      : {}),
  });

/** The account's finding, as an organisation scan records it: never a bucket. */
const accountFinding = (account: string, status: Status): Finding => ({
  ...finding('s3-account-scanned', account, status, { account }),
  resource: {
    arn: `arn:aws:iam::${account}:root`,
    type: 'AWS::::Account',
    name: account,
    region: 'us-east-1',
    account,
  },
});

/**
 * Where the posture now comes from: computed on each request, stored with each rescan (what
 * s3scan does), or stored by two rescans written at once, each missing the other (the newest's
 * file then covers the wrong rescans and the request computes it instead).
 */
const POSTURE_SOURCES = [
  'computed on request',
  'stored with each rescan',
  'stored by racing rescans',
] as const;
type PostureSource = (typeof POSTURE_SOURCES)[number];

/** The store as a rescan saw it before `hidden` was listed: what a racing writer reads. */
function without(reports: LocalReportStore, hidden: string): LocalReportStore {
  return new Proxy(reports, {
    get(target, property) {
      if (property === 'readIndex')
        return async () => {
          const index = await target.readIndex();
          return index && { ...index, scans: index.scans.filter((s) => s.scanId !== hidden) };
        };
      const value = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function storeScan(
  reports: LocalReportStore,
  scanId: string,
  scanTime: string,
  findings: Finding[],
  buckets: BucketEvidence[],
  rescan?: { of: string; buckets: string[]; unreachable?: string[] },
  source: PostureSource = 'computed on request',
) {
  const evidence = { ...scanEvidence(buckets), scanId, scanTime };
  const summary = {
    schemaVersion: '1',
    source: rescan ? ('rescan' as const) : ('scan' as const),
    ...summarize(evidence, findings, { expiredSuppressions: [], disabledRules: [] }),
    ...(rescan
      ? {
          scope: {
            buckets: rescan.buckets,
            regions: [],
            ...(rescan.unreachable
              ? { accounts: [ACCOUNT, MEMBER], unreachableAccounts: rescan.unreachable }
              : {}),
          },
          rescanOf: { scanId: rescan.of, scanTime: '2026-12-01T06:00:00.000Z', events: [] },
        }
      : {}),
  };
  const changes = await changesSincePrevious(reports, summary, findings);
  const seenBy =
    source === 'stored by racing rescans' && scanId === 'rescan-4'
      ? without(reports, 'rescan-3')
      : reports;
  const posture =
    rescan && source !== 'computed on request'
      ? await storedPosture(
          seenBy,
          { summary, findings, ...(changes ? { changes } : {}) },
          evidence,
        )
      : undefined;
  await reports.writeScan({
    summary,
    findings,
    evidence,
    ...(changes ? { changes } : {}),
    ...(posture ? { posture } : {}),
  });
}

const key = (f: Finding) =>
  `${f.ruleId} ${f.resource.account}/${f.resource.region}/${f.resource.name}`;

/** Every page of a query, walked with the cursors. */
async function everyPage(
  reports: LocalReportStore,
  scanId: string,
  query: FindingsQuery,
): Promise<{ findings: Finding[]; changes: string[]; seen: string[]; total: number }> {
  const out = {
    findings: [] as Finding[],
    changes: [] as string[],
    seen: [] as string[],
    total: 0,
  };
  let cursor: string | undefined;
  do {
    const page: FindingsPage = await getFindings(reports, scanId, {
      ...query,
      limit: '7',
      ...(cursor ? { cursor } : {}),
    });
    out.findings.push(...page.findings);
    out.changes.push(...(page.changes ?? []));
    out.seen.push(...(page.seen ?? []).map((s) => s.scanId));
    out.total = page.total;
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

describe.each(POSTURE_SOURCES)(
  'Dashboard: the posture now (%s) against the findings index of the same findings',
  (source) => {
    const reports = new LocalReportStore(mkdtempSync(join(tmpdir(), 's3scan-posture-view-')));
    const reference = new LocalReportStore(mkdtempSync(join(tmpdir(), 's3scan-posture-ref-')));
    const regions = ['us-east-1', 'eu-west-1', 'ap-south-1'];
    const buckets: Bucket[] = Array.from({ length: 40 }, (_, i) => ({
      name: `bucket-${String(i).padStart(2, '0')}`,
      account: i % 3 === 0 ? MEMBER : ACCOUNT,
      region: regions[i % 3] as string,
      ...(i % 4 === 0 ? { objects: i % 8 } : {}),
    }));
    const rescans = [
      {
        id: 'rescan-1',
        time: '2026-12-01T08:00:00.000Z',
        names: buckets.slice(0, 10).map((b) => b.name),
      },
      {
        id: 'rescan-2',
        time: '2026-12-01T09:00:00.000Z',
        names: buckets.slice(7, 12).map((b) => b.name),
      },
      // Two buckets deleted, one created since the full scan.
      {
        id: 'rescan-3',
        time: '2026-12-01T10:00:00.000Z',
        names: ['bucket-20', 'bucket-21', 'fresh'],
      },
      // The member's role was denied: bucket-30 (the member's) was not looked at, bucket-31 was.
      {
        id: 'rescan-4',
        time: '2026-12-01T10:30:00.000Z',
        names: ['bucket-30', 'bucket-31'],
        unreachable: [MEMBER],
      },
    ] as { id: string; time: string; names: string[]; unreachable?: string[] }[];
    const fresh: Bucket = { name: 'fresh', account: ACCOUNT, region: 'eu-west-1', objects: 3 };
    let expected: Finding[] = [];

    beforeAll(async () => {
      // An older full scan: its rescans never reach the newer scan's posture.
      await storeScan(
        reports,
        'full-0',
        '2026-11-30T06:00:00.000Z',
        findingsOf(buckets, 1),
        buckets.map(evidenceOf),
      );
      const full = [
        ...findingsOf(buckets, 2),
        accountFinding(ACCOUNT, 'PASS'),
        accountFinding(MEMBER, 'ERROR'),
      ];
      await storeScan(reports, 'full-1', '2026-12-01T06:00:00.000Z', full, buckets.map(evidenceOf));
      const standing = new Map<string, string>();
      const rescanned = new Map<string, Finding[]>();
      const rescannedEvidence = new Map<string, BucketEvidence>();
      for (const [n, r] of rescans.entries()) {
        const reached = (b: Bucket) => !r.unreachable?.includes(b.account);
        const present = [...buckets, fresh].filter(
          (b) =>
            r.names.includes(b.name) &&
            b.name !== 'bucket-20' &&
            b.name !== 'bucket-21' &&
            reached(b),
        );
        // A rescan's objects were carried: the same counts, but some now under a lost key.
        const seen = present.map((b) => ({
          ...b,
          objects: b.objects === undefined ? undefined : b.objects + n,
        }));
        const found = [...findingsOf(seen, 10 + n), accountFinding(ACCOUNT, 'FAIL')];
        await storeScan(
          reports,
          r.id,
          r.time,
          found,
          seen.map(evidenceOf),
          {
            of: 'full-1',
            buckets: r.names,
            ...(r.unreachable ? { unreachable: r.unreachable } : {}),
          },
          source,
        );
        for (const name of r.names) {
          const bucket = [...buckets, fresh].find((b) => b.name === name);
          if (!bucket || reached(bucket)) standing.set(name, r.id);
        }
        for (const b of seen) {
          rescanned.set(
            `${r.id} ${b.name}`,
            found.filter((f) => f.resource.name === b.name),
          );
          rescannedEvidence.set(`${r.id} ${b.name}`, evidenceOf(b));
        }
      }
      // A later full scan of another account does not end this account's rescans.
      await storeScan(reports, 'other-account', '2026-12-01T11:00:00.000Z', [], []);
      expected = [
        ...full.filter(
          (f) => f.resource.type !== 'AWS::S3::Bucket' || !standing.has(f.resource.name),
        ),
        ...[...standing].flatMap(([name, id]) => rescanned.get(`${id} ${name}`) ?? []),
      ];
      const expectedEvidence = [
        ...buckets.filter((b) => !standing.has(b.name)).map(evidenceOf),
        ...[...standing].flatMap(([name, id]) => rescannedEvidence.get(`${id} ${name}`) ?? []),
      ];
      await storeScan(
        reference,
        'composed',
        '2026-12-01T06:00:00.000Z',
        expected,
        expectedEvidence,
      );
    });

    it.each([
      ['priority', 'asc'],
      ['priority', 'desc'],
      ['status', 'asc'],
      ['status', 'desc'],
      ['severity', 'asc'],
      ['severity', 'desc'],
      ['bucket', 'asc'],
      ['bucket', 'desc'],
      ['rule', 'asc'],
      ['rule', 'desc'],
    ])(
      'pages through the same findings in the same order, sorted by %s %s',
      async (sort, order) => {
        // Prepare
        const query = { sort, order };

        // Act
        const now = await everyPage(reports, 'full-1', { ...query, posture: 'now' });
        const composed = await everyPage(reference, 'composed', query);

        // Assess
        expect(now.total).toBe(expected.length);
        expect(now.findings.map(key)).toEqual(composed.findings.map(key));
        expect(now.findings).toEqual(composed.findings);
      },
    );

    it.each<[string, FindingsQuery]>([
      ['FAIL and ERROR', { status: 'FAIL,ERROR' }],
      ['a severity', { severity: 'critical,high' }],
      ['a rule', { rule: 's3-b-tls' }],
      ['an account', { account: MEMBER }],
      ['a region', { region: 'eu-west-1' }],
      ['bucket names', { bucket: 'bucket-08,bucket-30,fresh' }],
      ['free text', { q: 'BUCKET-0' }],
      ['free text on a rule title', { q: 'd-versioned', sort: 'bucket', order: 'desc' }],
      [
        'everything at once',
        { status: 'FAIL', region: 'us-east-1', q: 'bucket', sort: 'severity' },
      ],
    ])('filters on %s as the index does', async (_, query) => {
      // Act
      const now = await everyPage(reports, 'full-1', { ...query, posture: 'now' });
      const composed = await everyPage(reference, 'composed', query);

      // Assess
      expect(now.total).toBe(composed.total);
      expect(now.findings.map(key)).toEqual(composed.findings.map(key));
    });

    it('says which scan each finding comes from, and its change since the look before', async () => {
      // Act
      const all = await everyPage(reports, 'full-1', { posture: 'now' });
      const regressed = await everyPage(reports, 'full-1', { posture: 'now', change: 'regressed' });
      const byChange = await everyPage(reports, 'full-1', { posture: 'now', sort: 'change' });

      // Assess: bucket-08 is rescan-2's (the newer of two), bucket-01 rescan-1's, the rest full-1's.
      const sourceOf = (name: string) =>
        new Set(all.seen.filter((_, i) => all.findings[i]?.resource.name === name));
      expect(sourceOf('bucket-08')).toEqual(new Set(['rescan-2']));
      expect(sourceOf('bucket-01')).toEqual(new Set(['rescan-1']));
      expect(sourceOf('fresh')).toEqual(new Set(['rescan-3']));
      // rescan-4 could not reach the member: its bucket-30 stays as the full scan saw it.
      expect(sourceOf('bucket-30')).toEqual(new Set(['full-1']));
      expect(sourceOf('bucket-31')).toEqual(new Set(['rescan-4']));
      expect(sourceOf('bucket-20')).toEqual(new Set());
      // The change filter keeps exactly the rows whose change is regressed, in the table's order.
      expect(regressed.findings.map(key)).toEqual(
        all.findings.filter((_, i) => all.changes[i] === 'regressed').map(key),
      );
      expect(regressed.total).toBeGreaterThan(0);
      // Sorted by change: the kinds ascend, ties in the default order.
      const order: readonly string[] = VIEW_CHANGES;
      const rank = new Map(all.findings.map((f, i) => [key(f), i]));
      const sorted = [...all.findings.keys()].sort(
        (a, b) =>
          order.indexOf(all.changes[a] as string) - order.indexOf(all.changes[b] as string) ||
          a - b,
      );
      expect(byChange.findings.map(key)).toEqual(
        sorted.map((i) => key(all.findings[i] as Finding)),
      );
      expect(rank.size).toBe(all.findings.length);
    });

    it('counts the overview, the objects at risk and compliance as the composed scan does', async () => {
      // Act
      const now = await getOverview(reports, 'full-1', { posture: 'now' });
      const scanned = await getOverview(reports, 'full-1');
      const composed = await getOverview(reference, 'composed');
      const complianceNow = await getCompliance(reports, 'full-1', { posture: 'now' });
      const complianceComposed = await getCompliance(reference, 'composed');

      // Assess
      expect(now.shows).toBe('now');
      expect(scanned.shows).toBeUndefined();
      expect(now.scanId).toBe('full-1');
      for (const field of [
        'buckets',
        'findings',
        'byStatus',
        'failedBySeverity',
        'suppressed',
        'byRule',
        'topBuckets',
        'byAccount',
        'byRegion',
        'objectsAtRisk',
      ] as const)
        expect([field, now[field]]).toEqual([field, composed[field]]);
      expect(now.objectsAtRisk?.unencrypted.count).not.toBe(
        scanned.objectsAtRisk?.unencrypted.count,
      );
      // The summaries' overlay and the index's agree.
      expect(now.posture?.byStatus).toEqual(composed.byStatus);
      expect(scanned.posture?.byStatus).toEqual(composed.byStatus);
      expect(now.posture?.scanned).toEqual(scanned.byStatus);
      expect(now.posture?.rescans.map((r) => r.scanId)).toEqual([
        'rescan-1',
        'rescan-2',
        'rescan-3',
        'rescan-4',
      ]);
      expect(complianceNow.frameworks).toEqual(complianceComposed.frameworks);
      expect(complianceNow.shows).toBe('now');
    });

    it('exports what the posture now selects, each finding dated by its own scan', async () => {
      // Act
      const csv = await exportFindings(reports, 'full-1', { posture: 'now', format: 'csv' });
      const composed = await exportFindings(reference, 'composed', { format: 'csv' });
      const ocsf = await exportFindings(reports, 'full-1', {
        posture: 'now',
        format: 'ocsf',
        bucket: 'fresh,bucket-30',
      });

      // Assess
      expect(csv.body).toBe(composed.body);
      expect(csv.filename).toBe('s3scan-full-1-now-findings.csv');
      const times = new Set(
        (JSON.parse(ocsf.body) as { resources: { name: string }[]; time: number }[]).map(
          (e) => `${e.resources[0]?.name} ${new Date(e.time).toISOString()}`,
        ),
      );
      expect([...times].sort()).toEqual([
        'bucket-30 2026-12-01T06:00:00.000Z',
        'fresh 2026-12-01T10:00:00.000Z',
      ]);
    });

    it('shows a rescanned bucket as its rescan saw it, and a deleted one as gone', async () => {
      // Act
      const rescanned = await getBucket(reports, 'full-1', 'bucket-08', { posture: 'now' });
      const asScanned = await getBucket(reports, 'full-1', 'bucket-08', {});
      const untouched = await getBucket(reports, 'full-1', 'bucket-30', { posture: 'now' });
      const gone = getBucket(reports, 'full-1', 'bucket-20', { posture: 'now' });

      // Assess
      expect(rescanned.seenIn).toEqual({
        scanId: 'rescan-2',
        scanTime: '2026-12-01T09:00:00.000Z',
      });
      expect(rescanned.evidence?.scanId).toBe('rescan-2');
      expect(asScanned.seenIn).toBeUndefined();
      expect(asScanned.evidence?.scanId).toBe('full-1');
      expect(untouched.seenIn).toBeUndefined();
      await expect(gone).rejects.toThrow(
        /rescan-3 .* found no bucket "bucket-20": it was deleted after scan full-1/,
      );
    });

    it('answers the older full scan with the rescans before the next full scan only', async () => {
      // Act
      const older = await getOverview(reports, 'full-0', { posture: 'now' });
      const rescan = await getFindings(reports, 'rescan-1', { posture: 'now' });

      // Assess: full-0 had no rescans of its own; a rescan is shown as itself.
      expect(older.shows).toBeUndefined();
      expect(older.posture).toBeUndefined();
      expect(rescan.seen).toBeUndefined();
    });

    it('answers from the newest rescan’s stored posture only when it covers every rescan listed', async () => {
      // Prepare
      const index = await reports.readIndex();
      const full = index?.scans.find((s) => s.scanId === 'full-1');

      // Act
      const bytes = await reports.readScanFile('rescan-4', 'view/posture.json');
      const used =
        full && (await postureSnapshot(reports, full, rescansOver(index?.scans ?? [], full)));

      // Assess
      if (source === 'computed on request') {
        expect(bytes).toBeUndefined();
        return;
      }
      const file = JSON.parse(String(bytes)) as PostureFile;
      expect(file.fullScan).toBe('full-1');
      expect(file.rescans).toEqual(
        source === 'stored with each rescan'
          ? ['rescan-1', 'rescan-2', 'rescan-3', 'rescan-4']
          : ['rescan-1', 'rescan-2', 'rescan-4'],
      );
      expect(used === undefined).toBe(source === 'stored by racing rescans');
    });

    it('composes in memory what the CLI reports with --posture now: the same findings', async () => {
      // Prepare
      const index = await reports.readIndex();
      const full = await reports.readScan('full-1');
      const rescans = await Promise.all(
        rescansOver(index!.scans, index!.scans.find((s) => s.scanId === 'full-1')!).map(
          async (entry) => ({ entry, findings: (await reports.readScan(entry.scanId)).findings }),
        ),
      );

      // Act
      const composed = composePosture(full.findings, rescans);

      // Assess
      expect(composed.map(key).sort()).toEqual(expected.map(key).sort());
    });

    it('refuses a posture it does not know with 400', async () => {
      // Act
      const bad = getFindings(reports, 'full-1', { posture: 'live' });

      // Assess
      await expect(bad).rejects.toBeInstanceOf(DashboardRequestError);
      await expect(bad).rejects.toMatchObject({
        statusCode: 400,
        message: 'posture must be scan or now',
      });
    });
  },
);

describe('Dashboard: the posture now when a rescan cannot be read', () => {
  it('refuses to compose it, naming the rescan, and still answers the scan as stored', async () => {
    // Prepare: a rescan whose findings index was damaged after it was stored.
    const root = mkdtempSync(join(tmpdir(), 's3scan-posture-corrupt-'));
    const reports = new LocalReportStore(root);
    const b: Bucket = { name: 'bucket-a', account: ACCOUNT, region: 'us-east-1' };
    await storeScan(reports, 'full-1', '2026-12-01T06:00:00.000Z', findingsOf([b], 3), [
      evidenceOf(b),
    ]);
    await storeScan(
      reports,
      'rescan-1',
      '2026-12-01T08:00:00.000Z',
      findingsOf([b], 4),
      [evidenceOf(b)],
      { of: 'full-1', buckets: ['bucket-a'] },
    );
    const index = join(root, 'scans', 'rescan-1', 'view', 'index.json');
    const good = readFileSync(index);
    writeFileSync(index, '{"schemaVersion":');

    // Act
    const now = await getOverview(reports, 'full-1', { posture: 'now' }).catch((e: Error) => e);
    const stored = await getOverview(reports, 'full-1', { posture: 'scan' });
    // Its pages damaged instead: the findings page refuses too.
    writeFileSync(index, good);
    writeFileSync(join(root, 'scans', 'rescan-1', 'view', 'pages.bin'), 'not gzip');
    const page = await getFindings(reports, 'full-1', { posture: 'now' }).catch((e: Error) => e);

    // Assess
    expect(now).toBeInstanceOf(ReportStoreError);
    expect((now as Error).message).toMatch(/rescan-1\/view\/index\.json is corrupt/);
    expect(stored.shows).toBeUndefined();
    expect(stored.posture?.rescans.map((r) => r.scanId)).toEqual(['rescan-1']);
    expect(page).toBeInstanceOf(ReportStoreError);
    expect((page as Error).message).toMatch(/rescan-1\/view\/pages\.bin: page 0 is corrupt/);
  });
});

describe('Dashboard: a damaged posture stored with a rescan', () => {
  /** A full scan of three buckets, and a rescan of one that stored the posture now. */
  async function history(): Promise<{ root: string; reports: LocalReportStore }> {
    const root = mkdtempSync(join(tmpdir(), 's3scan-posture-stored-'));
    const reports = new LocalReportStore(root);
    const buckets: Bucket[] = ['bucket-a', 'bucket-b', 'bucket-c'].map((name) => ({
      name,
      account: ACCOUNT,
      region: 'us-east-1',
    }));
    await storeScan(
      reports,
      'full-1',
      '2026-12-01T06:00:00.000Z',
      findingsOf(buckets, 3),
      buckets.map(evidenceOf),
    );
    const a = buckets[0] as Bucket;
    await storeScan(
      reports,
      'rescan-1',
      '2026-12-01T08:00:00.000Z',
      findingsOf([a], 4),
      [evidenceOf(a)],
      { of: 'full-1', buckets: ['bucket-a'] },
      'stored with each rescan',
    );
    return { root, reports };
  }
  const view = (root: string, file: string) => join(root, 'scans', 'rescan-1', 'view', file);
  const everyFinding = (reports: LocalReportStore) =>
    everyPage(reports, 'full-1', { posture: 'now', status: '' }).catch((e: Error) => e);

  it('reads every finding of an intact one, each rescanned finding from its own line', async () => {
    // Prepare
    const { reports } = await history();

    // Act
    const all = await everyFinding(reports);

    // Assess
    if (all instanceof Error) throw all;
    expect(all.total).toBe(3 * RULES.length);
    const byRule = (a: Finding, b: Finding) => (a.ruleId < b.ruleId ? -1 : 1);
    expect(all.findings.filter((f) => f.resource.name === 'bucket-a').sort(byRule)).toEqual(
      (await reports.readScan('rescan-1')).findings
        .filter((f) => f.resource.name === 'bucket-a')
        .sort(byRule),
    );
  });

  it.each([
    {
      what: 'posture.json is not JSON',
      damage: (root: string) => writeFileSync(view(root, 'posture.json'), '{"fullScan"'),
      message: /rescan-1\/view\/posture\.json is corrupt: not valid JSON/,
    },
    {
      what: 'the findings file lost a line',
      damage: (root: string) => {
        const lines = gunzipSync(readFileSync(view(root, 'posture-overlay.ndjson.gz')))
          .toString('utf8')
          .split('\n');
        writeFileSync(view(root, 'posture-overlay.ndjson.gz'), gzipSync(lines.slice(1).join('\n')));
      },
      message:
        /posture-overlay\.ndjson\.gz holds 3 findings; view\/posture-heads\.json describes 4/,
    },
    {
      what: 'a head names a rescan that is not listed',
      damage: (root: string) => {
        const heads = JSON.parse(readFileSync(view(root, 'posture-heads.json'), 'utf8'));
        heads.rows[0][9] = 7;
        writeFileSync(view(root, 'posture-heads.json'), JSON.stringify(heads));
      },
      message: /posture-heads\.json: rescan 7 is not listed/,
    },
    {
      what: 'posture.json is JSON of another shape',
      damage: (root: string) =>
        writeFileSync(
          view(root, 'posture.json'),
          '{"schemaVersion":"1","fullScan":"full-1","rescans":7}',
        ),
      // Not the posture of these rescans: the request computes it instead, from the findings.
      message: undefined,
    },
    {
      what: 'the heads file is missing',
      damage: (root: string) => rmSync(view(root, 'posture-heads.json')),
      message: /rescan-1\/view\/posture-heads\.json is missing/,
    },
  ])('says so when $what, naming the file (never its content)', async ({ damage, message }) => {
    // Prepare
    const { root, reports } = await history();
    damage(root);

    // Act
    const overview = await getOverview(reports, 'full-1', { posture: 'now' }).catch(
      (e: Error) => e,
    );
    const all = await everyFinding(reports);

    // Assess: one of the two reads the damaged file, and neither answers as if it were whole.
    const errors = [overview, all].filter((a): a is Error => a instanceof Error);
    if (message === undefined) {
      expect(errors).toEqual([]);
      expect((overview as { shows?: string }).shows).toBe('now');
      return;
    }
    expect(errors.length).toBeGreaterThan(0);
    for (const error of errors) {
      expect(error).toBeInstanceOf(ReportStoreError);
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain('fullScan');
    }
  });
});
