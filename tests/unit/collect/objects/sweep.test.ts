import {
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import pLimit from 'p-limit';
import { afterEach, describe, expect, it } from 'vitest';
import type { Limiter } from '../../../../lib/collect/buckets.js';
import { type SweepOptions, sweepBucket } from '../../../../lib/collect/objects/sweep.js';
import type { ObjectObservation } from '../../../../lib/evidence/object-observation.js';
import { s3Error } from '../../../helpers/aws-errors.js';

const s3Mock = mockClient(S3Client);
const s3 = new S3Client({
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' },
});
const KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const HOSTILE = [
  'with space.txt',
  'ünïcødé/文件.bin',
  'plus+sign',
  'percent%20encoded',
  'new\nline',
  '=cmd|"/C calc"!A0',
];

/** A bucket of `count` objects: every 7th plaintext, every 11th SSE-C, the rest KMS or SSE-S3. */
function mockBucket(count: number) {
  const keys = [
    ...HOSTILE,
    ...Array.from(
      { length: count - HOSTILE.length },
      (_, i) => `data/${String(i).padStart(6, '0')}.json`,
    ),
  ].sort();
  s3Mock
    .on(ListObjectsV2Command)
    .callsFake((input: { ContinuationToken?: string; MaxKeys?: number }) => {
      const start = Number(input.ContinuationToken ?? 0);
      const page = keys.slice(start, start + (input.MaxKeys ?? 1000));
      const next = start + page.length;
      return {
        Contents: page.map((Key) => ({
          Key,
          Size: 100,
          LastModified: new Date('2022-06-01T00:00:00Z'),
          StorageClass: 'STANDARD',
        })),
        KeyCount: page.length,
        IsTruncated: next < keys.length,
        ...(next < keys.length ? { NextContinuationToken: String(next) } : {}),
      };
    });
  s3Mock.on(HeadObjectCommand).callsFake((input: { Key: string }) => {
    const i = keys.indexOf(input.Key);
    if (i % 11 === 3) throw s3Error('Unknown', 400, 'Unknown');
    if (i % 7 === 0)
      return { Metadata: {}, LastModified: new Date('2020-01-01T00:00:00Z'), ContentLength: 100 };
    return i % 2
      ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KEY, BucketKeyEnabled: true }
      : { ServerSideEncryption: 'AES256' };
  });
  return keys;
}

function limiter(signal?: AbortSignal, concurrency = 16): Limiter {
  const limit = pLimit(concurrency);
  return (fn) =>
    limit(() => {
      signal?.throwIfAborted();
      return fn();
    });
}

const base = (overrides: Partial<SweepOptions> = {}): SweepOptions => ({
  s3,
  bucket: 'b1',
  owner: '111122223333',
  mode: 'full',
  versions: false,
  sampleSize: 50,
  limit: limiter(),
  ...overrides,
});

describe('Function: sweepBucket', () => {
  afterEach(() => s3Mock.reset());

  it('classifies every object over several listing pages, with ExpectedBucketOwner', async () => {
    // Prepare
    const keys = mockBucket(2500);
    const rows: ObjectObservation[] = [];

    // Act
    const result = await sweepBucket(base({ onObject: (o) => rows.push(o) }));

    // Assess
    if (!('evidence' in result)) throw new Error('expected evidence');
    const { evidence } = result;
    expect(s3Mock).toHaveReceivedCommandTimes(ListObjectsV2Command, 3);
    expect(s3Mock).toHaveReceivedCommandTimes(HeadObjectCommand, 2500);
    expect(s3Mock).toHaveReceivedCommandWith(HeadObjectCommand, {
      Bucket: 'b1',
      Key: 'new\nline',
      ExpectedBucketOwner: '111122223333',
    });
    expect(evidence).toMatchObject({ complete: true, listed: 2500, classified: 2500 });
    const count = (type: string) => evidence.byEncryption[type as 'NONE']?.count ?? 0;
    expect(count('NONE') + count('SSE-C') + count('SSE-KMS') + count('SSE-S3')).toBe(2500);
    expect(count('SSE-C')).toBe(keys.filter((_, i) => i % 11 === 3).length);
    expect(evidence.byKmsKey[KEY]?.count).toBe(count('SSE-KMS'));
    expect(evidence.byEncryption.NONE?.examples.length).toBeLessThanOrEqual(100);
    expect(rows.map((r) => r.key)).toEqual(keys);
  });

  it('reports objects listed and classified as it goes, and waits for the rows to be written before listing on', async () => {
    // Prepare: a writer that takes its time with every page.
    mockBucket(5000);
    const seen: { listed: number; classified: number }[] = [];
    let written = 0;
    let rows = 0;
    let aheadOfWriter = 0;

    // Act
    const result = await sweepBucket(
      base({
        onObject: () => {
          rows += 1;
        },
        whenWritten: async () => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          written = rows;
        },
        onProgress: (p) => {
          seen.push({ ...p });
          // Never more than the pages in flight beyond what the writer took.
          aheadOfWriter = Math.max(aheadOfWriter, p.listed - written);
        },
      }),
    );

    // Assess
    expect('evidence' in result && result.evidence.classified).toBe(5000);
    expect(seen.at(-1)).toEqual({ listed: 5000, classified: 5000 });
    for (const [i, p] of seen.entries()) {
      expect(p.classified).toBeLessThanOrEqual(p.listed);
      if (i > 0) expect(p.listed).toBeGreaterThanOrEqual(seen[i - 1]!.listed);
      if (i > 0) expect(p.classified).toBeGreaterThanOrEqual(seen[i - 1]!.classified);
    }
    expect(aheadOfWriter).toBeLessThanOrEqual(4000);
  });

  it('counts S3 Encryption Client instruction files, whose siblings carry no marker', async () => {
    // Prepare: V1/V2 clients can put every marker in `<key>.instruction` (aws-facts.md 1.4).
    const objects = ['report.pdf', 'report.pdf.instruction', 'v3.bin', 'plain.txt'];
    s3Mock.on(ListObjectsV2Command).resolves({
      Contents: objects.map((Key) => ({ Key, Size: 10, StorageClass: 'STANDARD' })),
      KeyCount: objects.length,
      IsTruncated: false,
    });
    s3Mock.on(HeadObjectCommand).callsFake((input: { Key: string }) => ({
      ServerSideEncryption: 'AES256',
      Metadata:
        input.Key === 'v3.bin'
          ? { 'x-amz-c': '115', 'x-amz-d': 'commitment', 'x-amz-i': 'message-id' }
          : {},
    }));

    // Act
    const result = await sweepBucket(base());

    // Assess
    if (!('evidence' in result)) throw new Error('expected evidence');
    expect(result.evidence.clientSide).toEqual({ v1: 0, v2: 0, v3: 1, instructionFiles: 1 });
    expect(result.evidence.byEncryption['SSE-S3']?.count).toBe(4);
  });

  it('keeps HEADs in flight per key prefix under prefixConcurrency, prefixes in parallel', async () => {
    // Prepare
    const objects = ['hot/', 'warm/', 'cold/'].flatMap((p) =>
      Array.from({ length: 30 }, (_, i) => `${p}${i}`),
    );
    s3Mock.on(ListObjectsV2Command).resolves({
      Contents: objects.map((Key) => ({ Key, Size: 1, StorageClass: 'STANDARD' })),
      KeyCount: objects.length,
      IsTruncated: false,
    });
    const inFlight = new Map<string, number>();
    const peak = new Map<string, number>();
    let total = 0;
    let peakTotal = 0;
    s3Mock.on(HeadObjectCommand).callsFake(async (input: { Key: string }) => {
      const prefix = input.Key.slice(0, input.Key.indexOf('/') + 1);
      inFlight.set(prefix, (inFlight.get(prefix) ?? 0) + 1);
      peak.set(prefix, Math.max(peak.get(prefix) ?? 0, inFlight.get(prefix) ?? 0));
      peakTotal = Math.max(peakTotal, ++total);
      await new Promise((resolve) => setTimeout(resolve, 2));
      inFlight.set(prefix, (inFlight.get(prefix) ?? 0) - 1);
      total -= 1;
      return { ServerSideEncryption: 'AES256' };
    });

    // Act
    const result = await sweepBucket(base({ limit: limiter(undefined, 64), prefixConcurrency: 4 }));

    // Assess
    if (!('evidence' in result)) throw new Error('expected evidence');
    expect(result.evidence.classified).toBe(90);
    expect(Object.fromEntries(peak)).toEqual({ 'hot/': 4, 'warm/': 4, 'cold/': 4 });
    expect(peakTotal).toBe(12);
  });

  it('records denied and failed HEADs without stopping', async () => {
    // Prepare
    mockBucket(20);
    s3Mock.on(HeadObjectCommand, { Key: 'plus+sign' }).rejects(s3Error('403', 403, 'Forbidden'));
    s3Mock
      .on(HeadObjectCommand, { Key: 'with space.txt' })
      .rejects(s3Error('SlowDown', 503, 'Please reduce your request rate.'));

    // Act
    const result = await sweepBucket(base());

    // Assess
    expect(result).toMatchObject({
      evidence: {
        denied: { count: 1, examples: ['plus+sign'] },
        failed: { count: 1, codes: { SlowDown: 1 } },
        classified: 18,
      },
    });
  });

  it('walks ListObjectVersions by hand, HEADs "null" versions verbatim and skips delete markers', async () => {
    // Prepare
    s3Mock.on(ListObjectVersionsCommand, { KeyMarker: undefined }).resolves({
      IsTruncated: true,
      NextKeyMarker: 'b',
      NextVersionIdMarker: 'v2',
      Versions: [
        {
          Key: 'a',
          VersionId: 'null',
          IsLatest: false,
          Size: 5,
          StorageClass: 'STANDARD',
          LastModified: new Date('2019-01-01T00:00:00Z'),
        },
        {
          Key: 'a',
          VersionId: 'v9',
          IsLatest: true,
          Size: 5,
          StorageClass: 'STANDARD',
          LastModified: new Date('2024-01-01T00:00:00Z'),
        },
      ],
    });
    s3Mock.on(ListObjectVersionsCommand, { KeyMarker: 'b', VersionIdMarker: 'v2' }).resolves({
      IsTruncated: false,
      DeleteMarkers: [{ Key: 'b', VersionId: 'dm1', IsLatest: true }],
    });
    s3Mock.on(HeadObjectCommand, { Key: 'a', VersionId: 'null' }).resolves({ Metadata: {} });
    s3Mock
      .on(HeadObjectCommand, { Key: 'a', VersionId: 'v9' })
      .resolves({ ServerSideEncryption: 'AES256' });

    // Act
    const result = await sweepBucket(base({ versions: true }));

    // Assess
    expect(s3Mock).toHaveReceivedCommandWith(HeadObjectCommand, { Key: 'a', VersionId: 'null' });
    expect(s3Mock).toHaveReceivedCommandTimes(HeadObjectCommand, 2);
    expect(result).toMatchObject({
      evidence: {
        versions: true,
        deleteMarkers: 1,
        byEncryption: { 'SSE-S3': { count: 1 } },
        noncurrentByEncryption: { NONE: { count: 1, examples: ['a'] } },
      },
    });
  });

  it('samples the same objects on every run while the bucket is unchanged', async () => {
    // Prepare
    mockBucket(3000);
    const sampled = async () => {
      const rows: string[] = [];
      await sweepBucket(
        base({ mode: 'sample', sampleSize: 40, onObject: (o) => rows.push(o.key) }),
      );
      return rows;
    };

    // Act
    const first = await sampled();
    const second = await sampled();

    // Assess
    expect(first).toHaveLength(40);
    expect(second).toEqual(first);
    // Spread over the whole listing, not the first page only.
    expect(first.some((k) => k > 'data/002000')).toBe(true);
    expect(first.some((k) => k < 'data/001000')).toBe(true);
  });

  it('reports a listing failure as incomplete evidence', async () => {
    // Prepare
    s3Mock.on(ListObjectsV2Command).rejects(s3Error('AccessDenied', 403, 'Access Denied'));

    // Act
    const result = await sweepBucket(base());

    // Assess
    expect(result).toMatchObject({
      evidence: { complete: false, classified: 0, listError: { code: 'AccessDenied' } },
    });
  });

  it('resumes from any abort point to the same aggregates and rows as an uninterrupted sweep', async () => {
    // Prepare: three listing pages; HEAD calls can trigger the abort at a chosen count.
    mockBucket(2300);
    let heads = 0;
    let abortAfter = Number.POSITIVE_INFINITY;
    let controller = new AbortController();
    s3Mock.on(HeadObjectCommand).callsFake((input: { Key: string }) => {
      heads += 1;
      if (heads === abortAfter) controller.abort(new Error('timeout approaching'));
      const i = Number(input.Key.replace(/\D/g, '') || 0);
      return i % 3 ? { ServerSideEncryption: 'AES256' } : { Metadata: {} };
    });
    const referenceRows: string[] = [];
    const reference = await sweepBucket(base({ onObject: (o) => referenceRows.push(o.key) }));
    let resumed = 0;

    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2300 }), async (abortPoint) => {
        // Act: abort after `abortPoint` HEADs, then resume from the checkpoint.
        heads = 0;
        abortAfter = abortPoint;
        controller = new AbortController();
        const rows: string[] = [];
        const first = await sweepBucket(
          base({
            limit: limiter(controller.signal),
            signal: controller.signal,
            onObject: (o) => rows.push(o.key),
          }),
        );
        abortAfter = Number.POSITIVE_INFINITY;
        if ('checkpoint' in first) resumed += 1;
        const finished =
          'checkpoint' in first
            ? await sweepBucket(
                base({ resume: first.checkpoint, onObject: (o) => rows.push(o.key) }),
              )
            : first;

        // Assess
        expect(finished).toEqual(reference);
        expect(rows).toEqual(referenceRows);
      }),
      { numRuns: 12, seed: 4242 },
    );
    expect(resumed).toBeGreaterThan(6);
  }, 120_000);
});
