import { Readable } from 'node:stream';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AwsClients } from '../../../lib/collect/clients.js';
import { collectEvidence } from '../../../lib/collect/scan.js';
import { evaluateScan } from '../../../lib/scan/evaluate-scan.js';
import { inventoryCsvGz, manifest } from '../../helpers/inventory.js';
import { mockAccount } from '../../helpers/mocked-account.js';

const s3 = mockClient(S3Client);
const sts = mockClient(STSClient);
const clients = () =>
  new AwsClients(
    { maxAttempts: 1, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' } },
    'us-east-1',
  );
const inventoryConfig = {
  Id: 'daily',
  IsEnabled: true,
  IncludedObjectVersions: 'Current' as const,
  Schedule: { Frequency: 'Daily' as const },
  Destination: { S3BucketDestination: { Bucket: 'arn:aws:s3:::dest', Format: 'CSV' as const } },
  OptionalFields: ['EncryptionStatus' as const],
};
const plaintextRows = [
  {
    key: 'legacy.csv',
    size: 5,
    lastModified: '2020-01-01T00:00:00.000Z',
    storageClass: 'STANDARD',
    encryptionStatus: 'NOT-SSE',
  },
  {
    // Encrypted by the S3 Encryption Client in 2021: S3 Inventory can only say NOT-SSE.
    key: 'vault/ledger.bin',
    size: 7,
    lastModified: '2021-01-01T00:00:00.000Z',
    storageClass: 'STANDARD',
    encryptionStatus: 'NOT-SSE',
  },
];

describe('Object modes inventory and auto', () => {
  beforeEach(() => {
    mockAccount(
      { s3, sts },
      {
        session: 'cli',
        buckets: [
          { name: 'good', inventoryConfigurations: [inventoryConfig] },
          { name: 'broken', inventoryConfigurations: [inventoryConfig] },
          { name: 'none' },
        ],
      },
    );
    s3.on(ListObjectsV2Command, { Bucket: 'dest' }).callsFake((input: { Prefix: string }) => ({
      CommonPrefixes: [{ Prefix: `${input.Prefix}2026-10-31T01-00Z/` }],
    }));
    const good = inventoryCsvGz('good', plaintextRows);
    const broken = inventoryCsvGz('broken', plaintextRows);
    const files: Record<string, Buffer | string> = {
      'good/daily/2026-10-31T01-00Z/manifest.json': manifest('good', 'CSV', [
        { key: 'good/daily/data/a.csv.gz', data: good },
      ]),
      'good/daily/data/a.csv.gz': good,
      'broken/daily/2026-10-31T01-00Z/manifest.json': manifest('broken', 'CSV', [
        { key: 'broken/daily/data/a.csv.gz', data: broken },
      ]),
      'broken/daily/data/a.csv.gz': broken.subarray(0, 12),
    };
    s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
      const body = files[input.Key];
      if (!body)
        throw Object.assign(new Error('NoSuchKey'), {
          name: 'NoSuchKey',
          $metadata: { httpStatusCode: 404 },
        });
      return { Body: Readable.from([Buffer.from(body)]) };
    });
    s3.on(ListObjectsV2Command, { Bucket: 'none' }).resolves({
      Contents: [{ Key: 'sampled.txt', Size: 3 }],
      IsTruncated: false,
    });
    s3.on(ListObjectsV2Command, { Bucket: 'broken' }).resolves({
      Contents: [{ Key: 'sampled.txt', Size: 3 }],
      IsTruncated: false,
    });
    s3.on(HeadObjectCommand).resolves({ ServerSideEncryption: 'AES256' });
    s3.on(HeadObjectCommand, { Bucket: 'good', Key: 'legacy.csv' }).resolves({
      ContentLength: 5,
      Metadata: {},
    });
    s3.on(HeadObjectCommand, { Bucket: 'good', Key: 'vault/ledger.bin' }).resolves({
      ContentLength: 7,
      Metadata: { 'x-amz-key-v2': 'wrapped', 'x-amz-iv': 'iv', 'x-amz-wrap-alg': 'kms+context' },
    });
  });
  afterEach(() => {
    s3.reset();
    sts.reset();
  });

  const run = (mode: 'inventory' | 'auto') =>
    collectEvidence({
      clients: clients(),
      concurrency: 4,
      scanId: 's',
      scanTime: new Date('2026-11-01T06:00:00Z'),
      toolVersion: 't',
      objects: { mode, versions: false, sampleSize: 5 },
    });

  it('inventory mode: reads a good delivery, reports a truncated one as ERROR, leaves the others alone', async () => {
    // Act
    const { evidence } = await run('inventory');
    const { findings } = evaluateScan(evidence);
    const status = (bucket: string) =>
      findings.find((f) => f.resource.name === bucket && f.ruleId === 's3-objects-unencrypted');

    // Assess
    // The plaintext rows were HEADed: the client-side encrypted one is not plaintext after all.
    expect(evidence.buckets.find((b) => b.name === 'good')?.objects).toMatchObject({
      mode: 'inventory',
      byEncryption: {
        NONE: { count: 1, bytes: 5, examples: ['legacy.csv'] },
        'CLIENT-SIDE': { count: 1, bytes: 7, examples: ['vault/ledger.bin'] },
      },
      plaintextVerified: { headed: 2, clientSide: 1, failed: 0, unverified: 0 },
    });
    expect(status('good')?.status).toBe('FAIL');
    expect(status('broken')).toMatchObject({
      status: 'ERROR',
      message: expect.stringMatching(/InventoryFileUnreadable/),
    });
    expect(status('none')).toMatchObject({
      status: 'ERROR',
      message: expect.stringMatching(/NoInventoryWithEncryptionStatus/),
    });
    expect(s3).toHaveReceivedCommandTimes(HeadObjectCommand, 2);
    expect(s3).toHaveReceivedCommandWith(HeadObjectCommand, {
      Bucket: 'good',
      Key: 'vault/ledger.bin',
      ExpectedBucketOwner: '111122223333',
    });
  });

  it('auto mode: uses the inventory where it is fresh and samples with HEAD elsewhere, saying why', async () => {
    // Act
    const { evidence } = await run('auto');

    // Assess
    const byName = Object.fromEntries(evidence.buckets.map((b) => [b.name, b.objects]));
    expect(byName.good).toMatchObject({ mode: 'inventory' });
    expect(byName.broken).toMatchObject({
      mode: 'sample',
      classified: 1,
      inventoryUnavailable: expect.stringMatching(/^InventoryFileUnreadable/),
    });
    expect(byName.none).toMatchObject({
      mode: 'sample',
      inventoryUnavailable: expect.stringMatching(/^NoInventoryWithEncryptionStatus/),
    });
  });
});
