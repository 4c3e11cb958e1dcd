import { afterEach, describe, expect, it } from 'vitest';
import { AwsClients, type ClientOptions } from '../../lib/collect/clients.js';
import { collectEvidence, resumeCollection } from '../../lib/collect/scan.js';
import { evaluateScan } from '../../lib/scan/evaluate-scan.js';
import { tlsPolicy } from '../helpers/evidence.js';
import {
  type FakeAccountModel,
  type FaultHook,
  startFakeAccount,
} from '../helpers/fake-account.js';
import { type FakeAws, s3ErrorXml } from '../helpers/fake-aws-server.js';

const ACCOUNT = '111122223333';
const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

const MODEL: FakeAccountModel = {
  account: ACCOUNT,
  keys: { [KEY]: { state: 'Enabled' } },
  buckets: [
    {
      name: 'healthy',
      region: 'us-east-1',
      kmsKeyArn: KEY,
      policy: tlsPolicy('healthy'),
      objects: [
        { key: 'a', sse: 'aws:kms', kmsKeyId: KEY },
        { key: 'b', sse: 'aws:kms', kmsKeyId: KEY },
      ],
    },
    {
      name: 'stuck',
      region: 'us-east-1',
      policy: tlsPolicy('stuck'),
      objects: [
        { key: 'fine', sse: 'AES256' },
        { key: 'never-answers', sse: 'AES256' },
      ],
    },
  ],
};

let server: FakeAws | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function scanWith(
  fault: FaultHook,
  extra: {
    signal?: AbortSignal;
    headTransport?: 'direct' | 'sdk';
    bounds?: Partial<ClientOptions>;
  } = {},
) {
  server = await startFakeAccount(MODEL, { fault });
  const clients = new AwsClients(
    {
      maxAttempts: 2,
      retryMode: 'standard',
      endpoint: server.endpoint,
      forcePathStyle: true,
      connectTimeoutMs: 300,
      requestTimeoutMs: 400,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      ...extra.bounds,
    },
    'us-east-1',
  );
  try {
    return await collectEvidence({
      clients,
      concurrency: 8,
      scanId: 'faults',
      scanTime: new Date('2026-11-01T06:00:00Z'),
      toolVersion: 'test',
      objects: {
        mode: 'full',
        versions: false,
        sampleSize: 10,
        headTransport: extra.headTransport ?? 'direct',
      },
      ...(extra.signal ? { signal: extra.signal } : {}),
    });
  } finally {
    clients.destroy();
  }
}

describe('A call that never answers costs one read an ERROR, never the scan', () => {
  it('a bucket read that hangs becomes that probe ERROR (TimeoutError); the rest is read', async () => {
    // Prepare
    const started = performance.now();

    // Act
    const result = await scanWith((_request, operation, bucket) =>
      operation === 'GetBucketPolicy' && bucket === 'stuck'
        ? { status: 0, fault: 'hang' }
        : undefined,
    );

    // Assess
    const stuck = result.evidence.buckets.find((b) => b.name === 'stuck');
    const healthy = result.evidence.buckets.find((b) => b.name === 'healthy');
    expect(stuck?.policy).toMatchObject({ error: 'TimeoutError' });
    expect(stuck?.encryption).toHaveProperty('ok');
    expect(healthy?.policy).toHaveProperty('ok');
    expect(result.checkpoint).toBeUndefined();
    // Two attempts of 400 ms plus backoff: bounded by the timeout, not by the server.
    expect(performance.now() - started).toBeLessThan(8_000);
  }, 15_000);

  it.each(['direct', 'sdk'] as const)(
    'a HEAD that hangs on the %s transport fails that object only',
    async (headTransport) => {
      // Act
      const result = await scanWith(
        (request, operation) =>
          operation === 'HeadObject' && request.path.endsWith('/never-answers')
            ? { status: 0, fault: 'hang' }
            : undefined,
        { headTransport },
      );

      // Assess
      const objects = result.evidence.buckets.find((b) => b.name === 'stuck')?.objects;
      expect(objects).toMatchObject({
        complete: true,
        classified: 1,
        failed: { count: 1, codes: { TimeoutError: 1 } },
      });
    },
    15_000,
  );

  it('a KMS call that hangs leaves that key ERROR and the scan finishes', async () => {
    // Act
    const result = await scanWith((_request, operation) =>
      operation === 'DescribeKey' ? { status: 0, fault: 'hang' } : undefined,
    );

    // Assess
    expect(result.evidence.kmsKeys[KEY]?.describe).toMatchObject({ error: 'TimeoutError' });
  }, 15_000);

  it('a permanent AccessDenied is not retried and makes the verdicts that need it ERROR', async () => {
    // Act: every GetBucketPolicy of "stuck" is denied, as S3 answers it.
    const result = await scanWith((_request, operation, bucket) =>
      operation === 'GetBucketPolicy' && bucket === 'stuck'
        ? {
            status: 403,
            headers: { 'content-type': 'application/xml' },
            body: s3ErrorXml('AccessDenied', 'Access Denied'),
          }
        : undefined,
    );

    // Assess: one attempt (not retryable), a denied probe, and ERROR rather than a guess.
    const stuck = result.evidence.buckets.find((b) => b.name === 'stuck');
    expect(stuck?.policy).toMatchObject({ denied: 'AccessDenied' });
    expect(
      server?.requests.filter((r) => r.query.has('policy') && r.path.startsWith('/stuck')),
    ).toHaveLength(1);
    const tls = evaluateScan(result.evidence).findings.find(
      (f) => f.ruleId === 's3-bucket-tls-enforced' && f.resource.name === 'stuck',
    );
    expect(tls?.status).toBe('ERROR');
  }, 15_000);

  it('a connection the server drops is retried, then reported, never taken for an answer', async () => {
    // Act: every GetBucketVersioning of "stuck" is reset.
    const result = await scanWith((_request, operation, bucket) =>
      operation === 'GetBucketVersioning' && bucket === 'stuck'
        ? { status: 0, fault: 'reset' }
        : undefined,
    );

    // Assess
    const stuck = result.evidence.buckets.find((b) => b.name === 'stuck');
    expect(stuck?.versioning).toHaveProperty('error');
    expect(server?.requests.filter((r) => r.query.has('versioning')).length).toBeGreaterThanOrEqual(
      2,
    );
  }, 15_000);
});

describe('A call has a deadline over all its attempts, and timeouts a retry budget of their own', () => {
  const policyOfStuck = (r: { path: string; query: URLSearchParams }) =>
    r.query.has('policy') && r.path.startsWith('/stuck');

  it('a GetBucketPolicy never answered is one ERROR at the deadline, however many attempts are allowed', async () => {
    // Prepare: 10 attempts of 2 s each would take 20 s; the deadline is 1.5 s.
    const started = performance.now();

    // Act
    const result = await scanWith(
      (_request, operation, bucket) =>
        operation === 'GetBucketPolicy' && bucket === 'stuck'
          ? { status: 0, fault: 'hang' }
          : undefined,
      { bounds: { maxAttempts: 10, requestTimeoutMs: 2_000, callDeadlineMs: 1_500 } },
    );

    // Assess
    const stuck = result.evidence.buckets.find((b) => b.name === 'stuck');
    expect(stuck?.policy).toMatchObject({
      error: 'CallDeadlineExceeded',
      message: expect.stringMatching(
        /GetBucketPolicy had no answer within its 1.5 s call deadline/,
      ),
    });
    expect(result.evidence.buckets.find((b) => b.name === 'healthy')?.policy).toHaveProperty('ok');
    const tls = evaluateScan(result.evidence).findings.find(
      (f) => f.ruleId === 's3-bucket-tls-enforced' && f.resource.name === 'stuck',
    );
    expect(tls?.status).toBe('ERROR');
    // One attempt in flight when the deadline came: no second one was sent.
    expect(server?.requests.filter(policyOfStuck)).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(10_000);
  }, 20_000);

  it('timeouts stop after their own budget while maxAttempts stays for throttling', async () => {
    // Act: timeouts may be retried twice (3 attempts), although 10 attempts are allowed.
    const hung = await scanWith(
      (_request, operation, bucket) =>
        operation === 'GetBucketPolicy' && bucket === 'stuck'
          ? { status: 0, fault: 'hang' }
          : undefined,
      { bounds: { maxAttempts: 10, requestTimeoutMs: 300, timeoutRetries: 2 } },
    );
    const hungAttempts = server?.requests.filter(policyOfStuck).length;
    await server?.close();
    let throttled = 0;
    const slowDown = await scanWith(
      (_request, operation, bucket) => {
        if (operation !== 'GetBucketPolicy' || bucket !== 'stuck' || throttled >= 3)
          return undefined;
        throttled += 1;
        return {
          status: 503,
          headers: { 'content-type': 'application/xml' },
          body: s3ErrorXml('SlowDown', 'Please reduce your request rate.'),
        };
      },
      { bounds: { maxAttempts: 10, requestTimeoutMs: 300, timeoutRetries: 2 } },
    );

    // Assess
    expect(hung.evidence.buckets.find((b) => b.name === 'stuck')?.policy).toMatchObject({
      error: 'TimeoutError',
    });
    expect(hungAttempts).toBe(3);
    expect(slowDown.evidence.buckets.find((b) => b.name === 'stuck')?.policy).toHaveProperty('ok');
    expect(server?.requests.filter(policyOfStuck)).toHaveLength(4);
  }, 30_000);

  it.each(['direct', 'sdk'] as const)(
    'a HEAD never answered on the %s transport fails at the deadline',
    async (headTransport) => {
      // Act
      const result = await scanWith(
        (request, operation) =>
          operation === 'HeadObject' && request.path.endsWith('/never-answers')
            ? { status: 0, fault: 'hang' }
            : undefined,
        {
          headTransport,
          bounds: { maxAttempts: 10, requestTimeoutMs: 2_000, callDeadlineMs: 1_000 },
        },
      );

      // Assess
      const objects = result.evidence.buckets.find((b) => b.name === 'stuck')?.objects;
      expect(objects).toMatchObject({
        complete: true,
        classified: 1,
        failed: { count: 1, codes: { CallDeadlineExceeded: 1 } },
      });
    },
    15_000,
  );
});

describe('An abort is honoured within moments at any point, with a checkpoint', () => {
  it.each([
    ['GetCallerIdentity', 'listing'],
    ['ListBuckets', 'listing'],
    ['GetBucketEncryption', 'unread'],
    ['ListObjectsV2', 'sweeps'],
    ['DescribeKey', 'keys'],
  ] as const)(
    'while %s hangs: stops with a %s checkpoint that resume completes',
    async (hungOperation, stage) => {
      // Prepare: the hung call never answers; abort 300 ms after it arrives.
      const controller = new AbortController();
      let hang = true;
      const fault: FaultHook = (_request, operation) => {
        if (operation !== hungOperation || !hang) return undefined;
        setTimeout(() => controller.abort(new Error('SIGINT')), 300);
        return { status: 0, fault: 'hang' };
      };
      const started = performance.now();

      // Act
      const first = await scanWith(fault, { signal: controller.signal });
      const stoppedAfter = performance.now() - started;
      hang = false;
      const clients = new AwsClients(
        {
          maxAttempts: 2,
          endpoint: server!.endpoint,
          forcePathStyle: true,
          credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
        },
        'us-east-1',
      );
      const resumed = await resumeCollection(first.checkpoint!, { clients, concurrency: 8 });
      clients.destroy();

      // Assess
      expect(stoppedAfter).toBeLessThan(3_000);
      const checkpoint = first.checkpoint!;
      if (stage === 'listing') expect(checkpoint.listing).toBeDefined();
      if (stage === 'unread') expect(checkpoint.unread?.length).toBeGreaterThan(0);
      if (stage === 'sweeps') expect(Object.keys(checkpoint.sweeps).length).toBeGreaterThan(0);
      if (stage === 'keys') expect(checkpoint.evidence.kmsKeys).toEqual({});
      // Nothing an abort cut short is taken for what AWS said.
      expect(JSON.stringify(checkpoint.evidence)).not.toMatch(/Abort/);
      expect(resumed.checkpoint).toBeUndefined();
      expect(resumed.evidence.buckets.map((b) => b.name)).toEqual(['healthy', 'stuck']);
      expect(resumed.evidence.accountId).toBe(ACCOUNT);
      expect(resumed.evidence.kmsKeys[KEY]?.describe).toHaveProperty('ok');
      for (const bucket of resumed.evidence.buckets) {
        expect(bucket.policy).toHaveProperty('ok');
        expect(bucket.objects).toMatchObject({ complete: true, failed: { count: 0 } });
      }
    },
    20_000,
  );
});
