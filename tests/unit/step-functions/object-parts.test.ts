import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { KMSClient } from '@aws-sdk/client-kms';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePartItem, scanPart } from '../../../functions/object-parts.js';
import { planParts } from '../../../functions/plan-object-parts.js';
import { AwsClients } from '../../../lib/collect/clients.js';
import { collectEvidence } from '../../../lib/collect/scan.js';
import { defaultConfig } from '../../../lib/config/config.js';
import type { Finding } from '../../../lib/engine/types.js';
import { bucketEvidencePath } from '../../../lib/evidence/paths.js';
import type { BucketEvidenceFile } from '../../../lib/evidence/types.js';
import { LocalReportStore } from '../../../lib/report-store/local.js';
import { MemoryWorkArea } from '../../../lib/report-store/work-area.js';
import { evaluateScan } from '../../../lib/scan/evaluate-scan.js';
import { objectOptions } from '../../../lib/scan/run-scan.js';
import { finishScan } from '../../../lib/step-functions/finish-scan.js';
import { type ObjectPartItem, PART_ITEMS } from '../../../lib/step-functions/object-parts.js';
import { type BucketItem, ITEMS } from '../../../lib/step-functions/plan.js';
import { scanBucketStep } from '../../../lib/step-functions/scan-bucket.js';
import { startScan } from '../../../lib/step-functions/start-scan.js';
import { type InventoryRow, inventoryCsvGz, manifest } from '../../helpers/inventory.js';
import { mockAccount } from '../../helpers/mocked-account.js';

/**
 * Buckets of a billion objects, scaled down: an S3 Inventory delivery of several data files
 * becomes one item per file of the object-parts map, and a full sweep one item per key-space
 * partition. Whatever the order items run in, and however often one is re-run, finalize's
 * merge equals what one process reading the same delivery (or sweeping the same bucket) finds.
 */
const s3 = mockClient(S3Client);
const sts = mockClient(STSClient);
const kms = mockClient(KMSClient);
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
const STATUSES = ['SSE-S3', 'SSE-KMS', 'NOT-SSE', 'SSE-C', 'DSSE-KMS'];
const rows: InventoryRow[] = Array.from({ length: 1200 }, (_, i) => ({
  key: `p${i % 7}/obj-${String(i).padStart(5, '0')}`,
  size: i + 1,
  lastModified: `2026-0${1 + (i % 9)}-01T00:00:00.000Z`,
  storageClass: i % 3 === 0 ? 'GLACIER' : 'STANDARD',
  encryptionStatus: STATUSES[i % STATUSES.length]!,
}));
/** The delivery split into five data files of uneven size. */
const CUTS = [0, 100, 101, 640, 900, 1200];
const files = CUTS.slice(1).map((end, i) => ({
  key: `big/daily/data/part-${i}.csv.gz`,
  data: inventoryCsvGz('big', rows.slice(CUTS[i], end)),
}));
const objects = { mode: 'inventory' as const, versions: false, sampleSize: 100 };

describe('Object parts: inventory files and key-space partitions as map items', () => {
  beforeEach(() => {
    mockAccount(
      { s3, sts, kms },
      { session: 'sfn', buckets: [{ name: 'big', inventoryConfigurations: [inventoryConfig] }] },
    );
    s3.on(ListObjectsV2Command, { Bucket: 'dest' }).callsFake((input: { Prefix: string }) => ({
      CommonPrefixes: [{ Prefix: `${input.Prefix}2026-11-30T01-00Z/` }],
    }));
    const bodies: Record<string, Buffer | string> = {
      'big/daily/2026-11-30T01-00Z/manifest.json': manifest('big', 'CSV', files),
      ...Object.fromEntries(files.map((f) => [f.key, f.data])),
    };
    s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
      const body = bodies[input.Key];
      if (!body)
        throw Object.assign(new Error('NoSuchKey'), {
          name: 'NoSuchKey',
          $metadata: { httpStatusCode: 404 },
        });
      return { Body: Readable.from([Buffer.from(body)]) };
    });
    // The plaintext examples are HEADed (client-side encryption check), alike in both runs.
    s3.on(HeadObjectCommand).resolves({ ContentLength: 1, Metadata: {} });
  });
  afterEach(() => {
    s3.reset();
    sts.reset();
    kms.reset();
  });

  async function fannedOut(
    scanId: string,
    run: (items: ObjectPartItem[], step: (i: ObjectPartItem) => Promise<unknown>) => Promise<void>,
  ) {
    const work = new MemoryWorkArea();
    const root = mkdtempSync(join(tmpdir(), 's3scan-parts-'));
    const store = new LocalReportStore(root);
    await startScan({
      clients: clients(),
      work: () => work,
      scanId,
      now: new Date('2026-12-01T06:00:00Z'),
      config: defaultConfig(),
      objects,
      objectFanOut: true,
    });
    for (const item of (await work.get<BucketItem[]>(ITEMS))!)
      await scanBucketStep({ clients: clients(), work, item, concurrency: 4 });
    const planned = await planParts({ scanId }, { work: () => work });
    const items = (await work.get<ObjectPartItem[]>(PART_ITEMS))!;
    await run(items, (item) => scanPart(item, { clients, work: () => work, concurrency: 4 }));
    const finished = await finishScan({ clients: clients(), work, store });
    const stored = await store.readScan(finished.scanId);
    const evidence = JSON.parse(
      readFileSync(
        join(root, 'scans', scanId, bucketEvidencePath('111122223333', 'us-east-1', 'big')),
        'utf8',
      ),
    ) as BucketEvidenceFile;
    return { planned, items, stored, objects: evidence.bucket.objects };
  }

  it('reads each data file as its own item; any order and any re-run give the one-process aggregates', async () => {
    // Prepare: the same delivery read the one-process way.
    const single = await collectEvidence({
      clients: clients(),
      concurrency: 4,
      scanId: 'single',
      scanTime: new Date('2026-12-01T06:00:00Z'),
      toolVersion: 'test',
      objects: objectOptions(objects, defaultConfig()),
    });
    const expected = single.evidence.buckets[0]!.objects!;

    // Act: the items in reverse, the third one twice (a retried child execution).
    const {
      planned,
      items,
      objects: got,
      stored,
    } = await fannedOut('parts-1', async (list, step) => {
      for (const item of [...list].reverse()) await step(item);
      await step(list[2]!);
    });

    // Assess: five items, and exactly the one-process evidence and findings.
    expect(planned).toMatchObject({ parts: 5 });
    expect(items.map((i) => i.part)).toEqual([0, 1, 2, 3, 4]);
    expect(expected).toMatchObject({ mode: 'inventory', listed: 1200, complete: true });
    expect(got).toEqual(expected);
    const objectFindings = (findings: Finding[]) =>
      findings
        .filter((f) => f.ruleId.startsWith('s3-object'))
        .map((f) => [f.ruleId, f.status, f.message]);
    expect(objectFindings(stored.findings)).toEqual(
      objectFindings(evaluateScan(single.evidence).findings),
    );
    expect(stored.findings.find((f) => f.ruleId === 's3-objects-unencrypted')?.status).toBe('FAIL');
  });

  it('leaves the bucket’s object evidence incomplete when a part never ran: no object rule may PASS on it', async () => {
    // Act: every part but the last.
    const { stored, objects: got } = await fannedOut('parts-4', async (list, step) => {
      for (const item of list.slice(0, -1)) await step(item);
    });

    // Assess: what was read is kept (a FAIL it proves stands), and the gap is said.
    expect(got).toMatchObject({
      complete: false,
      listed: 900,
      listError: {
        code: 'ObjectPartFailed',
        message: expect.stringMatching(/1 of 5 parts of big were not read: part 4 did not finish/),
      },
    });
    const objectRules = stored.findings.filter(
      (f) => f.ruleId.startsWith('s3-object') && f.resource.name === 'big',
    );
    expect(objectRules.length).toBeGreaterThan(3);
    for (const finding of objectRules)
      expect([finding.ruleId, finding.status]).not.toContain('PASS');
  });

  it('sweeps a full bucket as one item per key-space partition, merged to the one-process sweep', async () => {
    // Prepare: a bucket listed as S3 does, honouring Prefix and Delimiter; HEAD answers by key.
    const keys = [...rows.map((r) => r.key), 'root-a', 'root-b'].sort();
    s3.on(ListObjectsV2Command, { Bucket: 'big' }).callsFake(
      (input: { Prefix?: string; Delimiter?: string; ContinuationToken?: string }) => {
        const prefix = input.Prefix ?? '';
        const under = keys.filter((k) => k.startsWith(prefix));
        if (input.Delimiter === '/') {
          const direct = under.filter((k) => !k.slice(prefix.length).includes('/'));
          const prefixes = [
            ...new Set(
              under
                .filter((k) => k.slice(prefix.length).includes('/'))
                .map((k) => `${prefix}${k.slice(prefix.length).split('/')[0]}/`),
            ),
          ];
          return {
            Contents: direct.map((Key) => ({ Key, Size: 10 })),
            CommonPrefixes: prefixes.map((Prefix) => ({ Prefix })),
            IsTruncated: false,
          };
        }
        const start = Number(input.ContinuationToken ?? 0);
        const page = under.slice(start, start + 1000);
        const next = start + page.length;
        return {
          Contents: page.map((Key) => ({ Key, Size: 10 })),
          IsTruncated: next < under.length,
          ...(next < under.length ? { NextContinuationToken: String(next) } : {}),
        };
      },
    );
    s3.on(HeadObjectCommand).callsFake((input: { Key: string }) => {
      const i = keys.indexOf(input.Key);
      return i % 4 === 0
        ? { ContentLength: 10, Metadata: {} }
        : { ContentLength: 10, ServerSideEncryption: i % 4 === 1 ? 'AES256' : 'aws:kms' };
    });
    const full = { mode: 'full' as const, versions: false, sampleSize: 100 };
    const single = await collectEvidence({
      clients: clients(),
      concurrency: 4,
      scanId: 'single-full',
      scanTime: new Date('2026-12-01T06:00:00Z'),
      toolVersion: 'test',
      objects: { ...objectOptions(full, defaultConfig()), headTransport: 'sdk' },
    });

    // Act: the partitions in reverse, the first one twice.
    const work = new MemoryWorkArea();
    const root = mkdtempSync(join(tmpdir(), 's3scan-parts-'));
    await startScan({
      clients: clients(),
      work: () => work,
      scanId: 'full-1',
      now: new Date('2026-12-01T06:00:00Z'),
      config: defaultConfig(),
      objects: full,
      objectFanOut: true,
    });
    for (const item of (await work.get<BucketItem[]>(ITEMS))!)
      await scanBucketStep({ clients: clients(), work, item, concurrency: 4 });
    const planned = await planParts({ scanId: 'full-1' }, { work: () => work });
    const items = (await work.get<ObjectPartItem[]>(PART_ITEMS))!;
    for (const item of [...[...items].reverse(), items[0]!])
      await scanPart(item, { clients, work: () => work, concurrency: 4 });
    await finishScan({ clients: clients(), work, store: new LocalReportStore(root) });
    const stored = JSON.parse(
      readFileSync(
        join(root, 'scans', 'full-1', bucketEvidencePath('111122223333', 'us-east-1', 'big')),
        'utf8',
      ),
    ) as BucketEvidenceFile;

    // Assess: the root keys plus seven prefixes, and exactly the one-process aggregates.
    expect(planned).toMatchObject({ parts: 8 });
    const expected = single.evidence.buckets[0]!.objects!;
    expect(expected).toMatchObject({ mode: 'full', listed: 1202, complete: true });
    expect(stored.bucket.objects).toEqual(expected);
  });

  it('refuses a malformed part item', () => {
    expect(() => parsePartItem({ scanId: 's', bucket: 'b', part: -1 })).toThrow(/part/);
    expect(() => parsePartItem({ scanId: 's', bucket: 'b', part: 1, extra: true })).toThrow();
  });
});
