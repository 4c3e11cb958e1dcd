import { mkdtempSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DashboardServer, startDashboardServer } from '../../../lib/dashboard/server.js';
import { LocalReportStore } from '../../../lib/report-store/local.js';
import { evaluateScan } from '../../../lib/scan/evaluate-scan.js';
import { bucketEvidence, scanEvidence } from '../../helpers/evidence.js';

/** A raw GET, so the Host header and cookies are exactly what the test says. */
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
  let cookie: string;

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
    cookie = `s3scan_token=${token}`;
  });
  afterAll(async () => {
    await server.close();
  });

  it('listens on 127.0.0.1 and prints a URL with a random token', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
  });

  it('answers 401 without the token, for the page and the API alike', async () => {
    // Act
    const page = await get(server.port, '/');
    const api = await get(server.port, '/api/scans');
    const wrong = await get(server.port, '/api/scans', { cookie: 's3scan_token=guess' });

    // Assess
    expect([page.status, api.status, wrong.status]).toEqual([401, 401, 401]);
    expect(api.body).not.toContain('scan-1');
  });

  it('moves the token from the URL into an HttpOnly SameSite=Strict cookie', async () => {
    // Act
    const answer = await get(server.port, `/?token=${token}`);

    // Assess
    expect(answer.status).toBe(303);
    expect(answer.headers.location).toBe('/');
    expect(String(answer.headers['set-cookie'])).toBe(
      `s3scan_token=${token}; HttpOnly; SameSite=Strict; Path=/`,
    );
  });

  it('serves the same API as the Lambda with the cookie, and its 4xx messages', async () => {
    // Act
    const scans = await get(server.port, '/api/scans', { cookie });
    const summary = await get(server.port, '/api/scans/latest/summary', { cookie });
    const badLimit = await get(server.port, '/api/scans/latest/findings?limit=100000', { cookie });
    const unknown = await get(server.port, '/api/scans/..%2F..%2Fetc/summary', { cookie });

    // Assess
    expect(JSON.parse(scans.body).latest).toBe('scan-1');
    expect(JSON.parse(summary.body)).toMatchObject({ scanId: 'scan-1', buckets: 1 });
    expect(badLimit.status).toBe(400);
    expect(JSON.parse(badLimit.body).message).toMatch(/limit must be an integer from 1 to 500/);
    expect(unknown.status).toBe(404);
  });

  it('sends a CSP without unsafe-inline, no framing, and no caching', async () => {
    // Act
    const page = await get(server.port, '/', { cookie });

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
    const rebound = await get(server.port, '/api/scans', { cookie, host: 'evil.example:80' });
    const post = await get(server.port, '/api/scans', { cookie }, 'POST');
    const traversal = await get(server.port, '/../package.json', { cookie });
    const other = await get(server.port, '/index.html.map', { cookie });

    // Assess
    expect(rebound.status).toBe(421);
    expect(post.status).toBe(405);
    expect(traversal.status).toBe(404);
    expect(other.status).toBe(404);
  });
});
