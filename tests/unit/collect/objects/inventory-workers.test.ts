import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectAggregator } from '../../../../lib/collect/objects/aggregate.js';
import { countInventoryCsv } from '../../../../lib/collect/objects/inventory-csv.js';
import { InventoryWorkers } from '../../../../lib/collect/objects/inventory-workers.js';
import { InventoryUnavailableError } from '../../../../lib/errors.js';

const COLUMNS = [
  'Bucket',
  'Key',
  'VersionId',
  'IsLatest',
  'IsDeleteMarker',
  'Size',
  'LastModifiedDate',
  'StorageClass',
  'EncryptionStatus',
  'BucketKeyStatus',
];
const STATUSES = ['SSE-S3', 'SSE-KMS', 'NOT-SSE', 'SSE-C', 'DSSE-KMS', 'SOMETHING-NEW'];

function csvFile(rows: number, seed: number): Buffer {
  let text = '';
  for (let i = 0; i < rows; i++)
    text += `"src","logs/${seed}/object+${i}%2Fx.json","","${i % 9 ? 'true' : 'false'}","${i % 97 === 0 ? 'true' : 'false'}","${i * 7}","2024-05-01T00:00:00.000Z","STANDARD","${STATUSES[(i + seed) % STATUSES.length]}","ENABLED"\n`;
  return gzipSync(text);
}

/** A readable of `bytes` in chunks of `size`, as an S3 body arrives. */
const body = (bytes: Buffer, size = 16 * 1024) =>
  Readable.from(
    Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) =>
      bytes.subarray(i * size, (i + 1) * size),
    ),
  );

describe('InventoryWorkers: CSV data files counted on other threads', () => {
  let workers: InventoryWorkers;
  beforeAll(() => {
    // The TypeScript source, as the bundle's worker would be started beside dist/cli/main.js.
    const started = InventoryWorkers.start({
      size: 2,
      entry: new URL('../../../../lib/collect/objects/inventory-worker.ts', import.meta.url),
    });
    if (!started) throw new Error('the worker source is missing');
    workers = started;
  });
  afterAll(async () => {
    await workers.close();
  });

  it('gives the aggregates this thread gives, for files counted side by side', async () => {
    // Prepare
    const files = [csvFile(20_000, 1), csvFile(15_000, 2), csvFile(1, 3)];
    const here = await Promise.all(
      files.map(async (file) => {
        const aggregator = new ObjectAggregator('inventory', false);
        await countInventoryCsv(body(file), COLUMNS, aggregator);
        return aggregator.result(true);
      }),
    );

    // Act
    const there = await Promise.all(
      files.map((file) => workers.count(body(file), { columns: COLUMNS, versions: false })),
    );

    // Assess
    expect(there).toEqual(here);
    expect(there[0]?.listed).toBe(20_000);
  });

  it('a file that is not gzip, and a schema without EncryptionStatus, fail that file only', async () => {
    // Act
    const garbage = workers.count(body(Buffer.from('not gzip at all')), {
      columns: COLUMNS,
      versions: false,
    });
    const schema = workers.count(body(csvFile(10, 1)), {
      columns: COLUMNS.filter((c) => c !== 'EncryptionStatus'),
      versions: false,
    });
    const fine = workers.count(body(csvFile(10, 1)), { columns: COLUMNS, versions: false });

    const [g, bad, ok] = await Promise.allSettled([garbage, schema, fine]);

    // Assess
    expect(g.status === 'rejected' && String(g.reason)).toMatch(/incorrect header check/);
    expect(bad.status === 'rejected' && bad.reason).toBeInstanceOf(InventoryUnavailableError);
    expect(bad.status === 'rejected' && String(bad.reason)).toMatch(
      /fileSchema lacks Key or EncryptionStatus/,
    );
    expect(ok.status === 'fulfilled' && ok.value.listed).toBe(10);
  });

  it('there is no pool when the worker bundle is not there (the Lambdas, tests from source)', () => {
    expect(
      InventoryWorkers.start({ entry: new URL('./no-such-worker.js', import.meta.url) }),
    ).toBeUndefined();
  });
});
