import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decodeInventoryKey,
  findInventory,
  InventoryUnavailableError,
  readInventory,
} from '../../../../lib/collect/objects/inventory.js';
import type { InventoryConfiguration } from '../../../../lib/evidence/types.js';
import { s3Error } from '../../../helpers/aws-errors.js';
import {
  encodeKey,
  type InventoryRow,
  inventoryCsvGz,
  inventoryParquet,
  manifest,
  md5,
} from '../../../helpers/inventory.js';

const s3Mock = mockClient(S3Client);
const s3 = new S3Client({
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' },
});
const limit = <T>(fn: () => Promise<T>) => fn();
const DEST = 'inventory-destination';
const HOSTILE_KEYS = [
  'with space.txt',
  'ünïcødé/文件.bin',
  'plus+sign',
  'percent%41',
  'new\nline',
  'comma,quote".csv',
];

const config = (overrides: Partial<InventoryConfiguration> = {}): InventoryConfiguration => ({
  Id: 'daily',
  IsEnabled: true,
  IncludedObjectVersions: 'Current',
  Schedule: { Frequency: 'Daily' },
  Destination: {
    S3BucketDestination: { Bucket: `arn:aws:s3:::${DEST}`, Format: 'CSV', Prefix: 'inv' },
  },
  OptionalFields: [
    'Size',
    'LastModifiedDate',
    'StorageClass',
    'EncryptionStatus',
    'BucketKeyStatus',
  ],
  ...overrides,
});

function rows(): InventoryRow[] {
  const statuses = ['SSE-S3', 'SSE-KMS', 'NOT-SSE', 'SSE-C', 'DSSE-KMS', 'SOME-FUTURE-SSE'];
  return [
    ...HOSTILE_KEYS.map((key, i) => ({
      key,
      size: 10,
      lastModified: '2022-01-01T00:00:00.000Z',
      storageClass: 'STANDARD',
      encryptionStatus: statuses[i % statuses.length]!,
    })),
    ...Array.from({ length: 1200 }, (_, i) => ({
      // Two instruction files of the S3 Encryption Client, whose siblings carry no markers.
      key: i % 600 === 599 ? `data/${i - 1}.json.instruction` : `data/${i}.json`,
      size: 100,
      lastModified: '2024-05-01T00:00:00.000Z',
      storageClass: i % 2 ? 'STANDARD' : 'GLACIER',
      encryptionStatus: 'SSE-KMS',
      bucketKeyStatus: 'ENABLED',
    })),
    {
      key: 'gone.txt',
      isLatest: true,
      isDeleteMarker: true,
      size: 0,
      lastModified: '2024-05-01T00:00:00.000Z',
      storageClass: '',
      encryptionStatus: '',
    },
  ];
}

/** A destination bucket holding one delivery: manifest, checksum and data files. */
function serve(files: Record<string, Buffer | string>, deliveries = ['2026-10-31T01-00Z']) {
  s3Mock.on(ListObjectsV2Command).callsFake((input: { Bucket: string; Prefix: string }) => ({
    CommonPrefixes: [
      ...deliveries.map((d) => ({ Prefix: `${input.Prefix}${d}/` })),
      { Prefix: `${input.Prefix}data/` },
      { Prefix: `${input.Prefix}hive/` },
    ],
  }));
  s3Mock.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    const body = files[input.Key];
    if (body === undefined) throw s3Error('NoSuchKey', 404, 'The specified key does not exist.');
    return { Body: Readable.from([Buffer.from(body)]) };
  });
}

const choiceFor = async (
  overrides: Partial<InventoryConfiguration> = {},
  scanTime = '2026-11-01T06:00:00Z',
) =>
  findInventory({
    s3ForBucket: () => s3,
    bucket: 'src',
    configurations: [config(overrides)],
    versions: false,
    scanTime: new Date(scanTime),
    maxAgeDays: 8,
    limit,
  });

const base = 'inv/src/daily/2026-10-31T01-00Z/';

describe('S3 Inventory', () => {
  afterEach(() => s3Mock.reset());

  it('decodes URL-encoded keys with + for spaces', () => {
    for (const key of HOSTILE_KEYS) expect(decodeInventoryKey(encodeKey(key))).toBe(key);
  });

  it('finds the newest delivery under the destination prefix', async () => {
    // Prepare
    serve({}, ['2026-10-29T01-00Z', '2026-10-31T01-00Z', '2026-10-30T01-00Z']);

    // Act
    const choice = await choiceFor();

    // Assess
    expect(choice).toMatchObject({
      destinationBucket: DEST,
      manifestKey: `${base}manifest.json`,
      createdAt: '2026-10-31T01:00:00.000Z',
    });
    expect(s3Mock).toHaveReceivedCommandWith(ListObjectsV2Command, {
      Bucket: DEST,
      Prefix: 'inv/src/daily/',
      Delimiter: '/',
    });
  });

  it('reads every page of delivery folders: past 1,000 deliveries the newest is on a later page', async () => {
    // Prepare: three years of daily deliveries, listed oldest first, 1,000 prefixes a page.
    const start = Date.parse('2023-11-02T01:00:00Z');
    const deliveries = Array.from({ length: 1095 }, (_, day) =>
      new Date(start + day * 86_400_000)
        .toISOString()
        .replace(/:\d\d\.\d{3}Z$/, 'Z')
        .replace(':', '-'),
    );
    s3Mock
      .on(ListObjectsV2Command)
      .callsFake((input: { Prefix: string; ContinuationToken?: string }) => {
        const from = Number(input.ContinuationToken ?? 0);
        const page = deliveries.slice(from, from + 1000);
        const next = from + page.length;
        return {
          CommonPrefixes: page.map((d) => ({ Prefix: `${input.Prefix}${d}/` })),
          IsTruncated: next < deliveries.length,
          ...(next < deliveries.length ? { NextContinuationToken: String(next) } : {}),
        };
      });

    // Act
    const choice = await choiceFor({}, '2026-11-01T06:00:00Z');

    // Assess
    expect(deliveries.at(-1)).toBe('2026-10-31T01-00Z');
    expect(choice.createdAt).toBe('2026-10-31T01:00:00.000Z');
    expect(s3Mock).toHaveReceivedCommandTimes(ListObjectsV2Command, 2);
    expect(s3Mock).toHaveReceivedNthCommandWith(ListObjectsV2Command, 2, {
      ContinuationToken: '1000',
    });
  });

  it.each([
    [
      'a configuration without EncryptionStatus',
      { OptionalFields: ['Size'] },
      /NoInventoryWithEncryptionStatus|EncryptionStatus/,
    ],
    ['a stale delivery', {}, /days old/],
  ])('refuses %s', async (_what, overrides, message) => {
    serve({}, ['2026-09-01T01-00Z']);
    await expect(choiceFor(overrides)).rejects.toThrow(message);
  });

  it('says so when the destination (maybe another account) denies the listing', async () => {
    s3Mock.on(ListObjectsV2Command).rejects(s3Error('AccessDenied', 403, 'Access Denied'));
    await expect(choiceFor()).rejects.toThrow(/failed \(AccessDenied\)/);
  });

  it('streams gzip CSV files, verifies checksums and aggregates like a HEAD sweep would', async () => {
    // Prepare
    const all = rows();
    const part1 = inventoryCsvGz('src', all.slice(0, 700));
    const part2 = inventoryCsvGz('src', all.slice(700));
    const manifestText = manifest('src', 'CSV', [
      { key: 'inv/src/daily/data/1.csv.gz', data: part1 },
      { key: 'inv/src/daily/data/2.csv.gz', data: part2 },
    ]);
    serve({
      [`${base}manifest.json`]: manifestText,
      [`${base}manifest.checksum`]: md5(manifestText),
      'inv/src/daily/data/1.csv.gz': part1,
      'inv/src/daily/data/2.csv.gz': part2,
    });
    // Act
    const evidence = await readInventory({ s3, choice: await choiceFor(), limit });

    // Assess
    expect(evidence).toMatchObject({
      mode: 'inventory',
      complete: true,
      listed: all.length,
      deleteMarkers: 1,
      byEncryption: {
        NONE: { count: 1, examples: ['plus+sign'] },
        'SSE-C': { count: 1, examples: ['percent%41'] },
        'DSSE-KMS': { count: 1, examples: ['new\nline'] },
        UNKNOWN: { count: 1 },
      },
      unknownAlgorithms: { 'SOME-FUTURE-SSE': 1 },
      byKmsKey: {},
      byStorageClass: { GLACIER: { count: 600 } },
      clientSide: { instructionFiles: 2 },
      inventory: { fileFormat: 'CSV', files: 2, createdAt: '2026-10-31T01:00:00.000Z' },
    });
    expect(evidence.byEncryption['SSE-KMS']?.count).toBe(1201);
    // Keys come back URL-decoded, whatever they contain.
    expect(evidence.byEncryption['SSE-S3']?.examples).toEqual(['with space.txt']);
    expect(evidence.byEncryption['SSE-KMS']?.examples[0]).toBe('ünïcødé/文件.bin');
    expect(evidence.byEncryption.UNKNOWN?.examples).toEqual(['comma,quote".csv']);
  });

  it('reads Parquet deliveries one row group at a time', async () => {
    // Prepare
    const all = rows();
    const data = inventoryParquet('src', all);
    const manifestText = manifest(
      'src',
      'Parquet',
      [{ key: 'inv/src/daily/data/1.parquet', data }],
      'message s3.inventory { required binary bucket (UTF8); required binary key (UTF8); }',
    );
    serve({ [`${base}manifest.json`]: manifestText, 'inv/src/daily/data/1.parquet': data });

    // Act
    const evidence = await readInventory({ s3, choice: await choiceFor(), limit });

    // Assess
    expect(evidence).toMatchObject({
      listed: all.length,
      deleteMarkers: 1,
      byEncryption: { NONE: { count: 1 }, 'SSE-KMS': { count: 1201 } },
      clientSide: { instructionFiles: 2 },
      inventory: { fileFormat: 'PARQUET' },
    });
    expect(evidence.byEncryption['DSSE-KMS']?.examples).toEqual(['new\nline']);
  });

  it.each([
    ['a data file whose MD5 differs from the manifest', 'data', /InventoryChecksumMismatch|MD5/],
    [
      'a manifest that does not match manifest.checksum',
      'checksum',
      /does not match manifest\.checksum/,
    ],
    ['a truncated gzip file', 'truncated', /InventoryFileUnreadable|unexpected end/i],
    [
      'a CSV file whose quote never closes',
      'unbalanced',
      /1\.csv\.gz: CsvRecordError: a CSV record runs past 1048576 bytes without ending: an unbalanced quote/,
    ],
  ])('refuses %s with a clear error', async (_what, defect, message) => {
    // Prepare
    const part = inventoryCsvGz('src', rows());
    const broken =
      defect === 'truncated'
        ? part.subarray(0, Math.floor(part.length / 2))
        : defect === 'unbalanced'
          ? gzipSync('"src","data/a.json\n'.repeat(100_000))
          : part;
    const manifestText = manifest('src', 'CSV', [
      {
        key: 'inv/src/daily/data/1.csv.gz',
        data: defect === 'data' ? Buffer.from('other bytes') : broken,
      },
    ]);
    serve({
      [`${base}manifest.json`]: manifestText,
      [`${base}manifest.checksum`]:
        defect === 'checksum' ? md5('something else') : md5(manifestText),
      'inv/src/daily/data/1.csv.gz': broken,
    });

    // Act & Assess
    const attempt = readInventory({ s3, choice: await choiceFor(), limit });
    await expect(attempt).rejects.toBeInstanceOf(InventoryUnavailableError);
    await expect(readInventory({ s3, choice: await choiceFor(), limit })).rejects.toThrow(message);
  });

  it('refuses ORC, saying what to switch to', async () => {
    serve({ [`${base}manifest.json`]: manifest('src', 'ORC', []) });
    await expect(readInventory({ s3, choice: await choiceFor(), limit })).rejects.toThrow(
      /ORC .*not supported.*Switch the inventory configuration to Parquet or CSV/,
    );
  });
});
