import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import pLimit from 'p-limit';
import { afterEach, describe, expect, it } from 'vitest';
import { mergeAggregates } from '../../../../lib/collect/objects/aggregate.js';
import { planPartitions, sweepBucket } from '../../../../lib/collect/objects/sweep.js';

const s3Mock = mockClient(S3Client);
const s3 = new S3Client({
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' },
});
const KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const utf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * A bucket as S3 lists it: keys in UTF-8 order, pages of MaxKeys, Prefix, and Delimiter
 * (keys past the prefix that hold it become CommonPrefixes); HEAD answers follow the key.
 */
function fakeBucket(keys: string[], pageSize: number) {
  const sorted = [...new Set(keys)].sort(utf8);
  s3Mock
    .on(ListObjectsV2Command)
    .callsFake((input: { Prefix?: string; Delimiter?: string; ContinuationToken?: string }) => {
      const prefix = input.Prefix ?? '';
      const entries: { key?: string; common?: string }[] = [];
      for (const key of sorted) {
        if (!key.startsWith(prefix)) continue;
        const rest = key.slice(prefix.length);
        const cut = input.Delimiter ? rest.indexOf(input.Delimiter) : -1;
        if (cut < 0) entries.push({ key });
        else {
          const common = prefix + rest.slice(0, cut + 1);
          if (entries.at(-1)?.common !== common) entries.push({ common });
        }
      }
      const start = Number(input.ContinuationToken ?? 0);
      const page = entries.slice(start, start + pageSize);
      const next = start + page.length;
      return {
        Contents: page
          .filter((e) => e.key !== undefined)
          .map((e) => ({ Key: e.key, Size: (e.key ?? '').length, StorageClass: 'STANDARD' })),
        CommonPrefixes: page.filter((e) => e.common).map((e) => ({ Prefix: e.common })),
        IsTruncated: next < entries.length,
        ...(next < entries.length ? { NextContinuationToken: String(next) } : {}),
      };
    });
  s3Mock.on(HeadObjectCommand).callsFake((input: { Key: string }) => {
    const h = [...input.Key].reduce((n, c) => (n * 31 + (c.codePointAt(0) ?? 0)) >>> 0, 7);
    if (h % 5 === 0) return { Metadata: {}, ContentLength: 1 };
    return h % 2
      ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KEY }
      : { ServerSideEncryption: 'AES256' };
  });
  return sorted;
}

const options = () => {
  const limit = pLimit(8);
  return {
    s3,
    bucket: 'b1',
    owner: '111122223333',
    mode: 'full' as const,
    versions: false,
    sampleSize: 50,
    limit: <T>(fn: () => Promise<T>) => limit(fn),
    headTransport: 'sdk' as const,
  };
};

/** Keys with and without `/`, nested, and characters whose UTF-8 and UTF-16 orders differ. */
const keyArb = fc
  .array(fc.constantFrom('a', 'b', 'z', '/', '.', '-', '\u00e9', '\uff01', '\u{1F600}'), {
    minLength: 1,
    maxLength: 6,
  })
  .map((chars) => chars.join(''));

describe('Partitioned sweeps: the key space split by top-level prefix', () => {
  afterEach(() => s3Mock.reset());

  it('give, merged, exactly the aggregates of one sweep of the whole bucket', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(keyArb, { minLength: 1, maxLength: 250 }),
        fc.integer({ min: 2, max: 40 }),
        async (keys, pageSize) => {
          // Prepare
          s3Mock.reset();
          fakeBucket(keys, pageSize);

          // Act: one sweep; then a plan and one sweep per partition, merged.
          const whole = await sweepBucket(options());
          const partitions = await planPartitions(options());
          const parts = await Promise.all(
            partitions.map((partition) => sweepBucket({ ...options(), partition })),
          );

          // Assess
          if (!('evidence' in whole)) throw new Error('expected evidence');
          const merged = mergeAggregates(
            parts.map((p) => {
              if (!('evidence' in p)) throw new Error('expected evidence');
              return p.evidence;
            }),
            'smallest-keys',
          );
          expect(merged).toEqual(whole.evidence);
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);

  it('covers every key exactly once, and is one partition for a bucket without /', async () => {
    // Prepare
    const keys = fakeBucket(['a', 'a/', 'a/b', 'b/c/d', 'c', 'c/'], 2);

    // Act
    const partitions = await planPartitions(options());

    // Assess
    expect(partitions).toEqual([
      { prefix: '', rootOnly: true },
      { prefix: 'a/' },
      { prefix: 'b/' },
      { prefix: 'c/' },
    ]);
    expect(keys).toHaveLength(6);
    s3Mock.reset();
    fakeBucket(['x', 'y', 'z'], 2);
    expect(await planPartitions(options())).toEqual([{ prefix: '' }]);
  });
});
