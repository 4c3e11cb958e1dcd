import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { dashboardHandler } from '../../../functions/dashboard-api.js';
import { LocalReportStore } from '../../../lib/report-store/local.js';
import { evaluateScan } from '../../../lib/scan/evaluate-scan.js';
import { bucketEvidence, scanEvidence, tlsPolicy } from '../../helpers/evidence.js';

const root = mkdtempSync(join(tmpdir(), 's3scan-dashboard-'));
const store = new LocalReportStore(root);
const handler = dashboardHandler(() => store);

function request(
  method: string,
  path: string,
  query: Record<string, string> = {},
  pathParameters: Record<string, string> = {},
) {
  const event = {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: new URLSearchParams(query).toString(),
    headers: { Authorization: 'Bearer token' },
    queryStringParameters: Object.keys(query).length ? query : undefined,
    pathParameters,
    requestContext: { http: { method, path }, routeKey: `${method} ${path}` },
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
  return handler(event, {
    getRemainingTimeInMillis: () => 10_000,
    functionName: 'dashboard-api',
    awsRequestId: 'r',
  } as never) as Promise<{ statusCode: number; body: string }>;
}

describe('Dashboard API', () => {
  beforeAll(async () => {
    for (const [i, scanId] of ['scan-a', 'scan-b', 'scan-c'].entries()) {
      const evidence = {
        ...scanEvidence([
          bucketEvidence('b1'),
          bucketEvidence('b2', { policy: { ok: tlsPolicy('b2') } }),
        ]),
        scanId,
        scanTime: `2026-11-0${i + 1}T06:00:00.000Z`,
      };
      const { findings, summary } = evaluateScan(evidence);
      await store.writeScan({
        summary: { schemaVersion: '1', source: 'scan', ...summary },
        findings,
        evidence,
      });
    }
  });

  it('lists scans newest first, paginated with an opaque cursor', async () => {
    // Act
    const first = await request('GET', '/scans', { limit: '2' });
    const body = JSON.parse(first.body);
    const second = JSON.parse(
      (await request('GET', '/scans', { limit: '2', cursor: body.nextCursor })).body,
    );

    // Assess
    expect(first.statusCode).toBe(200);
    expect(body.latest).toBe('scan-c');
    expect(body.scans.map((s: { scanId: string }) => s.scanId)).toEqual(['scan-c', 'scan-b']);
    expect(second.scans.map((s: { scanId: string }) => s.scanId)).toEqual(['scan-a']);
    expect(second.nextCursor).toBeUndefined();
  });

  it('opens on the newest scan of the whole account: a later scan of a subset is listed, never shown as latest', async () => {
    // Prepare: a store of its own, a full scan and then a scan of one bucket.
    const subsetStore = new LocalReportStore(mkdtempSync(join(tmpdir(), 's3scan-subset-')));
    const subsetHandler = dashboardHandler(() => subsetStore);
    for (const [scanId, scanTime, buckets] of [
      ['full-1', '2026-11-01T06:00:00.000Z', []],
      ['subset-1', '2026-11-02T06:00:00.000Z', ['b1']],
    ] as const) {
      const evidence = {
        ...scanEvidence([bucketEvidence('b1'), bucketEvidence('b2')]),
        scanId,
        scanTime,
      };
      const { findings, summary } = evaluateScan(evidence);
      await subsetStore.writeScan({
        summary: {
          schemaVersion: '1',
          source: 'scan',
          ...summary,
          scope: { buckets: [...buckets], regions: [] },
        },
        findings,
        evidence,
      });
    }
    const ask = (path: string, pathParameters: Record<string, string> = {}) =>
      subsetHandler(
        {
          version: '2.0',
          routeKey: `GET ${path}`,
          rawPath: path,
          rawQueryString: '',
          headers: {},
          pathParameters,
          requestContext: { http: { method: 'GET', path }, routeKey: `GET ${path}` },
          isBase64Encoded: false,
        } as unknown as APIGatewayProxyEventV2,
        { getRemainingTimeInMillis: () => 10_000 } as never,
      ) as Promise<{ statusCode: number; body: string }>;

    // Act
    const list = JSON.parse((await ask('/scans')).body);
    const summary = JSON.parse((await ask('/scans/{id}/summary', { id: 'latest' })).body);

    // Assess
    expect((await subsetStore.readIndex())?.latest).toBe('subset-1');
    expect(list.latest).toBe('full-1');
    expect(list.scans.map((s: { scanId: string }) => s.scanId)).toEqual(['subset-1', 'full-1']);
    expect(list.scans[0].scope).toEqual({ buckets: ['b1'], regions: [] });
    expect(summary.scanId).toBe('full-1');
  });

  it('answers a summary, latest included', async () => {
    const response = await request('GET', '/scans/{id}/summary', {}, { id: 'latest' });
    expect(JSON.parse(response.body)).toMatchObject({ scanId: 'scan-c', buckets: 2 });
  });

  it('answers a summary from summary.json alone: the findings file is not read', async () => {
    // Prepare: scan-a's findings (the file and the index's pages) are unreadable for the
    // length of this test.
    const files = ['findings.ndjson.gz', 'view/pages.bin'].map((name) =>
      join(store.describe('scan-a'), name),
    );
    const bytes = files.map((file) => readFileSync(file));
    for (const file of files) writeFileSync(file, 'not gzip');

    // Act
    const summary = await request('GET', '/scans/{id}/summary', {}, { id: 'scan-a' });
    const findings = await request('GET', '/scans/{id}/findings', {}, { id: 'scan-a' });
    for (const [i, file] of files.entries()) writeFileSync(file, bytes[i] as Buffer);

    // Assess
    expect(summary.statusCode).toBe(200);
    expect(JSON.parse(summary.body)).toMatchObject({ scanId: 'scan-a' });
    expect(findings.statusCode).toBe(500);
  });

  it('filters findings by status, severity, rule and bucket', async () => {
    // Act
    const response = await request(
      'GET',
      '/scans/{id}/findings',
      { status: 'FAIL', severity: 'high,critical', bucket: 'b1' },
      { id: 'scan-b' },
    );
    const body = JSON.parse(response.body);

    // Assess: exactly the stored findings that meet every filter, no more, no fewer.
    const stored = (await store.readScan('scan-b')).findings;
    const expected = stored.filter(
      (f) =>
        f.status === 'FAIL' &&
        ['high', 'critical'].includes(f.severity) &&
        f.resource.name === 'b1',
    );
    expect(expected.length).toBeGreaterThan(1);
    expect(expected.length).toBeLessThan(stored.length / 2);
    expect(body.total).toBe(expected.length);
    expect(body.findings.map((f: { fingerprint: string }) => f.fingerprint).sort()).toEqual(
      expected.map((f) => f.fingerprint).sort(),
    );
    const byRule = JSON.parse(
      (
        await request(
          'GET',
          '/scans/{id}/findings',
          { rule: 's3-bucket-tls-enforced' },
          { id: 'scan-b' },
        )
      ).body,
    );
    expect(
      byRule.findings.map((f: { resource: { name: string }; status: string }) => [
        f.resource.name,
        f.status,
      ]),
    ).toEqual([
      ['b1', 'FAIL'],
      ['b2', 'PASS'],
    ]);
  });

  it('searches free text in bucket, rule and message, case-insensitively, with the other filters', async () => {
    // Act
    const byBucket = JSON.parse(
      (
        await request(
          'GET',
          '/scans/{id}/findings',
          { q: 'B2', status: 'PASS,FAIL' },
          { id: 'scan-b' },
        )
      ).body,
    );
    const byRule = JSON.parse(
      (await request('GET', '/scans/{id}/findings', { q: 'tls-enforced' }, { id: 'scan-b' })).body,
    );

    // Assess
    expect(byBucket.total).toBeGreaterThan(0);
    expect(
      byBucket.findings.every((f: { resource: { name: string } }) => f.resource.name === 'b2'),
    ).toBe(true);
    expect(byRule.findings.map((f: { ruleId: string }) => f.ruleId)).toEqual([
      's3-bucket-tls-enforced',
      's3-bucket-tls-enforced',
    ]);
  });

  it.each([
    [{ q: 'x'.repeat(201) }, /q must be at most 200 characters/],
    [{ status: 'BROKEN' }, /status must be one or more of PASS, FAIL, ERROR, SKIPPED; got BROKEN/],
    [{ limit: '0' }, /limit must be an integer from 1 to 500/],
    [{ cursor: '!!!' }, /cursor is not one this API returned/],
  ])('answers 400 with the reason for %j', async (query, message) => {
    const response = await request('GET', '/scans/{id}/findings', query, { id: 'scan-a' });
    expect(response.statusCode).toBe(400);
    expect(response.body).toMatch(message);
  });

  it('answers 404 for an unknown scan or route', async () => {
    expect((await request('GET', '/scans/{id}/summary', {}, { id: 'nope' })).statusCode).toBe(404);
    expect((await request('GET', '/admin', {})).statusCode).toBe(404);
  });

  it('says what to run when the store holds no scans yet', async () => {
    // Prepare
    const empty = new LocalReportStore(mkdtempSync(join(tmpdir(), 's3scan-empty-')));
    const emptyHandler = dashboardHandler(() => empty);

    // Act
    const answer = (await emptyHandler(
      {
        version: '2.0',
        routeKey: 'GET /scans/{id}/overview',
        rawPath: '/scans/latest/overview',
        rawQueryString: '',
        headers: { Authorization: 'Bearer token' },
        pathParameters: { id: 'latest' },
        requestContext: {
          http: { method: 'GET', path: '/scans/latest/overview' },
          routeKey: 'GET /scans/{id}/overview',
        },
        isBase64Encoded: false,
      } as unknown as APIGatewayProxyEventV2,
      {
        getRemainingTimeInMillis: () => 10_000,
        functionName: 'dashboard-api',
        awsRequestId: 'r',
      } as never,
    )) as { statusCode: number; body: string };

    // Assess
    expect(answer.statusCode).toBe(404);
    expect(answer.body).toMatch(
      /this store holds no scans yet .*run s3scan scan --store .*npm start for the demo account/,
    );
    expect(JSON.parse(answer.body)).toMatchObject({
      problem: 'no-scans',
      fix: `s3scan scan --store ${empty.describe()}`,
    });
  });

  it.each([
    {
      what: 'a folder that is not a store',
      prepare: (root: string) => writeFileSync(join(root, 'holiday.jpg'), 'x'),
      status: 404,
      problem: 'not-a-store',
      message: /is not an s3scan report store: it has no index\.json, and it holds "holiday\.jpg"/,
      fix: () => 's3scan dashboard --store s3scan-reports',
    },
    {
      what: 'a store whose index.json is not JSON',
      prepare: (root: string) => writeFileSync(join(root, 'index.json'), '{"latest": "a", "sc'),
      status: 500,
      problem: 'store-unreadable',
      message: /index\.json is corrupt: not valid JSON/,
      fix: (root: string) => `s3scan verify --store ${root}`,
    },
  ])('names the state of $what and the command that fixes it', async (c) => {
    // Prepare
    const root = mkdtempSync(join(tmpdir(), 's3scan-state-'));
    c.prepare(root);
    const other = dashboardHandler(() => new LocalReportStore(root));

    // Act
    const answer = (await other(
      {
        version: '2.0',
        routeKey: 'GET /scans',
        rawPath: '/scans/latest/findings',
        rawQueryString: '',
        headers: {},
        pathParameters: { id: 'latest' },
        requestContext: {
          http: { method: 'GET', path: '/scans/latest/findings' },
          routeKey: 'GET /scans/{id}/findings',
        },
        isBase64Encoded: false,
      } as unknown as APIGatewayProxyEventV2,
      { getRemainingTimeInMillis: () => 10_000, functionName: 'f', awsRequestId: 'r' } as never,
    )) as { statusCode: number; body: string };

    // Assess: the message names the file, never its content.
    expect(answer.statusCode).toBe(c.status);
    const body = JSON.parse(answer.body) as { message: string; problem: string; fix: string };
    expect(body.message).toMatch(c.message);
    expect(body.message).not.toContain('"sc');
    expect(body).toMatchObject({ problem: c.problem, fix: c.fix(root) });
  });
});
