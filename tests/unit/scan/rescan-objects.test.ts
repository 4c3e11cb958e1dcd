import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AwsClients } from '../../../lib/collect/clients.js';
import { defaultConfig } from '../../../lib/config/config.js';
import type { Finding } from '../../../lib/engine/types.js';
import { bucketEvidencePath } from '../../../lib/evidence/paths.js';
import type { BucketEvidenceFile } from '../../../lib/evidence/types.js';
import { findingsAt, loadView } from '../../../lib/findings-index/read.js';
import { LocalReportStore } from '../../../lib/report-store/local.js';
import { runRescan } from '../../../lib/scan/rescan.js';
import { runScan } from '../../../lib/scan/run-scan.js';
import { MOCK_ACCOUNT, mockAccount, sseKms } from '../../helpers/mocked-account.js';

/**
 * A rescan reads a bucket's settings, not its objects. The objects the full scan counted are
 * carried into it (their keys described again), so an object problem is neither "resolved"
 * by a rescan nor "new" again at the next full scan, and a disabled key's objects are seen.
 */
const s3 = mockClient(S3Client);
const sts = mockClient(STSClient);
const kms = mockClient(KMSClient);
const KEY = `arn:aws:kms:us-east-1:${MOCK_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const clients = () =>
  new AwsClients(
    { maxAttempts: 1, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' } },
    'us-east-1',
  );

function account(keyState: 'Enabled' | 'Disabled') {
  mockAccount(
    { s3, sts, kms },
    {
      buckets: [{ name: 'plaintext' }, { name: 'keyed', encryption: sseKms(KEY) }],
      keys: [{ arn: KEY, state: keyState }],
    },
  );
  const objects: Record<string, { Key: string; sse?: 'aws:kms' }> = {
    plaintext: { Key: 'old/ledger.csv' },
    keyed: { Key: 'invoices/1.pdf', sse: 'aws:kms' },
  };
  for (const [bucket, object] of Object.entries(objects)) {
    s3.on(ListObjectsV2Command, { Bucket: bucket }).resolves({
      IsTruncated: false,
      KeyCount: 1,
      Contents: [
        {
          Key: object.Key,
          Size: 2048,
          LastModified: new Date('2025-03-04T05:06:07Z'),
          StorageClass: 'STANDARD',
        },
      ],
    });
    s3.on(HeadObjectCommand, { Bucket: bucket }).resolves({
      ContentLength: 2048,
      LastModified: new Date('2025-03-04T05:06:07Z'),
      Metadata: {},
      ...(object.sse ? { ServerSideEncryption: object.sse, SSEKMSKeyId: KEY } : {}),
    });
  }
}

async function stored(
  store: LocalReportStore,
  scanId: string,
): Promise<Map<string, [Finding, string]>> {
  const view = await loadView(store, scanId);
  const rows = Array.from({ length: view!.index.count }, (_, i) => i);
  const found = await findingsAt(store, view!, rows);
  return new Map(
    found.map((f) => [`${f.finding.ruleId} ${f.finding.resource.name}`, [f.finding, f.change]]),
  );
}

/** A rescan of `plaintext` after a policy event about it. */
const policyRescan = (store: LocalReportStore, scanId: string) =>
  runRescan(
    {
      targets: {
        buckets: [
          {
            account: MOCK_ACCOUNT,
            region: 'us-east-1',
            bucket: 'plaintext',
            events: ['PutBucketPolicy'],
          },
        ],
        keys: [],
      },
      config: defaultConfig(),
      scanId,
      scanTime: new Date('2026-12-01T10:01:00Z'),
      accountId: MOCK_ACCOUNT,
    },
    { clients: clients(), store },
  );

describe('Rescan: the full scan’s objects are carried, not dropped', () => {
  let store: LocalReportStore;
  beforeEach(async () => {
    account('Enabled');
    store = new LocalReportStore(mkdtempSync(join(tmpdir(), 's3scan-rescan-objects-')));
    const full = await runScan(
      {
        scanId: 'full-1',
        scanTime: new Date('2026-12-01T06:00:00Z'),
        buckets: [],
        regions: [],
        objects: { mode: 'full', versions: false, sampleSize: 100 },
        config: defaultConfig(),
      },
      { clients: clients(), store },
    );
    expect(full.status).toBe('completed');
  });
  afterEach(() => {
    s3.reset();
    sts.reset();
    kms.reset();
  });

  it('keeps an object FAIL through a rescan of the bucket’s settings, and says whose count it is', async () => {
    // Prepare: the full scan saw one unencrypted object.
    const before = await stored(store, 'full-1');
    expect(before.get('s3-objects-unencrypted plaintext')?.[0].status).toBe('FAIL');
    s3.resetHistory();

    // Act: a policy event about the bucket.
    await policyRescan(store, 'rescan-1');
    const after = await stored(store, 'rescan-1');

    // Assess: still FAIL, compared as still failing (not resolved), no object was listed again.
    const [unencrypted, change] = after.get('s3-objects-unencrypted plaintext') ?? [];
    expect(unencrypted?.status).toBe('FAIL');
    expect(change).toBe('still-failing');
    expect(unencrypted?.message).toContain(
      'as scan full-1 of 2026-12-01T06:00:00.000Z counted them',
    );
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(0);
    expect(s3.commandCalls(HeadObjectCommand)).toHaveLength(0);
    const file = await store.readScanFile(
      'rescan-1',
      bucketEvidencePath(MOCK_ACCOUNT, 'us-east-1', 'plaintext'),
    );
    const evidence = JSON.parse(String(file)) as BucketEvidenceFile;
    expect(evidence.bucket.objects?.carriedFrom).toEqual({
      scanId: 'full-1',
      scanTime: '2026-12-01T06:00:00.000Z',
    });
  });

  it('sees the objects under a key a DisableKey event names as unusable, from the carried count', async () => {
    // Prepare: the key is disabled after the full scan.
    expect(
      (await stored(store, 'full-1')).get('s3-objects-kms-key-unusable keyed')?.[0].status,
    ).toBe('PASS');
    kms.on(DescribeKeyCommand, { KeyId: KEY }).resolves({
      KeyMetadata: {
        KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
        Arn: KEY,
        AWSAccountId: MOCK_ACCOUNT,
        KeyManager: 'CUSTOMER',
        KeyState: 'Disabled',
        Enabled: false,
        KeySpec: 'SYMMETRIC_DEFAULT',
        KeyUsage: 'ENCRYPT_DECRYPT',
        CreationDate: new Date('2024-01-02T03:04:05Z'),
      },
    });

    // Act
    const outcome = await runRescan(
      {
        targets: {
          buckets: [],
          keys: [
            { account: MOCK_ACCOUNT, region: 'us-east-1', keyArn: KEY, events: ['DisableKey'] },
          ],
        },
        config: defaultConfig(),
        scanId: 'rescan-k',
        scanTime: new Date('2026-12-01T10:01:00Z'),
        accountId: MOCK_ACCOUNT,
      },
      { clients: clients(), store },
    );
    const after = await stored(store, 'rescan-k');

    // Assess: the key's bucket was rescanned; its object is now under an unusable key.
    expect(outcome.buckets).toEqual(['keyed']);
    const [unusable, change] = after.get('s3-objects-kms-key-unusable keyed') ?? [];
    expect(unusable?.status).toBe('FAIL');
    expect(change).toBe('regressed');
  });

  it('carries nothing for a bucket the full scan did not sweep: its object rules stay SKIPPED', async () => {
    // Prepare: a full scan without objects.
    const bare = new LocalReportStore(mkdtempSync(join(tmpdir(), 's3scan-rescan-bare-')));
    await runScan(
      {
        scanId: 'full-b',
        scanTime: new Date('2026-12-01T06:00:00Z'),
        buckets: [],
        regions: [],
        config: defaultConfig(),
      },
      { clients: clients(), store: bare },
    );

    // Act
    await policyRescan(bare, 'rescan-b');

    // Assess
    const [skipped, change] =
      (await stored(bare, 'rescan-b')).get('s3-objects-unencrypted plaintext') ?? [];
    expect(skipped?.status).toBe('SKIPPED');
    expect(change).toBe('unchanged');
  });
});
