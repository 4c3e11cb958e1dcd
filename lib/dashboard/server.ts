import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import type { ReportStore } from '../report-store/types.js';
import { type DashboardEvent, dashboardRouter } from './routes.js';

/** The page's files: nothing else is served, so no path can reach outside `webRoot`. */
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

/**
 * Headers of every answer: the page runs only its own script and style (no inline code), in
 * no frame, and sends no referrer; nothing is cached.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'cross-origin-opener-policy': 'same-origin',
};

/** A running local dashboard. */
export interface DashboardServer {
  /** The URL to open, with the access token: `http://127.0.0.1:PORT/?token=…`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function send(
  res: ServerResponse,
  status: number,
  body: string | Buffer,
  type = 'text/plain; charset=utf-8',
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, ...extra });
  res.end(body);
}

/**
 * The API Gateway v2 event of a local API request, as the HTTP API would send it: path
 * parameters arrive decoded (a bucket name, a scan id), so the path is matched decoded, one
 * segment at a time. `malformed` for a bad escape; undefined for a segment holding an escaped
 * slash, which no route matches.
 */
function apiEvent(url: URL): DashboardEvent | 'malformed' | undefined {
  let segments: string[];
  try {
    segments = url.pathname.slice(4).split('/').map(decodeURIComponent);
  } catch {
    return 'malformed';
  }
  if (segments.some((segment) => segment.includes('/'))) return undefined;
  const path = segments.join('/');
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: url.search.slice(1),
    headers: {},
    queryStringParameters: Object.fromEntries(url.searchParams),
    requestContext: { http: { method: 'GET', path } },
    isBase64Encoded: false,
  } as unknown as DashboardEvent;
}

/**
 * The dashboard on this machine: the page and the same API routes the Lambda serves, over a
 * local store, on 127.0.0.1 only. Every API request needs the per-run token: the printed URL
 * carries it once, the page moves it into its origin's localStorage (bound to this port, so
 * two dashboards never share or overwrite it and no other local server sees it) and out of
 * the address bar, and sends it as `Authorization: Bearer`. The page itself holds no data.
 * A Host header other than this address is refused, so a web page that rebinds its DNS name
 * to 127.0.0.1 cannot read the findings either; a cross-site request cannot set the header.
 */
export async function startDashboardServer(options: {
  store: ReportStore;
  webRoot: string;
  port?: number;
  token?: string;
}): Promise<DashboardServer> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const router = dashboardRouter(() => options.store);
  let port = 0;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const host = req.headers.host ?? '';
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`)
      return send(res, 421, 'This dashboard answers only at its own address.\n');
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return send(res, 405, 'Only GET.\n', undefined, { allow: 'GET, HEAD' });
    const url = new URL(req.url ?? '/', `http://${host}`);
    if (url.pathname.startsWith('/api/')) {
      // The token comes as a header the page sets from its own origin's storage: no cookie,
      // which every server on 127.0.0.1 would receive, whatever its port.
      const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!bearer || !same(bearer, token))
        return send(
          res,
          401,
          JSON.stringify({
            message:
              'This dashboard needs its access token: open the URL s3scan printed (Dashboard: http://127.0.0.1:…/?token=…).',
          }),
          'application/json',
        );
      const event = apiEvent(url);
      if (event === 'malformed')
        return send(res, 400, JSON.stringify({ message: 'malformed path' }), 'application/json');
      // An escaped slash inside a segment: no route's parameter holds one (API Gateway would
      // hand it to the route as a scan id or bucket name that does not exist).
      if (!event)
        return send(res, 404, JSON.stringify({ message: 'no such route' }), 'application/json');
      try {
        const answer = (await router(event, {} as Context)) as {
          statusCode: number;
          body: string;
          headers?: Record<string, string>;
        };
        const { 'content-type': type = 'application/json', ...headers } = answer.headers ?? {};
        return send(res, answer.statusCode, answer.body, type, headers);
      } catch (error) {
        const { statusCode: status, expose } = error as { statusCode?: number; expose?: boolean };
        if (status === 404)
          return send(res, 404, JSON.stringify({ message: 'no such route' }), 'application/json');
        // Client mistakes and a changed store say what was wrong; anything else is a plain 500.
        if (status && (status < 500 || expose))
          return send(
            res,
            status,
            JSON.stringify({ message: (error as Error).message }),
            'application/json',
          );
        return send(res, 500, JSON.stringify({ message: 'internal error' }), 'application/json');
      }
    }
    const asset = STATIC[url.pathname];
    if (!asset) return send(res, 404, 'Not found.\n');
    try {
      return send(res, 200, await readFile(join(options.webRoot, asset.file)), asset.type);
    } catch {
      return send(res, 500, `The page is not built (${asset.file}); run npm run build.\n`);
    }
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'internal error\n');
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
