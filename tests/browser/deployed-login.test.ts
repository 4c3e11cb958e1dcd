import { execSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardHandler } from '../../functions/dashboard-api.js';
import { LocalReportStore } from '../../lib/report-store/local.js';
import { isolatedHome, startCli } from '../helpers/cli.js';

/**
 * The deployed page's login in real Chromium: the page served as CloudFront serves it (its
 * files, config.json, the stack's CSP), an identity provider on 127.0.0.1 that checks PKCE as
 * Cognito does, and /api/* answered by the real Lambda handler behind a bearer-token check (the
 * HTTP API's JWT authorizer).
 */
const executable = (() => {
  try {
    return execSync('command -v chromium', { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
})();

const listen = (server: Server) =>
  new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
const bodyOf = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let text = '';
    req.on('data', (c) => {
      text += c;
    });
    req.on('end', () => resolve(text));
  });
const b64url = (bytes: Buffer) => bytes.toString('base64url');

describe.skipIf(!executable)('the deployed page logs in with PKCE', () => {
  let browser: Browser;
  let page: string;
  let idp: string;
  const servers: Server[] = [];
  const issued = new Set<string>();
  const apiAuth: string[] = [];
  const tokenRequests: URLSearchParams[] = [];
  const challenges = new Map<string, string>();
  let summary: { byStatus: { FAIL: number } };

  beforeAll(async () => {
    const home = isolatedHome();
    const storeDir = join(home, 'reports');
    expect((await startCli(['demo', '--no-serve', '--store', storeDir], {}, home).done).code).toBe(
      0,
    );
    const store = new LocalReportStore(storeDir);
    const latest = (await store.readIndex())?.latest ?? '';
    summary = await store.readSummary(latest);
    const lambda = dashboardHandler(() => store);

    // The identity provider: /oauth2/authorize redirects back with a code bound to the
    // challenge; /oauth2/token gives a token only for the verifier of that challenge.
    const idpServer = createServer(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://idp');
      if (url.pathname === '/oauth2/authorize') {
        const q = url.searchParams;
        if (
          q.get('response_type') !== 'code' ||
          q.get('client_id') !== 'page-client' ||
          q.get('code_challenge_method') !== 'S256' ||
          q.get('redirect_uri') !== `${page}/`
        )
          return res.writeHead(400).end('bad authorize request');
        const code = b64url(randomBytes(16));
        challenges.set(code, q.get('code_challenge') ?? '');
        res.writeHead(302, {
          location: `${q.get('redirect_uri')}?${new URLSearchParams({ code, state: q.get('state') ?? '' })}`,
        });
        return res.end();
      }
      if (url.pathname === '/oauth2/token' && req.method === 'POST') {
        const form = new URLSearchParams(await bodyOf(req));
        tokenRequests.push(form);
        const challenge = challenges.get(form.get('code') ?? '');
        challenges.delete(form.get('code') ?? '');
        const proof = b64url(
          createHash('sha256')
            .update(form.get('code_verifier') ?? '')
            .digest(),
        );
        const cors = { 'access-control-allow-origin': page, 'content-type': 'application/json' };
        if (!challenge || proof !== challenge || form.get('client_id') !== 'page-client')
          return res.writeHead(400, cors).end('{"error":"invalid_grant"}');
        const token = b64url(randomBytes(24));
        issued.add(token);
        return res
          .writeHead(200, cors)
          .end(JSON.stringify({ access_token: token, expires_in: 3600, token_type: 'Bearer' }));
      }
      res.writeHead(404).end();
    });
    idp = await listen(idpServer);
    servers.push(idpServer);

    // The page's origin, as CloudFront serves it: files, config.json, headers, /api/*.
    const web = join(process.cwd(), 'dist', 'web');
    const csp = `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ${idp}/oauth2/token; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`;
    const pageServer = createServer(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://page');
      const headers = { 'content-security-policy': csp, 'cache-control': 'no-store' };
      if (url.pathname.startsWith('/api/')) {
        const auth = String(req.headers.authorization ?? '');
        apiAuth.push(auth);
        if (!issued.has(auth.replace(/^Bearer /, '')))
          return res.writeHead(401, headers).end('{"message":"Unauthorized"}');
        const path = url.pathname.slice(4);
        const segments = path.split('/');
        const routeKey =
          path === '/scans' ? '/scans' : `/scans/{id}/${segments.slice(3).join('/')}`;
        const answer = (await lambda(
          {
            version: '2.0',
            routeKey: `GET ${routeKey}`,
            rawPath: path,
            rawQueryString: url.search.slice(1),
            headers: { authorization: auth },
            queryStringParameters: url.search ? Object.fromEntries(url.searchParams) : undefined,
            pathParameters: segments[2] ? { id: decodeURIComponent(segments[2]) } : {},
            requestContext: { http: { method: 'GET', path }, routeKey: `GET ${routeKey}` },
            isBase64Encoded: false,
          } as unknown as APIGatewayProxyEventV2,
          { getRemainingTimeInMillis: () => 10_000, awsRequestId: 'r' } as never,
        )) as { statusCode: number; body: string; headers?: Record<string, string> };
        return res.writeHead(answer.statusCode, { ...headers, ...answer.headers }).end(answer.body);
      }
      if (url.pathname === '/config.json')
        return res.writeHead(200, { ...headers, 'content-type': 'application/json' }).end(
          JSON.stringify({
            api: '/api',
            auth: {
              authorizeUrl: `${idp}/oauth2/authorize`,
              tokenUrl: `${idp}/oauth2/token`,
              clientId: 'page-client',
              redirectUri: `${page}/`,
              scopes: ['openid', 'email'],
            },
          }),
        );
      const file = { '/': 'index.html', '/app.js': 'app.js', '/app.css': 'app.css' }[url.pathname];
      if (!file) return res.writeHead(404, headers).end();
      const type = file.endsWith('.html')
        ? 'text/html'
        : file.endsWith('.js')
          ? 'text/javascript'
          : 'text/css';
      res.writeHead(200, { ...headers, 'content-type': type }).end(readFileSync(join(web, file)));
    });
    page = await listen(pageServer);
    servers.push(pageServer);
    browser = await chromium.launch({
      executablePath: executable,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    for (const server of servers) server.close();
  });

  it('logs in (code + verifier), calls the API with the bearer token, and keeps the view', async () => {
    // Prepare
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const tab = await context.newPage();

    // Act: a shared view opened by someone not yet logged in.
    await tab.goto(`${page}/#status=FAIL`);
    await tab.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });

    // Assess
    expect(tokenRequests).toHaveLength(1);
    expect(tokenRequests[0]?.get('grant_type')).toBe('authorization_code');
    expect(tokenRequests[0]?.get('code_verifier')?.length).toBeGreaterThanOrEqual(43);
    expect(apiAuth.length).toBeGreaterThan(0);
    expect(apiAuth.every((a) => a.startsWith('Bearer ') && issued.has(a.slice(7)))).toBe(true);
    expect(new URL(tab.url()).search).toBe('');
    expect(new URL(tab.url()).hash).toContain('status=FAIL');
    expect(await tab.locator('#posture div[data-label="FAIL"] dd').textContent()).toBe(
      summary.byStatus.FAIL.toLocaleString('en'),
    );
    await tab.screenshot({ path: join(process.cwd(), 'test-artifacts', 'dashboard-deployed.png') });
    await context.close();
  }, 60_000);

  it('refuses a login answer it did not ask for (wrong state): no token is fetched', async () => {
    // Prepare
    const context = await browser.newContext();
    const tab = await context.newPage();
    const before = tokenRequests.length;

    // Act: an attacker's link carrying their own code.
    await tab.goto(`${page}/?code=attacker-code&state=forged`);
    await tab.waitForSelector('body[data-ready="error"]', { timeout: 20_000 });

    // Assess
    expect(await tab.textContent('#scan')).toMatch(/does not match a login this tab started/);
    expect(tokenRequests.length).toBe(before);
    await context.close();
  }, 60_000);
});
