import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../lib/config/config.js';
import { getFindings } from '../../../lib/dashboard/api.js';
import { ReportStoreError, ScanFilesTaken } from '../../../lib/errors.js';
import { S3ReportStore } from '../../../lib/report-store/s3.js';
import type { ScanRecord } from '../../../lib/report-store/types.js';
import { evaluateScan } from '../../../lib/scan/evaluate-scan.js';
import { judgeAndStore } from '../../../lib/scan/run-scan.js';
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
  const { findings, summary } = evaluateScan(evidence);
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
  s3Mock.on(GetObjectCommand).callsFake((input: { Key: string; Range?: string }) => {
    const object = objects.get(input.Key);
    if (!object) throw s3Error('NoSuchKey', 404, 'The specified key does not exist.');
    const range = input.Range ? /^bytes=(\d+)-(\d+)$/.exec(input.Range) : null;
    if (input.Range && !range) throw new Error(`the fake does not know Range ${input.Range}`);
    if (range && Number(range[1]) >= object.body.length)
      throw s3Error('InvalidRange', 416, 'The requested range is not satisfiable');
    // S3 answers an end past the object with the bytes up to its end (206).
    const body = range ? object.body.subarray(Number(range[1]), Number(range[2]) + 1) : object.body;
    return { Body: Readable.from([body]), ETag: object.etag };
  });
  return { objects, writes };
}

describe('Class: S3ReportStore', () => {
  afterEach(() => s3Mock.reset());

  it('writes the findings index with the scan and serves dashboard pages from ranged reads', async () => {
    // Prepare
    const bucket = fakeBucket();
    const store = new S3ReportStore({ s3, bucket: 'reports', prefix: 'acct' });
    const scan = record('scan-1', '2026-11-01T06:00:00.000Z');
    await store.writeScan(scan);

    // Act
    const page = await getFindings(store, 'scan-1', { status: 'FAIL', limit: '5' });

    // Assess: view/ written before index.json, its index last of the view; pages by Range.
    const keys = bucket.writes.map((k) => k.replace('acct/scans/scan-1/', ''));
    expect(keys.indexOf('view/index.json')).toBeGreaterThan(keys.indexOf('view/pages.bin'));
    expect(keys.indexOf('view/index.json')).toBeLessThan(keys.indexOf('acct/index.json'));
    expect(page.total).toBe(scan.findings.filter((f) => f.status === 'FAIL').length);
    expect(page.findings).toHaveLength(5);
    const ranged = s3Mock
      .commandCalls(GetObjectCommand)
      .map((c) => c.args[0].input)
      .filter((i) => i.Range);
    expect(ranged.length).toBeGreaterThan(0);
    expect(ranged.every((i) => i.Key === 'acct/scans/scan-1/view/pages.bin')).toBe(true);
  });

  it('reports a short or refused ranged read as a ReportStoreError naming the object', async () => {
    // Prepare
    fakeBucket();
    const store = new S3ReportStore({ s3, bucket: 'reports' });
    await store.writeScan(record('scan-1', '2026-11-01T06:00:00.000Z'));

    // Act + Assess
    await expect(
      store.readScanFileRange('scan-1', 'view/pages.bin', 10 ** 9, 10 ** 9 + 10),
    ).rejects.toThrow(
      /cannot read bytes 1000000000-1000000009 of s3:\/\/reports\/scans\/scan-1\/view\/pages.bin: InvalidRange/,
    );
    await expect(store.readScanFileRange('scan-1', 'summary.json', 0, 10 ** 7)).rejects.toThrow(
      /asked for 10000000 bytes, got \d+/,
    );
    expect(await store.readScanFile('scan-1', 'view/none.json')).toBeUndefined();
    await expect(store.readScanFile('scan-1', '../index.json')).rejects.toThrow(
      /is not a path inside a scan folder/,
    );
  });

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

  it('refuses to rewrite a published scan, and writes nothing', async () => {
    // Prepare
    const bucket = fakeBucket();
    const store = new S3ReportStore({ s3, bucket: 'reports' });
    await store.writeScan(record('scan-1', '2026-11-01T06:00:00.000Z'));
    const writes = bucket.writes.length;

    // Act & Assess
    await expect(store.writeScan(record('scan-1', '2026-11-05T06:00:00.000Z'))).rejects.toThrow(
      /scan scan-1 .*immutable audit evidence/,
    );
    expect(bucket.writes).toHaveLength(writes);
  });

  it('creates every file of a scan with If-None-Match: *, and only index.json is replaced', async () => {
    // Prepare
    fakeBucket();
    const store = new S3ReportStore({ s3, bucket: 'reports' });

    // Act
    await store.writeScan(record('scan-1', '2026-11-01T06:00:00.000Z'));
    await store.writeScan(record('scan-2', '2026-11-02T06:00:00.000Z'));

    // Assess: the stack's roles may put under scans/ only with this header (serverless.yml).
    const puts = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    const scanFiles = puts.filter((i) => i.Key?.startsWith('scans/'));
    expect(scanFiles.length).toBeGreaterThan(10);
    expect(scanFiles.filter((i) => i.IfNoneMatch !== '*')).toEqual([]);
    const index = puts.filter((i) => i.Key === 'index.json');
    expect(index).toHaveLength(2);
    expect(index[0]).toMatchObject({ IfNoneMatch: '*' });
    expect(index[1]?.IfNoneMatch).toBeUndefined();
    expect(index[1]?.IfMatch).toMatch(/^"etag-\d+"$/);
  });

  it('never replaces a file an unfinished write of the same scan left: ScanFilesTaken names it, index.json untouched', async () => {
    // Prepare: an earlier attempt of scan-7 stopped after its findings, before index.json.
    const bucket = fakeBucket();
    const store = new S3ReportStore({ s3, bucket: 'reports', prefix: 'acct' });
    await store.writeScan(record('scan-0', '2026-10-31T06:00:00.000Z'));
    bucket.objects.set('acct/scans/scan-7/findings.ndjson.gz', {
      body: gzipSync('{"left":"by the first attempt"}\n'),
      etag: '"first-attempt"',
    });

    // Act
    const attempt = store.writeScan(record('scan-7', '2026-11-07T06:00:00.000Z'));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ScanFilesTaken);
    await expect(attempt).rejects.toThrow(
      /scan scan-7 cannot be written: acct\/scans\/scan-7\/findings.ndjson.gz already exists/,
    );
    expect(
      gunzipSync(bucket.objects.get('acct/scans/scan-7/findings.ndjson.gz')!.body).toString(),
    ).toBe('{"left":"by the first attempt"}\n');
    expect((await store.readIndex())?.scans.map((s) => s.scanId)).toEqual(['scan-0']);
  });

  it('stores the judgement again under a new id naming the unfinished write it replaces', async () => {
    // Prepare
    const bucket = fakeBucket();
    const store = new S3ReportStore({ s3, bucket: 'reports' });
    const { evidence } = record('scan-7', '2026-11-07T06:00:00.000Z');
    bucket.objects.set('scans/scan-7/summary.json', { body: Buffer.from('{}'), etag: '"old"' });

    // Act
    const stored = await judgeAndStore(evidence, defaultConfig(), { store, source: 'scan' });

    // Assess
    expect(stored.summary.retryOf).toBe('scan-7');
    expect(stored.summary.scanId).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{12}$/);
    const index = await store.readIndex();
    expect(index?.latest).toBe(stored.summary.scanId);
    expect(index?.scans[0]).toMatchObject({ scanId: stored.summary.scanId, retryOf: 'scan-7' });
    const back = await store.readScan(stored.summary.scanId);
    expect(back.summary).toMatchObject({ retryOf: 'scan-7', scanTime: evidence.scanTime });
    expect(back.findings).toHaveLength(stored.findings.length);
    expect(bucket.objects.get('scans/scan-7/summary.json')?.etag).toBe('"old"');
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
      chunks: async function* () {
        peak = Math.max(peak, ++reading);
        yield gzipSync(`key\r\n${name}-object\r\n`);
        await new Promise((resolve) => setTimeout(resolve, 1));
        yield gzipSync(`${name}-second\r\n`);
        reading -= 1;
      },
    });

    // Act
    await store.writeScan({
      ...record('scan-2', '2026-11-02T06:00:00.000Z'),
      objectFiles: [file('b1'), file('logs.example.com')],
    });

    // Assess: small files go up in one PutObject; gzip members read back to back.
    const csvKey = 'scans/scan-2/objects/111122223333/logs.example.com.csv.gz';
    expect(gunzipSync(bucket.objects.get(csvKey)!.body).toString()).toBe(
      'key\r\nlogs.example.com-object\r\nlogs.example.com-second\r\n',
    );
    expect(bucket.writes.indexOf(csvKey)).toBeLessThan(
      bucket.writes.indexOf('scans/scan-2/summary.json'),
    );
    expect(peak).toBe(1);
    expect(s3Mock).not.toHaveReceivedCommand(CreateMultipartUploadCommand);
  });

  it('uploads a large per-object CSV in parts with the report key, one part in memory', async () => {
    // Prepare: three 5 MiB chunks make a 10 MiB part and a 5 MiB last part.
    const bucket = fakeBucket();
    const uploaded = new Map<number, Buffer>();
    s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-1' });
    s3Mock.on(UploadPartCommand).callsFake((input: { PartNumber: number; Body: Buffer }) => {
      uploaded.set(input.PartNumber, Buffer.from(input.Body));
      return { ETag: `"part-${input.PartNumber}"` };
    });
    s3Mock.on(CompleteMultipartUploadCommand).resolves({ ETag: '"whole-2"' });
    const store = new S3ReportStore({
      s3,
      bucket: 'reports',
      expectedOwner: '111122223333',
      kmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/k',
    });
    const chunk = (fill: number) => Buffer.alloc(5 * 2 ** 20, fill);

    // Act
    await store.writeScan({
      ...record('scan-3', '2026-11-03T06:00:00.000Z'),
      objectFiles: [
        {
          accountId: '111122223333',
          bucket: 'huge',
          chunks: async function* () {
            yield chunk(1);
            yield chunk(2);
            yield chunk(3);
          },
        },
      ],
    });

    // Assess
    expect(s3Mock).toHaveReceivedCommandWith(CreateMultipartUploadCommand, {
      Key: 'scans/scan-3/objects/111122223333/huge.csv.gz',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:aws:kms:us-east-1:111122223333:key/k',
      ExpectedBucketOwner: '111122223333',
    });
    expect([...uploaded.keys()]).toEqual([1, 2]);
    expect(uploaded.get(1)?.length).toBe(10 * 2 ** 20);
    expect(uploaded.get(2)?.[0]).toBe(3);
    expect(s3Mock).toHaveReceivedCommandWith(CompleteMultipartUploadCommand, {
      UploadId: 'upload-1',
      IfNoneMatch: '*',
      MultipartUpload: {
        Parts: [
          { ETag: '"part-1"', PartNumber: 1 },
          { ETag: '"part-2"', PartNumber: 2 },
        ],
      },
    });
    expect(bucket.writes.at(-1)).toBe('index.json');
  });

  it('aborts a failed multipart upload and leaves index.json alone', async () => {
    // Prepare
    const bucket = fakeBucket();
    s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-2' });
    s3Mock
      .on(UploadPartCommand)
      .rejects(
        s3Error('InternalError', 500, 'We encountered an internal error. Please try again.'),
      );
    s3Mock.on(AbortMultipartUploadCommand).resolves({});
    const store = new S3ReportStore({ s3, bucket: 'reports' });

    // Act
    const attempt = store.writeScan({
      ...record('scan-4', '2026-11-04T06:00:00.000Z'),
      objectFiles: [
        {
          accountId: '111122223333',
          bucket: 'huge',
          chunks: async function* () {
            yield Buffer.alloc(9 * 2 ** 20);
          },
        },
      ],
    });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ReportStoreError);
    expect(s3Mock).toHaveReceivedCommandWith(AbortMultipartUploadCommand, { UploadId: 'upload-2' });
    expect(bucket.writes).not.toContain('index.json');
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
