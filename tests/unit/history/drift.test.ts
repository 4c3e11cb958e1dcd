import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_EVALUATION_CONFIG, fingerprint } from '../../../lib/engine/evaluate.js';
import { type Finding, SEVERITIES, type Severity, type Status } from '../../../lib/engine/types.js';
import {
  CHANGE_KINDS,
  type DriftKind,
  describeDrift,
  diffScans,
  firstSeenOf,
  inScope,
  type ScanScope,
} from '../../../lib/history/drift.js';
import { diffFindingStreams, peekFinding } from '../../../lib/history/drift-stream.js';
import { evaluateScan } from '../../../lib/scan/evaluate-scan.js';
import { bucketEvidence, objectScan, scanEvidence } from '../../helpers/evidence.js';

const ACCOUNT = '111122223333';
const WHOLE: ScanScope = { accountId: ACCOUNT, buckets: [], regions: [] };

function finding(
  rule: string,
  bucket: string,
  status: Status,
  options: { severity?: Severity; region?: string; suppressed?: boolean } = {},
): Finding {
  const arn = `arn:aws:s3:::${bucket}`;
  return {
    ruleId: rule,
    title: rule,
    status,
    severity: options.severity ?? 'high',
    resource: {
      arn,
      type: 'AWS::S3::Bucket',
      name: bucket,
      region: options.region ?? 'us-east-1',
      account: ACCOUNT,
    },
    message: `Bucket ${bucket}: ${rule} ${status}.`,
    details: {},
    evidenceRef: `evidence/${ACCOUNT}/us-east-1/${bucket}.json`,
    fingerprint: fingerprint(rule, arn),
    ...(options.suppressed
      ? {
          suppression: {
            resource: bucket,
            reason: 'accepted',
            expires: '2099-01-01',
            active: true,
          },
        }
      : {}),
  };
}

const scan = (scanId: string, scanTime: string, findings: Finding[]) => ({
  scanId,
  scanTime,
  findings,
});
const kinds = (drift: ReturnType<typeof diffScans>) =>
  Object.fromEntries(
    CHANGE_KINDS.map((k) => [
      k,
      drift.changes[k].map(
        (e) =>
          `${e.current?.resource.name ?? e.previous?.resource.name}:${e.current?.ruleId ?? e.previous?.ruleId}`,
      ),
    ]),
  );

describe('Function: diffScans', () => {
  it('sorts every change into its kind', () => {
    // Prepare
    const previous = scan('s1', '2026-10-31T06:00:00.000Z', [
      finding('tls', 'was-pass', 'PASS'),
      finding('tls', 'was-fail', 'FAIL'),
      finding('tls', 'worse', 'FAIL', { severity: 'medium' }),
      finding('tls', 'same', 'FAIL'),
      finding('tls', 'fixed', 'FAIL'),
      finding('tls', 'blind', 'PASS'),
      finding('tls', 'deleted', 'FAIL'),
      finding('tls', 'steady', 'PASS'),
    ]);
    const current = scan('s2', '2026-11-01T06:00:00.000Z', [
      finding('tls', 'was-pass', 'FAIL'),
      finding('tls', 'was-fail', 'FAIL', { severity: 'low' }),
      finding('tls', 'worse', 'FAIL', { severity: 'critical' }),
      finding('tls', 'same', 'FAIL'),
      finding('tls', 'fixed', 'PASS'),
      finding('tls', 'blind', 'ERROR'),
      finding('tls', 'brand-new', 'FAIL'),
      finding('tls', 'steady', 'PASS'),
      finding('tls', 'accepted', 'FAIL', { suppressed: true }),
    ]);

    // Act
    const drift = diffScans(previous, current, WHOLE);

    // Assess
    expect(kinds(drift)).toEqual({
      new: ['brand-new:tls'],
      regressed: ['was-pass:tls', 'worse:tls'],
      resolved: ['fixed:tls'],
      unverifiable: ['blind:tls'],
      gone: ['deleted:tls'],
      'still-failing': ['was-fail:tls', 'same:tls'],
    });
    expect(drift.counts).toMatchObject({ unchanged: 1, suppressed: 1 });
    expect(describeDrift(drift)).toBe(
      '1 new, 2 regressed, 1 resolved, 1 unverifiable, 1 gone since 2026-10-31 (2 still failing)',
    );
  });

  it('keeps firstSeen from the first scan that saw the FAIL, and lastSeen from the latest', () => {
    // Prepare
    const s1 = scan('s1', '2026-10-01T06:00:00.000Z', [finding('tls', 'b', 'FAIL')]);
    const s2 = scan('s2', '2026-10-02T06:00:00.000Z', [finding('tls', 'b', 'FAIL')]);
    const s3 = scan('s3', '2026-10-03T06:00:00.000Z', [finding('tls', 'b', 'FAIL')]);

    // Act
    const first = diffScans(s1, s2, WHOLE);
    const second = diffScans({ ...s2, firstSeen: firstSeenOf(first) }, s3, WHOLE);

    // Assess
    expect(second.changes['still-failing'][0]).toMatchObject({
      firstSeen: '2026-10-01T06:00:00.000Z',
      lastSeen: '2026-10-03T06:00:00.000Z',
    });
  });

  it('never calls a bucket gone because a scan of a subset did not look at it', () => {
    // Prepare: the previous scan saw both buckets; this one was --bucket prod-* --region eu-west-1.
    const previous = scan('s1', '2026-10-31T06:00:00.000Z', [
      finding('tls', 'prod-a', 'FAIL', { region: 'eu-west-1' }),
      finding('tls', 'dev-a', 'FAIL', { region: 'eu-west-1' }),
      finding('tls', 'prod-b', 'FAIL', { region: 'us-east-1' }),
    ]);
    const current = scan('s2', '2026-11-01T06:00:00.000Z', []);
    const scope = { accountId: ACCOUNT, buckets: ['prod-*'], regions: ['eu-west-1'] };

    // Act
    const drift = diffScans(previous, current, scope);

    // Assess
    expect(kinds(drift).gone).toEqual(['prod-a:tls']);
    expect(inScope(scope, finding('tls', 'dev-a', 'PASS', { region: 'eu-west-1' }).resource)).toBe(
      false,
    );
  });

  const arbitraryFinding = fc
    .record({
      rule: fc.constantFrom('tls', 'sse', 'kms'),
      bucket: fc.constantFrom('a', 'b', 'c', 'prod-1', 'prod-2'),
      status: fc.constantFrom<Status>('PASS', 'FAIL', 'ERROR', 'SKIPPED'),
      severity: fc.constantFrom(...SEVERITIES),
      region: fc.constantFrom('us-east-1', 'eu-west-1'),
      suppressed: fc.boolean(),
    })
    .map((r) => finding(r.rule, r.bucket, r.status, r));
  /** A scan has one finding per fingerprint. */
  const arbitraryScan = fc.uniqueArray(arbitraryFinding, {
    selector: (f) => f.fingerprint,
    maxLength: 15,
  });
  const arbitraryScope = fc.record({
    accountId: fc.constant(ACCOUNT),
    buckets: fc.subarray(['prod-*', 'a', 'b']),
    regions: fc.subarray(['us-east-1', 'eu-west-1']),
  });

  it('puts every in-scope finding of either scan in exactly one kind, and invents no gone', () => {
    fc.assert(
      fc.property(arbitraryScan, arbitraryScan, arbitraryScope, (before, after, scope) => {
        // Act
        const drift = diffScans(
          scan('p', '2026-10-31T00:00:00Z', before),
          scan('c', '2026-11-01T00:00:00Z', after),
          scope,
        );

        // Assess
        const inCurrent = after.filter((f) => inScope(scope, f.resource));
        const currentPrints = new Set(inCurrent.map((f) => f.fingerprint));
        const vanished = before.filter(
          (f) => inScope(scope, f.resource) && !currentPrints.has(f.fingerprint),
        );
        const total = Object.values(drift.counts).reduce((a, b) => a + b, 0);
        expect(total).toBe(inCurrent.length + vanished.length);
        const listed = CHANGE_KINDS.flatMap((k) => drift.changes[k].map((e) => e.fingerprint));
        expect(new Set(listed).size).toBe(listed.length);
        expect(drift.changes.gone.map((e) => e.fingerprint).sort()).toEqual(
          vanished.map((f) => f.fingerprint).sort(),
        );
        for (const entry of CHANGE_KINDS.flatMap((k) => drift.changes[k]))
          expect(entry.current?.suppression?.active).not.toBe(true);
      }),
    );
  });

  it('streamed drift (stored NDJSON lines) agrees with the in-memory drift on every random pair', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbitraryScan,
        arbitraryScan,
        arbitraryScope,
        async (before, after, scope) => {
          // Prepare
          const lines = (list: Finding[]) =>
            async function* () {
              yield list.map((f) => JSON.stringify(f));
            };
          const firstSeen = new Map(
            before.slice(0, 3).map((f) => [f.fingerprint, '2026-09-01T00:00:00Z']),
          );

          // Act
          const memory = diffScans(
            { ...scan('p', '2026-10-31T00:00:00Z', before), firstSeen },
            scan('c', '2026-11-01T00:00:00Z', after),
            scope,
          );
          const streamed = await diffFindingStreams(
            { scanId: 'p', scanTime: '2026-10-31T00:00:00Z', lines: lines(before), firstSeen },
            { scanId: 'c', scanTime: '2026-11-01T00:00:00Z', lines: lines(after) },
            scope,
          );

          // Assess
          expect(streamed.counts).toEqual(memory.counts);
          const shape = (d: typeof memory) =>
            CHANGE_KINDS.flatMap((k) =>
              d.changes[k].map((e) => ({
                kind: e.kind,
                fingerprint: e.fingerprint,
                firstSeen: e.firstSeen,
                failingSince: e.failingSince,
                lastSeen: e.lastSeen,
                current: e.current,
                previousStatus: e.previous?.status,
                previousSeverity: e.previous?.severity,
              })),
            ).sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1));
          expect(shape(streamed)).toEqual(shape(memory));

          for (const gone of streamed.changes.gone)
            expect(gone.previous).toEqual(before.find((f) => f.fingerprint === gone.fingerprint));
        },
      ),
    );
  });

  it('keeps firstSeen stable over any sequence of scans while the finding keeps failing', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom<Status>('PASS', 'FAIL', 'ERROR'), { minLength: 2, maxLength: 12 }),
        (statuses) => {
          // Prepare
          const scans = statuses.map((status, i) =>
            scan(`s${i}`, `2026-10-${String(i + 1).padStart(2, '0')}T06:00:00.000Z`, [
              finding('tls', 'b', status),
            ]),
          );

          // Act: each comparison hands its firstSeen on, as a scheduled audit would.
          let known = new Map<string, string>();
          const seen: (string | undefined)[] = [];
          for (let i = 1; i < scans.length; i++) {
            const drift = diffScans({ ...scans[i - 1]!, firstSeen: known }, scans[i]!, WHOLE);
            known = firstSeenOf(drift);
            const entry = CHANGE_KINDS.flatMap((k) => drift.changes[k]).find((e) => e.current);
            seen.push(entry?.firstSeen);
          }

          // Assess: the first scan of the current unbroken run of FAILs.
          for (let i = 1; i < scans.length; i++) {
            if (statuses[i] !== 'FAIL') continue;
            let start = i;
            while (start > 0 && statuses[start - 1] === 'FAIL') start -= 1;
            expect(seen[i - 1]).toBe(scans[start]!.scanTime);
          }
        },
      ),
    );
  });

  it('names every kind a finding can land in', () => {
    const all: DriftKind[] = [...CHANGE_KINDS, 'unchanged', 'suppressed'];
    expect(
      Object.keys(diffScans(scan('p', 't', []), scan('c', 't', []), WHOLE).counts).sort(),
    ).toEqual(all.sort());
  });
});

describe('peekFinding: the fields drift needs, without parsing the line whole', () => {
  it('is not fooled by text that looks like keys, nor by nested keys in details', () => {
    // Prepare: every string field tries to impersonate the structure.
    const hostile: Finding = {
      ...finding('tls', 'b', 'FAIL', { severity: 'critical', region: 'eu-west-1' }),
      title: '","status":"PASS","severity":"low',
      message: '"name":"other","region":"us-east-1","fingerprint":"0000"',
      details: {
        status: 'PASS',
        resource: { name: 'x', region: 'y', account: 'z' },
        fingerprint: 'f',
      },
    };

    // Act
    const peeked = peekFinding(JSON.stringify(hostile));

    // Assess
    expect(peeked).toEqual({
      fingerprint: hostile.fingerprint,
      ruleId: 'tls',
      status: 'FAIL',
      severity: 'critical',
      suppressed: false,
      resource: { type: 'AWS::S3::Bucket', account: ACCOUNT, region: 'eu-west-1', name: 'b' },
    });
  });

  it('reads an active suppression, and parses a line in any other key order instead of guessing', () => {
    // Prepare
    const suppressed = finding('tls', 'b', 'FAIL', { suppressed: true });
    const { details, ...rest } = suppressed;
    const reordered = JSON.stringify({ details: { status: 'PASS' }, ...rest });

    // Act & Assess
    expect(peekFinding(JSON.stringify(suppressed)).suppressed).toBe(true);
    expect(peekFinding(reordered)).toMatchObject({ status: 'FAIL', suppressed: true });
  });

  it('the engine writes findings in the key order peekFinding relies on', () => {
    // Prepare
    const evidence = scanEvidence([bucketEvidence('b1')]);

    // Act
    const { findings } = evaluateScan(evidence);

    // Assess
    const keys = Object.keys(findings[0]!);
    expect(keys.slice(0, 9)).toEqual([
      'ruleId',
      'title',
      'status',
      'severity',
      'resource',
      'message',
      'details',
      'evidenceRef',
      'fingerprint',
    ]);
    expect(Object.keys(findings[0]!.resource)).toEqual([
      'arn',
      'type',
      'name',
      'region',
      'account',
    ]);
    // After the fingerprint: the suppression, if any, then the assurance, last.
    for (const f of findings) expect(Object.keys(f).slice(9)).toEqual(['assurance']);
  });

  it('reads every line the engine writes without parsing it: suppressed, sampled, inventoried and plain', () => {
    // Prepare: a suppressed finding and the assurance kinds, as the engine writes them.
    const evidence = scanEvidence([
      bucketEvidence('plain'),
      bucketEvidence('sampled', {
        objects: objectScan({ mode: 'sample', listed: 5_000, classified: 100 }),
      }),
      bucketEvidence('inventoried', {
        objects: objectScan({
          mode: 'inventory',
          inventory: {
            configurationId: 'daily',
            manifest: 's3://inv/m.json',
            createdAt: '2026-10-31T01:00:00.000Z',
            fileFormat: 'CSV',
            files: 1,
          },
        }),
      }),
    ]);
    const { findings } = evaluateScan(evidence, {
      ...DEFAULT_EVALUATION_CONFIG,
      suppressions: [
        {
          rule: 's3-bucket-tls-enforced',
          resource: 'plain',
          reason: 'a "quoted" reason }',
          expires: '2099-01-01',
        },
      ],
    });
    const parse = vi.spyOn(JSON, 'parse');

    // Act
    const peeked = findings.map((f) => peekFinding(JSON.stringify(f)));

    // Assess
    expect(parse).not.toHaveBeenCalled();
    parse.mockRestore();
    expect(peeked.map((p) => p.suppressed)).toEqual(
      findings.map((f) => f.suppression?.active === true),
    );
    expect(peeked.some((p) => p.suppressed)).toBe(true);
    expect(new Set(findings.map((f) => f.assurance?.kind))).toEqual(
      new Set(['complete', 'sample', 'inventory', 'none']),
    );
  });
});
