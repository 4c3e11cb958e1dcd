// The direct HeadObject transport against real HTTP servers on 127.0.0.1: what goes on the
// wire must be what the SDK would send and what S3's SigV4 check accepts.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';
import { extendedEncodeURIComponent } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  directHeadObject,
  type HeadObjectFn,
  HeadSigner,
  headOutputFromHeaders,
  sdkHeadObject,
} from '../../lib/collect/objects/direct-head.js';
import {
  type FakeAws,
  type FakeResponse,
  type SeenRequest,
  startFakeAws,
} from '../helpers/fake-aws-server.js';
import { sigv4Mismatch } from '../helpers/sigv4.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const OWNER = '111122223333';

const HOSTILE_KEYS = [
  'plain.txt',
  'with space.txt',
  'ünïcødé/文件/🔐.bin',
  'plus+sign',
  'per%cent%2F',
  'new\nline',
  "bang!quote'paren()star*",
  'tilde~under_score.dot-dash',
  'double//slash',
  './dot/../segments/..',
  'question?hash#',
  'amp&eq=semi;colon,comma@at$dollar',
  '/leading',
  'trailing/',
  'tab\tand\u0001control',
];
const VERSION_IDS = [
  'null',
  '3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBp',
  'a b=c&d',
];

function clientFor(
  endpoint: string,
  extra: Partial<ConstructorParameters<typeof S3Client>[0]> = {},
) {
  return new S3Client({
    region: 'eu-west-1',
    endpoint,
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET },
    ...extra,
  });
}

describe('direct HeadObject on the wire', () => {
  let server: FakeAws;
  let s3: S3Client;
  let direct: HeadObjectFn;
  let viaSdk: HeadObjectFn;

  beforeAll(async () => {
    server = await startFakeAws(() => ({
      status: 200,
      headers: { 'x-amz-server-side-encryption': 'AES256', 'content-length': '3' },
    }));
    s3 = clientFor(server.endpoint);
    const made = await directHeadObject(s3, 'wire-bucket', OWNER);
    if (!made) throw new Error('a plain client must get the direct transport');
    direct = made;
    viaSdk = sdkHeadObject(s3, 'wire-bucket', OWNER);
  });
  afterAll(async () => {
    s3.destroy();
    await server.close();
  });
  afterEach(() => {
    server.requests.length = 0;
  });

  it('sends the request target the SDK sends, for hostile keys and version ids', async () => {
    // Prepare
    const cases = [
      ...HOSTILE_KEYS.map((key) => ({ key })),
      ...VERSION_IDS.map((versionId) => ({ key: 'versioned/obj ü+', versionId })),
    ];
    // Act
    const targets: { sdk: string; direct: string }[] = [];
    for (const request of cases) {
      await viaSdk(request);
      const sdk = server.requests.at(-1) as SeenRequest;
      await direct(request);
      const mine = server.requests.at(-1) as SeenRequest;
      targets.push({ sdk: sdk.rawUrl, direct: mine.rawUrl });
    }
    // Assess
    for (const { sdk, direct: mine } of targets) expect(mine).toBe(sdk);
    expect(targets).toHaveLength(HOSTILE_KEYS.length + VERSION_IDS.length);
  });

  it('signs every request so that an independent SigV4 check accepts it', async () => {
    // Prepare
    const requests = [...HOSTILE_KEYS.map((key) => ({ key })), { key: 'v', versionId: 'a b=c&d' }];
    // Act
    for (const request of requests) {
      await viaSdk(request);
      await direct(request);
    }
    // Assess: the checker agrees with the SDK's signer first, so it is a fair judge.
    const heads = server.requests.filter((r) => r.method === 'HEAD');
    expect(heads).toHaveLength(requests.length * 2);
    for (const request of heads) expect(sigv4Mismatch(request, SECRET)).toBeUndefined();
    const tampered = { ...heads[1], rawUrl: `${heads[1]?.rawUrl}x` } as SeenRequest;
    expect(sigv4Mismatch(tampered, SECRET)).toMatch(/signature mismatch/);
    expect(heads.every((r) => r.region === 'eu-west-1' && r.service === 's3')).toBe(true);
  });

  it('sends ExpectedBucketOwner, the empty-body hash and a session token, all signed', async () => {
    // Prepare
    const withToken = clientFor(server.endpoint, {
      credentials: { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: SECRET, sessionToken: 'tok/en+' },
    });
    const head = await directHeadObject(withToken, 'wire-bucket', OWNER);
    // Act
    await head?.({ key: 'k' });
    withToken.destroy();
    // Assess
    const request = server.requests.at(-1) as SeenRequest;
    expect(request.headers['x-amz-expected-bucket-owner']).toBe(OWNER);
    expect(request.headers['x-amz-security-token']).toBe('tok/en+');
    expect(request.headers['x-amz-content-sha256']).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(String(request.headers.authorization)).toMatch(
      /SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-expected-bucket-owner;x-amz-security-token,/,
    );
    expect(sigv4Mismatch(request, SECRET)).toBeUndefined();
  });
});

describe('direct HeadObject answers and errors', () => {
  let server: FakeAws;
  const attempts = new Map<string, number>();

  beforeAll(async () => {
    server = await startFakeAws((request): FakeResponse => {
      const key = request.path.replace(/^\/b\//, '');
      const count = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, count);
      if (key === 'slow-twice') return count <= 2 ? { status: 503 } : { status: 200 };
      if (key === 'always-slow') return { status: 503 };
      if (key === 'internal-once') return count === 1 ? { status: 500 } : { status: 200 };
      if (key === 'forbidden') return { status: 403, headers: { 'x-amz-id-2': 'host-id' } };
      if (key === 'gone') return { status: 404, headers: { 'x-amz-delete-marker': 'true' } };
      if (key === 'customer') return { status: 400 };
      if (key === 'moved') return { status: 301, headers: { 'x-amz-bucket-region': 'ap-south-1' } };
      return { status: 200 };
    });
  });
  afterAll(() => server.close());

  async function headWith(maxAttempts: number): Promise<{ head: HeadObjectFn; s3: S3Client }> {
    const s3 = clientFor(server.endpoint, { maxAttempts, retryMode: 'standard' });
    const head = await directHeadObject(s3, 'b', OWNER);
    if (!head) throw new Error('expected the direct transport');
    return { head, s3 };
  }

  it('retries SlowDown (503) and 500 with the client retry strategy, then succeeds', async () => {
    // Prepare
    const { head, s3 } = await headWith(3);
    // Act
    const slow = await head({ key: 'slow-twice' });
    const internal = await head({ key: 'internal-once' });
    s3.destroy();
    // Assess
    expect(slow).toEqual({});
    expect(internal).toEqual({});
    expect(attempts.get('slow-twice')).toBe(3);
    expect(attempts.get('internal-once')).toBe(2);
  });

  it('gives up after maxAttempts with the last error, shaped like the SDK', async () => {
    // Prepare
    const { head, s3 } = await headWith(2);
    // Act
    const failure = await head({ key: 'always-slow' }).catch((error: unknown) => error);
    s3.destroy();
    // Assess
    expect(attempts.get('always-slow')).toBe(2);
    expect(failure).toMatchObject({
      name: '503',
      $fault: 'server',
      $metadata: { httpStatusCode: 503, requestId: '4442587FB7D0A2F9' },
    });
  });

  it('does not retry 400, 403, 404 and 301, and names them as the SDK does', async () => {
    // Prepare
    const { head, s3 } = await headWith(3);
    const sdk = sdkHeadObject(s3, 'b', OWNER);
    // Act
    const keys = ['customer', 'forbidden', 'gone', 'moved'];
    const mine = await Promise.all(keys.map((key) => head({ key }).catch((e: unknown) => e)));
    const theirs = await Promise.all(keys.map((key) => sdk({ key }).catch((e: unknown) => e)));
    s3.destroy();
    // Assess
    const shape = (e: unknown) => ({
      status: (e as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode,
      notFound: (e as Error).name === 'NotFound',
    });
    expect(mine.map(shape)).toEqual([
      { status: 400, notFound: false },
      { status: 403, notFound: false },
      { status: 404, notFound: true },
      { status: 301, notFound: false },
    ]);
    expect(mine.map(shape)).toEqual(theirs.map(shape));
    expect(mine[1]).toMatchObject({ name: '403', $metadata: { extendedRequestId: 'host-id' } });
    expect(mine[3]).toMatchObject({ BucketRegion: 'ap-south-1' });
    // One attempt each for the direct transport (the SDK made its own).
    for (const key of keys) expect(attempts.get(key)).toBe(2);
  });
});

describe('direct HeadObject, network failures', () => {
  it('retries a connection reset and stops at once on abort', async () => {
    // Prepare: the first connection is cut before any answer; later requests hang.
    let connections = 0;
    const server = createServer((request, response) => {
      connections += 1;
      if (connections === 1) return request.socket.destroy();
      if (request.url?.includes('hang')) return;
      response.writeHead(200, { 'x-amz-server-side-encryption': 'aws:kms' });
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const s3 = clientFor(endpoint, { maxAttempts: 3, retryMode: 'standard' });
    const head = await directHeadObject(s3, 'b', OWNER);
    // Act
    const answer = await head?.({ key: 'reset-first' });
    const controller = new AbortController();
    const hanging = head?.({ key: 'hang' }, controller.signal).catch((e: unknown) => e);
    setTimeout(() => controller.abort(), 50);
    const aborted = await hanging;
    s3.destroy();
    server.closeAllConnections();
    server.close();
    // Assess
    expect(answer).toEqual({ ServerSideEncryption: 'aws:kms' });
    expect(connections).toBeGreaterThanOrEqual(2);
    expect((aborted as Error).name).toBe('AbortError');
  });
});

describe('direct HeadObject falls back to the SDK where it must', () => {
  it('leaves mocked clients, S3 Express, legacy retry strategies and names the endpoint rules reject to s3.send', async () => {
    // Prepare
    const plain = clientFor('http://127.0.0.1:9');
    const mocked = clientFor('http://127.0.0.1:9');
    const s3Mock = mockClient(mocked);
    const express = new S3Client({
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET },
    });
    const legacyRetry = clientFor('http://127.0.0.1:9', {
      retryStrategy: {
        mode: 'legacy',
        retry: (next: (args: unknown) => Promise<unknown>, args: unknown) => next(args),
      } as never,
    });
    // Act
    const forPlain = await directHeadObject(plain, 'b', OWNER);
    const forMocked = await directHeadObject(mocked, 'b', OWNER);
    const forExpress = await directHeadObject(express, 'data--use1-az4--x-s3', OWNER);
    const forLegacy = await directHeadObject(legacyRetry, 'b', OWNER);
    const forBadName = await directHeadObject(plain, 'arn:aws:s3:us-east-1:1:accesspoint', OWNER);
    s3Mock.restore();
    // Assess
    expect(forPlain).toBeTypeOf('function');
    expect(forMocked).toBeUndefined();
    expect(forExpress).toBeUndefined();
    expect(forLegacy).toBeUndefined();
    expect(forBadName).toBeUndefined();
  });
});

describe('HeadSigner', () => {
  it("produces SignatureV4's Authorization for every key, version id and credential kind", async () => {
    // Prepare
    const sha256 = clientFor('http://127.0.0.1:9').config.sha256;
    const now = new Date('2026-11-26T23:59:59.123Z');
    const credentialSets = [
      { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET },
      { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: SECRET, sessionToken: 'a  b+/=' },
    ];
    const cases = [
      ...HOSTILE_KEYS.map((key) => ({ key, query: {} as Record<string, string> })),
      ...VERSION_IDS.map((versionId) => ({ key: 'v/ü', query: { versionId } })),
    ];
    // Act
    const pairs: [string, string][] = [];
    for (const credentials of credentialSets) {
      const mine = new HeadSigner(async () => credentials, 'ap-southeast-2', 's3', sha256);
      const reference = new SignatureV4({
        credentials,
        region: 'ap-southeast-2',
        service: 's3',
        sha256,
        uriEscapePath: false,
        applyChecksum: true,
      });
      for (const { key, query } of cases) {
        const path = `/bucket/${key.split('/').map(extendedEncodeURIComponent).join('/')}`;
        const headers = {
          host: 's3.ap-southeast-2.amazonaws.com',
          'x-amz-content-sha256':
            'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
          'x-amz-expected-bucket-owner': ` ${OWNER}  `,
        };
        const signed = await mine.sign(path, query, headers, now);
        const expected = await reference.sign(
          { method: 'HEAD', protocol: 'https:', hostname: headers.host, path, query, headers },
          { signingDate: now },
        );
        pairs.push([signed.authorization ?? '', String(expected.headers.authorization)]);
        expect(signed['x-amz-date']).toBe(expected.headers['x-amz-date']);
        expect(signed['x-amz-security-token']).toBe(expected.headers['x-amz-security-token']);
      }
    }
    // Assess
    expect(pairs).toHaveLength(cases.length * 2);
    for (const [mine, expected] of pairs) expect(mine).toBe(expected);
  });

  it('derives a new signing key when the day or the credentials change', async () => {
    // Prepare
    const sha256 = clientFor('http://127.0.0.1:9').config.sha256;
    let credentials = { accessKeyId: 'AKID1', secretAccessKey: 'one' };
    const signer = new HeadSigner(async () => credentials, 'us-east-1', 's3', sha256);
    const headers = {
      host: 'h',
      'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    };
    const sign = (when: string) =>
      signer.sign('/b/k', {}, headers, new Date(when)).then((h) => h.authorization);
    // Act
    const today = await sign('2026-11-26T10:00:00Z');
    const tomorrow = await sign('2026-11-27T10:00:00Z');
    credentials = { accessKeyId: 'AKID1', secretAccessKey: 'two' };
    const rotated = await sign('2026-11-27T10:00:00Z');
    // Assess
    expect(today).toContain('/20261126/us-east-1/s3/aws4_request');
    expect(tomorrow).toContain('/20261127/us-east-1/s3/aws4_request');
    const reference = new SignatureV4({ credentials, region: 'us-east-1', service: 's3', sha256 });
    const expected = await reference.sign(
      { method: 'HEAD', protocol: 'https:', hostname: 'h', path: '/b/k', query: {}, headers },
      { signingDate: new Date('2026-11-27T10:00:00Z') },
    );
    expect(rotated).toBe(expected.headers.authorization);
    expect(rotated).not.toBe(tomorrow);
  });
});

describe('headOutputFromHeaders', () => {
  it('decodes the fields classification reads, as the SDK does', () => {
    // Prepare
    const headers = {
      'x-amz-server-side-encryption': 'aws:kms',
      'x-amz-server-side-encryption-aws-kms-key-id': 'arn:aws:kms:eu-west-1:1:key/k',
      'x-amz-server-side-encryption-bucket-key-enabled': 'TRUE',
      'x-amz-storage-class': 'GLACIER_IR',
      'content-length': '12345678901',
      'last-modified': 'Wed, 01 Jun 2022 00:00:00 GMT',
      'x-amz-meta-x-amz-key-v2': 'wrapped',
      'x-amz-meta-x-amz-iv': 'iv',
    };
    // Act
    const output = headOutputFromHeaders(headers);
    const garbled = headOutputFromHeaders({ 'content-length': '12a', 'last-modified': 'soon' });
    // Assess
    expect(output).toEqual({
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:aws:kms:eu-west-1:1:key/k',
      BucketKeyEnabled: true,
      StorageClass: 'GLACIER_IR',
      ContentLength: 12345678901,
      LastModified: new Date('2022-06-01T00:00:00.000Z'),
      Metadata: { 'x-amz-key-v2': 'wrapped', 'x-amz-iv': 'iv' },
    });
    expect(garbled).toEqual({});
  });
});
