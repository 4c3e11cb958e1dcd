import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { evaluate } from '../../../lib/engine/evaluate.js';
import { ReportStoreError } from '../../../lib/errors.js';
import { S3ReportStore } from '../../../lib/report-store/s3.js';
import type { ScanRecord } from '../../../lib/report-store/types.js';
import { s3Error } from '../../helpers/aws-errors.js';
import { bucketEvidence, scanEvidence } from '../../helpers/evidence.js';

const s3Mock = mockClient(S3Client);
const s3 = new S3Client({
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' },
});

function record(scanId: string, scanTime: string): ScanRecord {
  const evidence = {
    ...scanEvidence([bucketEvidence('b1'), bucketEvidence('logs.example.com')]),
    scanId,
    scanTime,
  };
  const { findings, summary } = evaluate(evidence);
  return { summary: { schemaVersion: '1', source: 'scan', ...summary }, findings, evidence };
}

/** An in-memory bucket with S3's conditional-write semantics (ETag, If-Match, If-None-Match). */
function fakeBucket() {
  const objects = new Map<string, { body: Buffer; etag: string }>();
  let version = 0;
  const writes: string[] = [];
  s3Mock
    .on(PutObjectCommand)
    .callsFake(
      (input: { Key: string; Body: string | Buffer; IfMatch?: string; IfNoneMatch?: string }) => {
        const existing = objects.get(input.Key);
        if (input.IfNoneMatch === '*' && existing)
          throw s3Error(
            'PreconditionFailed',
            412,
            'At least one of the pre-conditions you specified did not hold',
          );
        if (input.IfMatch && existing?.etag !== input.IfMatch)
          throw s3Error(
            'PreconditionFailed',
            412,
            'At least one of the pre-conditions you specified did not hold',
          );
        version += 1;
        const etag = `"etag-${version}"`;
        objects.set(input.Key, { body: Buffer.from(input.Body), etag });
        writes.push(input.Key);
        return { ETag: etag };
      },
    );
  s3Mock.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    const object = objects.get(input.Key);
    if (!object) throw s3Error('NoSuchKey', 404, 'The specified key does not exist.');
    return { Body: Readable.from([object.body]), ETag: object.etag };
  });
  return { objects, writes };
}

describe('Class: S3ReportStore', () => {
  afterEach(() => s3Mock.reset());

  it('writes evidence, findings and summary before index.json, under the prefix, with ExpectedBucketOwner', async () => {
    // Prepare
    const bucket = fakeBucket();
    const store = new S3ReportStore({
      s3,
      bucket: 'reports',
      prefix: 'acct/',
      expectedOwner: '111122223333',
      kmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/k',
    });

    // Act
    const location = await store.writeScan(record('scan-1', '2026-11-01T06:00:00.000Z'));

    // Assess
    expect(location).toBe('s3://reports/acct/scans/scan-1');
    expect(bucket.writes.at(-1)).toBe('acct/index.json');
    expect(bucket.writes).toEqual(
      expect.arrayContaining([
        'acct/scans/scan-1/evidence/111122223333/us-east-1/logs.example.com.json',
        'acct/scans/scan-1/findings.ndjson.gz',
        'acct/scans/scan-1/summary.json',
      ]),
    );
    expect(s3Mock).toHaveReceivedCommandWith(PutObjectCommand, {
      Key: 'acct/index.json',
      IfNoneMatch: '*',
      ExpectedBucketOwner: '111122223333',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:aws:kms:us-east-1:111122223333:key/k',
    });
    const { findings } = await store.readScan('scan-1');
    expect(findings.length).toBeGreaterThan(10);
    expect(
      gunzipSync(bucket.objects.get('acct/scans/scan-1/findings.ndjson.gz')!.body).toString(),
    ).toContain('"ruleId"');
  });

  it('writes per-object CSVs of the work area before the summary, one bucket at a time', async () => {
    // Prepare
    const bucket = fakeBucket();
    const store = new S3ReportStore({ s3, bucket: 'reports' });
    let reading = 0;
    let peak = 0;
    const file = (name: string) => ({
      accountId: '111122223333',
      bucket: name,
      read: async () => {
        peak = Math.max(peak, ++reading);
        await new Promise((resolve) => setTimeout(resolve, 1));
        reading -= 1;
        return gzipSync(`key\r\n${name}-object\r\n`);
      },
    });

    // Act
    await store.writeScan({
      ...record('scan-2', '2026-11-02T06:00:00.000Z'),
      objectFiles: [file('b1'), file('logs.example.com')],
    });

    // Assess
    const csvKey = 'scans/scan-2/objects/111122223333/logs.example.com.csv.gz';
    expect(gunzipSync(bucket.objects.get(csvKey)!.body).toString()).toContain(
      'logs.example.com-object',
    );
    expect(bucket.writes.indexOf(csvKey)).toBeLessThan(
      bucket.writes.indexOf('scans/scan-2/summary.json'),
    );
    expect(peak).toBe(1);
  });

  it('never loses a scan when two finalizers race on index.json', async () => {
    // Prepare: both read the same index; the second write fails its If-Match and must merge.
    const bucket = fakeBucket();
    const first = new S3ReportStore({ s3, bucket: 'reports' });
    const second = new S3ReportStore({ s3, bucket: 'reports' });
    await first.writeScan(record('scan-0', '2026-10-31T06:00:00.000Z'));

    // Act
    await Promise.all([
      first.writeScan(record('scan-1', '2026-11-01T06:00:00.000Z')),
      second.writeScan(record('scan-2', '2026-11-02T06:00:00.000Z')),
    ]);

    // Assess
    const index = await first.readIndex();
    expect(index?.scans.map((s) => s.scanId)).toEqual(['scan-2', 'scan-1', 'scan-0']);
    expect(index?.latest).toBe('scan-2');
    expect(bucket.writes.filter((k) => k === 'index.json').length).toBe(3);
    // The race really happened: one conditional write was refused and retried.
    expect(s3Mock.commandCalls(PutObjectCommand, { Key: 'index.json' }).length).toBeGreaterThan(3);
  });

  it('does not touch index.json when an earlier write fails', async () => {
    // Prepare
    const bucket = fakeBucket();
    const store = new S3ReportStore({ s3, bucket: 'reports' });
    await store.writeScan(record('good', '2026-10-31T06:00:00.000Z'));
    s3Mock
      .on(PutObjectCommand, { Key: 'scans/bad/summary.json' })
      .rejects(s3Error('AccessDenied', 403, 'Access Denied'));

    // Act & Assess
    await expect(store.writeScan(record('bad', '2026-11-01T06:00:00.000Z'))).rejects.toBeInstanceOf(
      ReportStoreError,
    );
    expect((await store.readIndex())?.latest).toBe('good');
    expect(bucket.writes.filter((k) => k === 'index.json')).toHaveLength(1);
  });

  it('reads no index as undefined and a corrupt one as an error', async () => {
    // Prepare
    const bucket = fakeBucket();
    const store = new S3ReportStore({ s3, bucket: 'reports' });

    // Act & Assess
    expect(await store.readIndex()).toBeUndefined();
    bucket.objects.set('index.json', { body: Buffer.from('{"nope":1}'), etag: '"x"' });
    await expect(store.readIndex()).rejects.toThrow(/index\.json is corrupt/);
  });
});
