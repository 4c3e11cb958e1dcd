import { mkdtempSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DashboardServer, startDashboardServer } from '../../../lib/dashboard/server.js';
import { LocalReportStore } from '../../../lib/report-store/local.js';
import { evaluateScan } from '../../../lib/scan/evaluate-scan.js';
import { bucketEvidence, scanEvidence } from '../../helpers/evidence.js';

/** A raw GET, so the Host and other headers are exactly what the test says. */
function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method, headers: { host: `127.0.0.1:${port}`, ...headers } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString('utf8');
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('the local dashboard server', () => {
  let server: DashboardServer;
  let token: string;
  let auth: Record<string, string>;

  beforeAll(async () => {
    const store = new LocalReportStore(mkdtempSync(join(tmpdir(), 's3scan-dash-')));
    const evidence = { ...scanEvidence([bucketEvidence('b1')]), scanId: 'scan-1' };
    const { findings, summary } = evaluateScan(evidence);
    await store.writeScan({
      summary: { schemaVersion: '1', source: 'scan', ...summary },
      findings,
      evidence,
    });
    const webRoot = mkdtempSync(join(tmpdir(), 's3scan-web-'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>t</title>');
    server = await startDashboardServer({ store, webRoot });
    token = new URL(server.url).searchParams.get('token') ?? '';
    auth = { authorization: `Bearer ${token}` };
  });
  afterAll(async () => {
    await server.close();
  });

  it('listens on 127.0.0.1 and prints a URL with a random token', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
  });

  it('answers the API 401 without its token, or with it as a cookie', async () => {
    // Act
    const api = await get(server.port, '/api/scans');
    const wrong = await get(server.port, '/api/scans', { authorization: 'Bearer guess' });
    const asCookie = await get(server.port, '/api/scans', { cookie: `s3scan_token=${token}` });

    // Assess
    expect([api.status, wrong.status, asCookie.status]).toEqual([401, 401, 401]);
    expect(JSON.parse(api.body).message).toMatch(/needs its access token/);
    expect(api.body).not.toContain('scan-1');
  });

  it('serves the page (no data in it) with the token in the URL, and sets no cookie', async () => {
    // Act
    const answer = await get(server.port, `/?token=${token}`);
    const bare = await get(server.port, '/');

    // Assess: the page moves the token into its origin's storage; no server sends a cookie.
    expect(answer.status).toBe(200);
    expect(bare.status).toBe(200);
    expect(answer.headers['set-cookie']).toBeUndefined();
    expect(bare.body).not.toContain('scan-1');
  });

  it('serves the same API as the Lambda with the bearer token, and its 4xx messages', async () => {
    // Act
    const scans = await get(server.port, '/api/scans', auth);
    const summary = await get(server.port, '/api/scans/latest/summary', auth);
    const badLimit = await get(server.port, '/api/scans/latest/findings?limit=100000', auth);
    const unknown = await get(server.port, '/api/scans/..%2F..%2Fetc/summary', auth);

    // Assess
    expect(JSON.parse(scans.body).latest).toBe('scan-1');
    expect(JSON.parse(summary.body)).toMatchObject({ scanId: 'scan-1', buckets: 1 });
    expect(badLimit.status).toBe(400);
    expect(JSON.parse(badLimit.body).message).toMatch(/limit must be an integer from 1 to 500/);
    expect(unknown.status).toBe(404);
  });

  it('sends a CSP without unsafe-inline, no framing, and no caching', async () => {
    // Act
    const page = await get(server.port, '/');

    // Assess
    expect(page.status).toBe(200);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers['cache-control']).toBe('no-store');
  });

  it('refuses another Host (DNS rebinding), other methods, and any path but its own files', async () => {
    // Act
    const rebound = await get(server.port, '/api/scans', { ...auth, host: 'evil.example:80' });
    const post = await get(server.port, '/api/scans', auth, 'POST');
    const traversal = await get(server.port, '/../package.json', auth);
    const other = await get(server.port, '/index.html.map', auth);

    // Assess
    expect(rebound.status).toBe(421);
    expect(post.status).toBe(405);
    expect(traversal.status).toBe(404);
    expect(other.status).toBe(404);
  });
});
