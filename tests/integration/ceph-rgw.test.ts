// Integration against a real S3 implementation: Ceph RGW on 127.0.0.1 (scripts/ceph-rgw.sh
// installs it from Debian's packages when missing and starts it). RGW stores and echoes
// per-object SSE-KMS; it accepts SSE-S3 without echoing it (so such objects read as NONE here).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Limiter } from '../../lib/collect/buckets.js';
import { type SweepOptions, sweepBucket } from '../../lib/collect/objects/sweep.js';
import type { ObjectObservation } from '../../lib/evidence/object-observation.js';
import { S3ReportStore } from '../../lib/report-store/s3.js';
import { evaluateScan } from '../../lib/scan/evaluate-scan.js';
import { bucketEvidence, scanEvidence } from '../helpers/evidence.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 's3scan-rgw-'));
const PORT = 17480 + (process.pid % 1000);
const BUCKET = 'rgw-integration';
const KMS_OBJECTS = 1050;
const PLAIN_OBJECTS = 60;

let s3: S3Client;

function limiter(signal?: AbortSignal): Limiter {
  const limit = pLimit(16);
  return (fn) =>
    limit(() => {
      signal?.throwIfAborted();
      return fn();
    });
}

/** A full sweep of the integration bucket through the real client; `overrides` vary it. */
function fullSweep(overrides: Partial<SweepOptions> = {}) {
  return sweepBucket({
    s3,
    bucket: BUCKET,
    owner: '',
    mode: 'full',
    versions: false,
    sampleSize: 10,
    limit: limiter(),
    ...overrides,
  });
}

describe('Object sweep against Ceph RGW (real S3 over HTTP)', () => {
  beforeAll(async () => {
    const start = () =>
      spawnSync('bash', [join(root, 'scripts/ceph-rgw.sh'), 'start', dir, String(PORT)], {
        encoding: 'utf8',
        timeout: 300_000,
      });
    // A single-node cluster on a busy 2-core machine occasionally fails its first start.
    let started = start();
    if (started.status !== 0) started = start();
    if (started.status !== 0) {
      const logs = spawnSync('bash', ['-c', `tail -n 20 ${dir}/log/*.log 2>/dev/null`], {
        encoding: 'utf8',
      }).stdout;
      throw new Error(
        `Ceph RGW did not start (exit ${started.status}, signal ${started.signal}): ${started.stderr}\n${started.stdout}\n${logs}`,
      );
    }
    s3 = new S3Client({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${PORT}`,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      credentials: { accessKeyId: 'TESTACCESSKEY', secretAccessKey: 'TESTSECRETKEY' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const put = pLimit(32);
    await Promise.all([
      ...Array.from({ length: KMS_OBJECTS }, (_, i) =>
        put(() =>
          s3.send(
            new PutObjectCommand({
              Bucket: BUCKET,
              Key: `kms/${String(i).padStart(5, '0')} ü+%.bin`,
              Body: `k${i}`,
              ServerSideEncryption: 'aws:kms',
              SSEKMSKeyId: 'testkey-1',
            }),
          ),
        ),
      ),
      ...Array.from({ length: PLAIN_OBJECTS }, (_, i) =>
        put(() =>
          s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `plain/${i}.txt`, Body: `p${i}` })),
        ),
      ),
    ]);
  }, 360_000);

  afterAll(() => {
    s3?.destroy();
    spawnSync('bash', [join(root, 'scripts/ceph-rgw.sh'), 'stop', dir], { timeout: 60_000 });
  });

  it('lists past 1,000 objects and classifies SSE-KMS and plaintext through HEAD', async () => {
    // Act
    const result = await fullSweep();

    // Assess
    expect(result).toMatchObject({
      evidence: {
        complete: true,
        listed: KMS_OBJECTS + PLAIN_OBJECTS,
        classified: KMS_OBJECTS + PLAIN_OBJECTS,
        byEncryption: { 'SSE-KMS': { count: KMS_OBJECTS }, NONE: { count: PLAIN_OBJECTS } },
        byKmsKey: { 'testkey-1': { count: KMS_OBJECTS } },
      },
    });
  });

  it('signs direct HEADs that RGW accepts for hostile keys, and agrees with the SDK', async () => {
    // Prepare: RGW checks SigV4 itself, so a wrongly encoded or signed key comes back 403.
    const bucket = 'rgw-hostile-keys';
    const keys = [
      'with space.txt',
      'ünïcødé/文件/🔐.bin',
      'plus+sign&amp=eq',
      'per%cent%2F',
      "bang!quote'paren()star*",
      'double//slash',
      'dot/./and/../segments',
      'question?hash#',
      'tab\tand~tilde',
    ];
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const [i, key] of keys.entries()) {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: key,
          ...(i % 2 === 0 ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'testkey-1' } : {}),
        }),
      );
    }
    const sweep = (headTransport: 'sdk' | 'direct') => {
      const rows: ObjectObservation[] = [];
      return fullSweep({ bucket, headTransport, onObject: (row) => rows.push(row) }).then(
        (result) => ({ result, rows }),
      );
    };

    // Act
    const direct = await sweep('direct');
    const viaSdk = await sweep('sdk');

    // Assess
    expect(direct.rows.map((row) => row.key).sort()).toEqual([...keys].sort());
    expect(direct.result).toMatchObject({
      evidence: {
        classified: keys.length,
        denied: { count: 0 },
        byEncryption: { 'SSE-KMS': { count: 5 }, NONE: { count: 4 } },
      },
    });
    expect(direct.rows).toEqual(viaSdk.rows);
    expect(direct.result).toEqual(viaSdk.result);
  });

  it('resumes a sweep aborted in the middle to the same result', async () => {
    // Prepare
    const reference = await fullSweep();
    const controller = new AbortController();
    let calls = 0;
    const limit = limiter(controller.signal);
    const counting: Limiter = (fn) =>
      limit(() => {
        calls += 1;
        if (calls === 700) controller.abort(new Error('stop in the middle'));
        return fn();
      });

    // Act
    const first = await fullSweep({ limit: counting, signal: controller.signal });
    if (!('checkpoint' in first)) throw new Error('expected the sweep to stop with a checkpoint');
    const resumed = await fullSweep({ resume: JSON.parse(JSON.stringify(first.checkpoint)) });

    // Assess
    expect(first.checkpoint.pagesDone).toBe(0);
    expect(resumed).toEqual(reference);
  });

  it('publishes a large per-object CSV as a real multipart upload with SSE-KMS', async () => {
    // Prepare: 17 MiB of incompressible chunks make two 8+ MiB parts and a last one.
    await s3.send(new CreateBucketCommand({ Bucket: 'rgw-reports' }));
    const store = new S3ReportStore({ s3, bucket: 'rgw-reports', kmsKeyArn: 'testkey-1' });
    const chunks = Array.from({ length: 17 }, () => randomBytes(2 ** 20));
    const evidence = scanEvidence([bucketEvidence('b1')]);
    const { findings, summary } = evaluateScan(evidence);

    // Act
    await store.writeScan({
      summary: { schemaVersion: '1', source: 'scan', ...summary },
      findings,
      evidence,
      objectFiles: [
        {
          accountId: '111122223333',
          bucket: 'b1',
          chunks: async function* () {
            yield* chunks;
          },
        },
      ],
    });

    // Assess
    const key = `scans/${evidence.scanId}/objects/111122223333/b1.csv.gz`;
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'rgw-reports', Key: key }));
    expect(head.ContentLength).toBe(17 * 2 ** 20);
    expect(head.ServerSideEncryption).toBe('aws:kms');
    expect(head.ETag).toMatch(/-3"$/);
    const body = await s3.send(new GetObjectCommand({ Bucket: 'rgw-reports', Key: key }));
    const bytes = Buffer.from(await body.Body!.transformToByteArray());
    expect(bytes.equals(Buffer.concat(chunks))).toBe(true);
    expect((await store.readIndex())?.latest).toBe(evidence.scanId);
  });
});
