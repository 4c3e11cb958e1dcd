import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AwsClients, type ClientOptions } from '../../lib/collect/clients.js';
import { sweepBucket } from '../../lib/collect/objects/sweep.js';
import {
  type FakeAws,
  type FakeResponse,
  type SeenRequest,
  s3Xml,
  startFakeAws,
} from '../helpers/fake-aws-server.js';
import { guardLoopback, type LoopbackGuard } from '../helpers/loopback-guard.js';

const BUCKET = 'endpoint-bucket';
const KEYS = ['a.txt', 'dir/b.txt', 'c d.txt'];
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
/** Variables that point the SDK somewhere; each case sets only its own. */
const ENDPOINT_VARIABLES = [
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_S3',
  'AWS_CONFIG_FILE',
  'AWS_PROFILE',
  'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
];

function answer(request: SeenRequest): FakeResponse {
  if (request.method === 'GET' && request.query.get('list-type') === '2') {
    const contents = KEYS.map(
      (k) =>
        `<Contents><Key>${k}</Key><LastModified>2024-06-01T00:00:00.000Z</LastModified><ETag>"e"</ETag><Size>7</Size><StorageClass>STANDARD</StorageClass></Contents>`,
    ).join('');
    return {
      status: 200,
      headers: { 'content-type': 'application/xml' },
      body: s3Xml(
        'ListBucketResult',
        `<Name>${BUCKET}</Name><KeyCount>${KEYS.length}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${contents}`,
      ),
    };
  }
  return { status: 200, headers: { 'x-amz-server-side-encryption': 'AES256' } };
}

let server: FakeAws;
let guard: LoopbackGuard;
const saved: Record<string, string | undefined> = {};
const configDir = mkdtempSync(join(tmpdir(), 's3scan-endpoints-'));
let configFiles = 0;

/** A shared config file of its own per case: the SDK caches what it parsed per path. */
function sharedConfig(text: string): string {
  configFiles += 1;
  const path = join(configDir, `config-${configFiles}`);
  writeFileSync(path, text);
  return path;
}

async function sweepWith(options: Partial<ClientOptions>) {
  const clients = new AwsClients(
    { maxAttempts: 2, credentials: CREDENTIALS, ...options },
    'eu-west-1',
  );
  const limit = pLimit(4);
  try {
    return await sweepBucket({
      s3: clients.s3('eu-west-1'),
      bucket: BUCKET,
      owner: '111122223333',
      mode: 'full',
      versions: false,
      sampleSize: 10,
      limit: (fn) => limit(fn),
      headTransport: 'direct',
    });
  } finally {
    clients.destroy();
  }
}

beforeAll(async () => {
  server = await startFakeAws(answer);
});
afterAll(() => server.close());
beforeEach(() => {
  for (const name of ENDPOINT_VARIABLES) {
    saved[name] = process.env[name];
    delete process.env[name];
  }
  server.requests.length = 0;
  guard = guardLoopback();
});
afterEach(() => {
  guard.restore();
  for (const name of ENDPOINT_VARIABLES) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

describe('Every request of a sweep goes to the configured endpoint', () => {
  const cases: [string, () => Partial<ClientOptions>][] = [
    ['the client endpoint option (--endpoint-url)', () => ({ s3Endpoint: server.endpoint })],
    [
      'AWS_ENDPOINT_URL',
      () => {
        process.env.AWS_ENDPOINT_URL = server.endpoint;
        return {};
      },
    ],
    [
      'AWS_ENDPOINT_URL_S3',
      () => {
        process.env.AWS_ENDPOINT_URL_S3 = server.endpoint;
        return {};
      },
    ],
    [
      "a profile's endpoint_url",
      () => {
        process.env.AWS_CONFIG_FILE = sharedConfig(
          `[profile local]\nregion = eu-west-1\nendpoint_url = ${server.endpoint}\n`,
        );
        process.env.AWS_PROFILE = 'local';
        return {};
      },
    ],
    [
      "a profile's services section",
      () => {
        process.env.AWS_CONFIG_FILE = sharedConfig(
          `[profile svc]\nregion = eu-west-1\nservices = local-s3\n\n[services local-s3]\ns3 =\n  endpoint_url = ${server.endpoint}\n`,
        );
        process.env.AWS_PROFILE = 'svc';
        return {};
      },
    ],
  ];

  it.each(cases)('via %s, HEADs included', async (_way, configure) => {
    // Prepare
    const options = configure();

    // Act
    const result = await sweepWith(options);

    // Assess: nothing left 127.0.0.1, and the HEADs were signed and sent by the direct path.
    expect(guard.leaks).toEqual([]);
    expect(result).toMatchObject({ evidence: { complete: true, classified: KEYS.length } });
    const heads = server.requests.filter((r) => r.method === 'HEAD');
    expect(heads).toHaveLength(KEYS.length);
    expect(heads.every((r) => r.headers['user-agent'] === 's3scan direct-head')).toBe(true);
    expect(heads.every((r) => r.region === 'eu-west-1')).toBe(true);
  });

  it('the guard itself catches a client that would go to the public endpoint', async () => {
    // Prepare: no endpoint anywhere, so the SDK would go to AWS.

    // Act
    const result = await sweepWith({});

    // Assess
    expect(guard.leaks).toContain(`${BUCKET}.s3.eu-west-1.amazonaws.com`);
    expect(result).toMatchObject({ evidence: { listError: { code: expect.any(String) } } });
    expect(server.requests).toHaveLength(0);
  });

  it('AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is honoured as the SDK honours it', async () => {
    // Prepare
    process.env.AWS_ENDPOINT_URL_S3 = server.endpoint;
    process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = 'true';

    // Act
    await sweepWith({});

    // Assess: both the listing (SDK) and the HEADs (direct) would have gone to AWS.
    expect(server.requests).toHaveLength(0);
    expect(guard.leaks.length).toBeGreaterThan(0);
  });
});
