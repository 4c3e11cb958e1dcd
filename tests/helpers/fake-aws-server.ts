import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the fake AWS endpoint saw it. */
export interface SeenRequest {
  method: string;
  /** Path without the query, e.g. `/my-bucket`. */
  path: string;
  /** The request target exactly as sent (percent-encoding and dot segments untouched). */
  rawUrl: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
  /** The region from the SigV4 credential scope (`Credential=AKID/date/REGION/service/...`). */
  region: string;
  service: string;
}

/** What to answer: status, headers, body; or a fault (`hang` never answers, `reset` drops the connection). */
export interface FakeResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  fault?: 'hang' | 'reset';
}

export type FakeHandler = (request: SeenRequest) => FakeResponse | Promise<FakeResponse>;

/** A real HTTP server on 127.0.0.1 that answers like AWS, for wire-level tests and benches. */
export interface FakeAws {
  endpoint: string;
  requests: SeenRequest[];
  close: () => Promise<void>;
}

const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** AWS's XML error body, as S3 sends it. */
export function s3ErrorXml(code: string, message: string, extra = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>${extra}<RequestId>4442587FB7D0A2F9</RequestId><HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId></Error>`;
}

/** Wraps S3 XML in the namespaced root element. */
export function s3Xml(root: string, inner: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${S3_NS}">${inner}</${root}>`;
}

/** Starts the server; `latencyMs` delays every answer (for benchmarks). */
export async function startFakeAws(
  handler: FakeHandler,
  options: { latencyMs?: number; record?: boolean } = {},
): Promise<FakeAws> {
  const requests: SeenRequest[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\//.exec(
        String(req.headers.authorization ?? ''),
      );
      const seen: SeenRequest = {
        method: req.method ?? 'GET',
        path: decodeURIComponent(url.pathname),
        rawUrl: req.url ?? '/',
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        region: scope?.[1] ?? '',
        service: scope?.[2] ?? '',
      };
      if (options.record !== false) requests.push(seen);
      try {
        const answer = await handler(seen);
        if (answer.fault === 'hang') return;
        if (answer.fault === 'reset') {
          req.socket.destroy();
          return;
        }
        const send = () => {
          res.writeHead(answer.status, {
            'x-amz-request-id': '4442587FB7D0A2F9',
            ...answer.headers,
          });
          res.end(seen.method === 'HEAD' ? undefined : answer.body);
        };
        if (options.latencyMs) setTimeout(send, options.latencyMs);
        else send();
      } catch (error) {
        res.writeHead(500, { 'content-type': 'application/xml' });
        res.end(s3ErrorXml('InternalError', String((error as Error).message)));
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** STS GetCallerIdentity, in the query protocol's XML or the JSON protocol. */
export function callerIdentity(request: SeenRequest, account: string): FakeResponse | undefined {
  const target = String(request.headers['x-amz-target'] ?? '');
  if (
    request.service !== 'sts' &&
    !request.body.includes('Action=GetCallerIdentity') &&
    !target.includes('GetCallerIdentity')
  ) {
    return undefined;
  }
  const arn = `arn:aws:sts::${account}:assumed-role/s3scan/scan`;
  if (target || String(request.headers['content-type']).includes('json')) {
    return {
      status: 200,
      headers: { 'content-type': 'application/x-amz-json-1.1' },
      body: JSON.stringify({ Account: account, Arn: arn, UserId: 'AROAEXAMPLE:scan' }),
    };
  }
  return {
    status: 200,
    headers: { 'content-type': 'text/xml' },
    body: `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>${arn}</Arn><UserId>AROAEXAMPLE:scan</UserId><Account>${account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
  };
}
