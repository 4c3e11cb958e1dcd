import { createHash, createHmac } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getEndpointFromInstructions } from '@smithy/core/endpoints';
import { extendedEncodeURIComponent } from '@smithy/core/protocols';
import { createScope, getCanonicalQuery, getSigningKey } from '@smithy/signature-v4';
import type { RetryErrorInfo } from '@smithy/types';
import { CallDeadlineExceeded, callDeadlineOf } from '../../aws/call-bounds.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS } from '../../aws/timeouts.js';
import { AwsResponseError } from '../../errors.js';
import { noteAttempt } from '../attempts.js';
import type { HeadOutputLike } from './classify.js';

/** One HeadObject: what the sweep asks for. */
export interface HeadRequest {
  key: string;
  versionId?: string;
}

/** Sends HeadObject for one bucket; rejects like the SDK (`name`, `$metadata.httpStatusCode`). */
export type HeadObjectFn = (request: HeadRequest, signal?: AbortSignal) => Promise<HeadOutputLike>;

/** How HeadObject goes out: through the SDK's middleware stack, or signed and sent directly. */
export type HeadTransport = 'sdk' | 'direct';

/** HeadObject through `s3.send`: every middleware, mock and plugin on the client applies. */
export function sdkHeadObject(s3: S3Client, bucket: string, owner: string): HeadObjectFn {
  return ({ key, versionId }, signal) =>
    s3.send(
      new HeadObjectCommand({
        Bucket: bucket,
        Key: key,
        ExpectedBucketOwner: owner,
        // "null" is a real version id (objects stored before versioning); pass it verbatim.
        ...(versionId !== undefined ? { VersionId: versionId } : {}),
      }),
      signal ? { abortSignal: signal } : {},
    );
}

// Captured at load, before any test double replaces it: a client whose `send` differs is
// mocked or wrapped, and its owner expects every call to go through that `send`.
const UNWRAPPED_SEND = S3Client.prototype.send;

/** SHA-256 of the empty body, the `x-amz-content-sha256` the SDK sends on HEAD. */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Idle keep-alive sockets are shared per client, as the SDK's own handler does. */
const agents = new WeakMap<S3Client, { http: HttpAgent; https: HttpsAgent }>();

function agentsOf(s3: S3Client): { http: HttpAgent; https: HttpsAgent } {
  let pair = agents.get(s3);
  if (!pair) {
    // The sweep's limiters bound requests in flight; the agent only keeps sockets warm.
    pair = {
      http: new HttpAgent({ keepAlive: true, maxSockets: 1024 }),
      https: new HttpsAgent({ keepAlive: true, maxSockets: 1024 }),
    };
    agents.set(s3, pair);
  }
  return pair;
}

/** A non-2xx answer, shaped like the SDK's error for a body-less HEAD response. */
function headError(status: number, headers: IncomingHttpHeaders): Error {
  // HEAD answers carry no body, so no error code: the SDK names them by status, except the
  // modeled 404 NotFound (aws-facts.md section 1.3). Classification reads the status only.
  const name = status === 404 ? 'NotFound' : String(status);
  const error = new AwsResponseError(`HeadObject answered HTTP ${status}`, {
    name,
    fault: status >= 500 ? 'server' : 'client',
    metadata: {
      httpStatusCode: status,
      ...(typeof headers['x-amz-request-id'] === 'string'
        ? { requestId: headers['x-amz-request-id'] }
        : {}),
      ...(typeof headers['x-amz-id-2'] === 'string'
        ? { extendedRequestId: headers['x-amz-id-2'] }
        : {}),
    },
  });
  return typeof headers['x-amz-bucket-region'] === 'string'
    ? Object.assign(error, { BucketRegion: headers['x-amz-bucket-region'] })
    : error;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * HeadObjectOutput from response headers, the fields classification reads, decoded as the
 * SDK decodes them: booleans from "true", `x-amz-meta-*` into `Metadata` with the prefix cut.
 */
export function headOutputFromHeaders(headers: IncomingHttpHeaders): HeadOutputLike {
  const output: HeadOutputLike = {};
  const algorithm = header(headers, 'x-amz-server-side-encryption');
  if (algorithm !== undefined) output.ServerSideEncryption = algorithm;
  const keyId = header(headers, 'x-amz-server-side-encryption-aws-kms-key-id');
  if (keyId !== undefined) output.SSEKMSKeyId = keyId;
  const bucketKey = header(headers, 'x-amz-server-side-encryption-bucket-key-enabled');
  if (bucketKey !== undefined) output.BucketKeyEnabled = bucketKey.trim().toLowerCase() === 'true';
  const customer = header(headers, 'x-amz-server-side-encryption-customer-algorithm');
  if (customer !== undefined) output.SSECustomerAlgorithm = customer;
  const storageClass = header(headers, 'x-amz-storage-class');
  if (storageClass !== undefined) output.StorageClass = storageClass;
  const length = header(headers, 'content-length');
  if (length !== undefined && /^\d+$/.test(length)) output.ContentLength = Number(length);
  const modified = header(headers, 'last-modified');
  if (modified !== undefined) {
    const date = new Date(modified);
    if (!Number.isNaN(date.getTime())) output.LastModified = date;
  }
  if (header(headers, 'x-amz-delete-marker') === 'true') output.DeleteMarker = true;
  let metadata: Record<string, string> | undefined;
  for (const name of Object.keys(headers)) {
    if (!name.startsWith('x-amz-meta-')) continue;
    const value = headers[name];
    metadata ??= {};
    metadata[name.slice('x-amz-meta-'.length)] = Array.isArray(value)
      ? value.join(', ')
      : String(value);
  }
  if (metadata) output.Metadata = metadata;
  return output;
}

type Credentials = Awaited<ReturnType<S3Client['config']['credentials']>>;

/**
 * SigV4 for body-less HEADs with a signing key derived once per day and credential set.
 * SignatureV4 computes an extra HMAC per request to find its cached key, about 40 of the
 * 250 µs a direct HEAD cost here; canonical query, scope and key derivation are still the
 * SDK's own.
 * tests/wire/direct-head.test.ts proves the Authorization equal to SignatureV4's.
 */
export class HeadSigner {
  private signingKey?: { shortDate: string; credentials: Credentials; key: Uint8Array };

  constructor(
    private readonly credentials: () => Promise<Credentials>,
    private readonly region: string,
    private readonly service: string,
    private readonly sha256: S3Client['config']['sha256'],
  ) {}

  /**
   * The headers to send: `headers` (lower-case names) plus x-amz-date, the session token and
   * Authorization. `path` is signed exactly as given, as S3 expects (no re-encoding).
   */
  async sign(
    path: string,
    query: Record<string, string>,
    headers: Record<string, string>,
    now: Date,
  ): Promise<Record<string, string>> {
    const credentials = await this.credentials();
    const amzDate = now.toISOString().replace(/[-:]|\.\d{3}/g, '');
    const shortDate = amzDate.slice(0, 8);
    let cached = this.signingKey;
    if (cached?.shortDate !== shortDate || cached.credentials !== credentials) {
      const key = await getSigningKey(
        this.sha256,
        credentials,
        shortDate,
        this.region,
        this.service,
      );
      cached = { shortDate, credentials, key };
      this.signingKey = cached;
    }
    const all: Record<string, string> = { ...headers, 'x-amz-date': amzDate };
    if (credentials.sessionToken) all['x-amz-security-token'] = credentials.sessionToken;
    const names = Object.keys(all).sort();
    let canonicalHeaders = '';
    for (const name of names)
      canonicalHeaders += `${name}:${String(all[name]).trim().replace(/\s+/g, ' ')}\n`;
    const signedHeaders = names.join(';');
    const canonicalRequest = `HEAD\n${path}\n${getCanonicalQuery({ method: 'HEAD', protocol: 'https:', hostname: '', path, query, headers: {} })}\n${canonicalHeaders}\n${signedHeaders}\n${all['x-amz-content-sha256'] ?? EMPTY_SHA256}`;
    const scope = createScope(shortDate, this.region, this.service);
    const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
    const signature = createHmac('sha256', cached.key).update(stringToSign).digest('hex');
    all.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return all;
  }
}

type ErrorType = 'THROTTLING' | 'TRANSIENT';

/**
 * The retry class of an answer or failure. A HEAD's 503 has no body to call it SlowDown, but
 * S3 throttles with 503, so it counts as throttling and slows the adaptive rate limiter.
 */
function retryType(status: number | undefined, error?: unknown): ErrorType | undefined {
  if (status === 429 || status === 503) return 'THROTTLING';
  if (status === 500 || status === 502 || status === 504) return 'TRANSIENT';
  if (status !== undefined) return undefined;
  const code = (error as { code?: string })?.code;
  return code === 'ECONNRESET' ||
    code === 'ECONNREFUSED' ||
    code === 'EPIPE' ||
    code === 'ETIMEDOUT' ||
    code === 'TimeoutError'
    ? 'TRANSIENT'
    : undefined;
}

/** Where and how a bucket's HEADs go, as the SDK's endpoint rules resolved it. */
interface HeadEndpoint {
  url: URL;
  signer: HeadSigner;
  /** Headers the endpoint rules add (lower-cased), signed with the rest. */
  headers: Record<string, string>;
}

/**
 * The SDK's own endpoint resolution, as its endpoint middleware runs it for HeadObject: the
 * client's endpoint option, AWS_ENDPOINT_URL(_S3), a profile's endpoint_url or services
 * section, FIPS, dual-stack, path style and the bucket-name rules all apply. Undefined when
 * the rules refuse the bucket (the SDK then reports that per call) or the endpoint needs a
 * signer other than SigV4 (S3 Express session auth, SigV4a).
 */
async function resolveHeadEndpoint(
  s3: S3Client,
  bucket: string,
): Promise<HeadEndpoint | undefined> {
  let endpoint: Awaited<ReturnType<typeof getEndpointFromInstructions>>;
  try {
    endpoint = await getEndpointFromInstructions(
      { Bucket: bucket, Key: 'k' },
      HeadObjectCommand as never,
      s3.config as never,
    );
  } catch {
    return undefined;
  }
  const scheme = (endpoint.properties?.authSchemes as { name?: string }[] | undefined)?.[0] as
    | { name?: string; signingName?: string; signingRegion?: string }
    | undefined;
  if (scheme?.name !== 'sigv4') return undefined;
  const url = new URL(String(endpoint.url));
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  const signer = new HeadSigner(
    s3.config.credentials,
    scheme.signingRegion ?? (await s3.config.region()),
    scheme.signingName ?? 's3',
    s3.config.sha256,
  );
  const headers = Object.fromEntries(
    Object.entries((endpoint.headers ?? {}) as Record<string, string[]>).map(([k, v]) => [
      k.toLowerCase(),
      v.join(','),
    ]),
  );
  return { url, signer, headers };
}

/** The client's own timeouts (its handler resolves them on its first call, the listing). */
function clientTimeouts(s3: S3Client): { connect: number; request: number } {
  const handler = s3.config.requestHandler as {
    httpHandlerConfigs?: () => { connectionTimeout?: number; requestTimeout?: number };
  };
  const configured = handler.httpHandlerConfigs?.() ?? {};
  return {
    connect: configured.connectionTimeout || DEFAULT_CONNECT_TIMEOUT_MS,
    request: configured.requestTimeout || DEFAULT_REQUEST_TIMEOUT_MS,
  };
}

/** A HEAD ready to send: its path and query, and the SigV4-signed headers. */
async function signedHead(options: {
  s3: S3Client;
  endpoint: HeadEndpoint;
  owner: string;
  request: HeadRequest;
}): Promise<{ path: string; headers: Record<string, string> }> {
  const { s3, endpoint, owner, request } = options;
  const basePath = endpoint.url.pathname.endsWith('/')
    ? endpoint.url.pathname
    : `${endpoint.url.pathname}/`;
  // The same encoding as the SDK's greedy {Key+} label: each segment, slashes kept.
  const path =
    basePath +
    request.key
      .split('/')
      .map((segment) => extendedEncodeURIComponent(segment))
      .join('/');
  const query: Record<string, string> =
    request.versionId !== undefined ? { versionId: request.versionId } : {};
  const headers = await endpoint.signer.sign(
    path,
    query,
    {
      ...endpoint.headers,
      host: endpoint.url.host,
      'x-amz-content-sha256': EMPTY_SHA256,
      'x-amz-expected-bucket-owner': owner,
    },
    new Date(Date.now() + (s3.config.systemClockOffset ?? 0)),
  );
  const search =
    request.versionId !== undefined
      ? `?versionId=${extendedEncodeURIComponent(request.versionId)}`
      : '';
  return { path: path + search, headers };
}

/**
 * One HTTP exchange over a keep-alive socket, every phase bounded: connecting, silence on the
 * socket, and the whole answer (a server that trickles bytes cannot hold it).
 */
function sendHead(options: {
  s3: S3Client;
  url: URL;
  path: string;
  headers: Record<string, string>;
  signal: AbortSignal | undefined;
}): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  const { s3, url, path, headers, signal } = options;
  const agent = url.protocol === 'https:' ? agentsOf(s3).https : agentsOf(s3).http;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const limits = clientTimeouts(s3);
  const timedOut = (what: string, ms: number) =>
    new AwsResponseError(`HeadObject ${what} after ${ms} ms`, {
      name: 'TimeoutError',
      code: 'TimeoutError',
    });
  return new Promise((resolve, reject) => {
    const outgoing = send(
      {
        agent,
        method: 'HEAD',
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path,
        headers: { ...headers, 'user-agent': 's3scan direct-head' },
        ...(signal ? { signal } : {}),
        // Socket inactivity: no answer, or an answer that stalls.
        timeout: limits.request,
      },
      (response) => {
        response.resume();
        response.once('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers }),
        );
        response.once('error', reject);
      },
    );
    const deadline = setTimeout(
      () => outgoing.destroy(timedOut('got no complete answer', limits.request)),
      limits.request,
    );
    outgoing.once('close', () => clearTimeout(deadline));
    outgoing.once('socket', (socket) => {
      if (!socket.connecting) return;
      const connectTimer = setTimeout(
        () => outgoing.destroy(timedOut('could not connect', limits.connect)),
        limits.connect,
      );
      socket.once('connect', () => clearTimeout(connectTimer));
      socket.once('close', () => clearTimeout(connectTimer));
    });
    outgoing.once('timeout', () => outgoing.destroy(timedOut('got no answer', limits.request)));
    outgoing.once('error', reject);
    outgoing.end();
  });
}

/**
 * HeadObject signed with the client's own SigV4 signer inputs (credentials provider,
 * endpoint rules, clock offset, adaptive retry strategy) and sent straight over a keep-alive
 * socket. The SDK spends about 1.2 ms of CPU per HeadObject in its middleware stack, which
 * caps one core at about 800 HEAD/s; this path spends about 0.25 ms, so a sweep is bound by
 * concurrency and latency instead.
 *
 * Returns `undefined` where the SDK must do the work: a client whose `send` is mocked or
 * wrapped, a legacy custom retry strategy, an endpoint the SDK's rules refuse, and endpoints
 * that need another signer (S3 Express session auth, SigV4a).
 */
export async function directHeadObject(
  s3: S3Client,
  bucket: string,
  owner: string,
): Promise<HeadObjectFn | undefined> {
  if (s3.send !== UNWRAPPED_SEND || typeof s3.config?.endpointProvider !== 'function') return;
  const endpoint = await resolveHeadEndpoint(s3, bucket);
  if (!endpoint) return;
  const retryStrategy = await s3.config.retryStrategy();
  // A legacy (v1) custom strategy cannot be driven from outside the middleware stack.
  if (!('acquireInitialRetryToken' in retryStrategy)) return;

  const once = async (request: HeadRequest, signal: AbortSignal | undefined) => {
    noteAttempt(s3);
    const { path, headers } = await signedHead({ s3, endpoint, owner, request });
    return sendHead({ s3, url: endpoint.url, path, headers, signal });
  };

  // The response mapping and the client's retry strategy, as the SDK's retry middleware does.
  const attempts = async (request: HeadRequest, signal: AbortSignal | undefined) => {
    let token = await retryStrategy.acquireInitialRetryToken('s3');
    for (;;) {
      let status: number | undefined;
      let failure: unknown;
      try {
        const answer = await once(request, signal);
        status = answer.status;
        if (status >= 200 && status < 300) {
          retryStrategy.recordSuccess(token);
          return headOutputFromHeaders(answer.headers);
        }
        failure = headError(status, answer.headers);
      } catch (error) {
        if (signal?.aborted) throw error;
        failure = error;
      }
      const errorType = retryType(status, failure);
      if (!errorType) throw failure;
      try {
        token = await retryStrategy.refreshRetryTokenForRetry(token, {
          errorType,
          error: failure as RetryErrorInfo['error'],
        });
      } catch {
        // Out of attempts or retry quota: the last failure is the answer.
        throw failure;
      }
      await sleep(token.getRetryDelay(), undefined, signal ? { signal } : {});
    }
  };
  const deadlineMs = callDeadlineOf(s3);
  if (deadlineMs === undefined) return attempts;
  // The client's call deadline, as its middleware gives every call through `send`.
  return async (request, signal) => {
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new CallDeadlineExceeded('HeadObject', deadlineMs)),
      deadlineMs,
    );
    try {
      return await attempts(
        request,
        signal ? AbortSignal.any([signal, deadline.signal]) : deadline.signal,
      );
    } catch (error) {
      if (deadline.signal.aborted && !signal?.aborted) throw deadline.signal.reason;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  };
}
