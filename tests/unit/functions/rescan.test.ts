import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rescan } from '../../../functions/rescan.js';
import type { AlertDigest, AlertSink } from '../../../lib/alerts/sink.js';
import type { SettingsPort } from '../../../lib/aws/bucket-settings.js';
import { AwsClients } from '../../../lib/collect/clients.js';
import { configFromDocument, defaultConfig } from '../../../lib/config/config.js';
import { ConfigError } from '../../../lib/errors.js';
import type { PostureFile } from '../../../lib/findings-index/format.js';
import { LocalReportStore } from '../../../lib/report-store/local.js';
import { runScan } from '../../../lib/scan/run-scan.js';
import { noSuchBucketPolicy } from '../../helpers/aws-errors.js';
import { tlsPolicy } from '../../helpers/evidence.js';
import { MOCK_ACCOUNT, mockAccount, sseKms } from '../../helpers/mocked-account.js';

/**
 * The rescan function with the SQS event shape and middy's partial batch failures: a burst
 * about one bucket is one rescan, a poison message is reported failed (to rest in the DLQ
 * after its receives), and a rescan that fails sends back only the messages that asked for it.
 */
const s3 = mockClient(S3Client);
const sts = mockClient(STSClient);
const kms = mockClient(KMSClient);
const clients = () =>
  new AwsClients(
    { maxAttempts: 1, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' } },
    'us-east-1',
  );

const body = (eventName: string, bucket: string) =>
  JSON.stringify({
    version: '0',
    id: `${eventName}-${bucket}`,
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.s3',
    account: MOCK_ACCOUNT,
    time: '2026-12-01T10:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: {
      eventSource: 's3.amazonaws.com',
      eventName,
      awsRegion: 'us-east-1',
      eventTime: '2026-12-01T10:00:00Z',
      requestParameters: { bucketName: bucket },
      userIdentity: { arn: `arn:aws:iam::${MOCK_ACCOUNT}:user/alice` },
      recipientAccountId: MOCK_ACCOUNT,
    },
  });
const batch = (bodies: string[]) => ({
  Records: bodies.map((b, i) => ({ messageId: `m-${i}`, body: b, eventSource: 'aws:sqs' })),
});

describe('Function: rescan (SQS, partial batch failures)', () => {
  let store: LocalReportStore;
  beforeEach(async () => {
    mockAccount(
      { s3, sts },
      {
        buckets: [{ name: 'guarded', policy: JSON.parse(tlsPolicy('guarded')) }, { name: 'other' }],
      },
    );
    store = new LocalReportStore(mkdtempSync(join(tmpdir(), 's3scan-rescan-')));
    const full = await runScan(
      {
        scanId: 'full-1',
        scanTime: new Date('2026-12-01T06:00:00Z'),
        buckets: [],
        regions: [],
        config: defaultConfig(),
      },
      { clients: clients(), store },
    );
    expect(full.status).toBe('completed');
    // The policy is deleted after the full scan.
    s3.on(GetBucketPolicyCommand, { Bucket: 'guarded' }).rejects(noSuchBucketPolicy());
  });
  afterEach(() => {
    s3.reset();
    sts.reset();
    kms.reset();
  });

  const deps = () => ({
    clients,
    store: () => store,
    config: async () => defaultConfig(),
    accountId: MOCK_ACCOUNT,
    now: () => new Date('2026-12-01T10:01:00Z'),
  });

  it('coalesces a burst into one rescan of the bucket and fails only the poison message', async () => {
    // Prepare: the handler as deployed, with the middleware that reports item failures.
    const handler = middy()
      .use(sqsPartialBatchFailure({ logger: () => undefined }))
      .handler((event: unknown) => rescan(event, deps()));

    // Act
    const response = (await handler(
      batch([
        body('DeleteBucketPolicy', 'guarded'),
        '{"not json',
        body('PutBucketPolicy', 'guarded'),
        body('GetBucketAcl', 'other'),
      ]),
      {} as never,
    )) as { batchItemFailures: { itemIdentifier: string }[] };
    const index = await store.readIndex();

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(
      index?.scans.map((s) => [s.scanId === 'full-1' ? 'full' : 'rescan', s.rescanOf ?? null]),
    ).toEqual([
      ['rescan', 'full-1'],
      ['full', null],
    ]);
    expect(index?.latest).toBe('full-1');
    const { findings, summary } = await store.readScan(index!.scans[0]!.scanId);
    expect(summary.scope?.buckets).toEqual(['guarded']);
    expect(
      findings.find((f) => f.resource.name === 'guarded' && f.ruleId === 's3-bucket-tls-enforced')
        ?.status,
    ).toBe('FAIL');
    expect(findings.some((f) => f.resource.name === 'other')).toBe(false);
    // The rescan stored the posture now of full-1 with it, for the dashboard's first request.
    const posture = JSON.parse(
      String(await store.readScanFile(summary.scanId, 'view/posture.json')),
    ) as PostureFile;
    expect(posture).toMatchObject({ fullScan: 'full-1', rescans: [summary.scanId] });
    expect(Object.keys(posture.newest)).toEqual(['guarded']);
  });

  it('sends back every message that asked for a rescan that failed, and none that only dropped', async () => {
    // Act
    const settled = await rescan(
      batch([body('PutBucketEncryption', 'guarded'), body('PutBucketTagging', 'other')]),
      { ...deps(), config: async () => Promise.reject(new ConfigError('the config is broken')) },
    );

    // Assess
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'fulfilled']);
    expect((settled[0] as PromiseRejectedResult).reason.message).toMatch(/config is broken/);
    expect((await store.readIndex())?.scans).toHaveLength(1);
  });

  it('rescans the buckets whose default key a KMS event names, as the latest full scan says', async () => {
    // Prepare: a full scan where 'keyed' uses the key by its ARN and 'aliased' by an alias.
    const key = `arn:aws:kms:us-east-1:${MOCK_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    const alias = `arn:aws:kms:us-east-1:${MOCK_ACCOUNT}:alias/payments`;
    s3.reset();
    kms.reset();
    mockAccount(
      { s3, sts, kms },
      {
        buckets: [
          { name: 'keyed', encryption: sseKms(key) },
          { name: 'aliased', encryption: sseKms(alias) },
          { name: 'plain' },
        ],
        keys: [{ arn: key }, { arn: alias }],
      },
    );
    kms.on(DescribeKeyCommand, { KeyId: alias }).resolves({
      KeyMetadata: {
        KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
        Arn: key,
        KeyManager: 'CUSTOMER',
        KeyState: 'Enabled',
      },
    });
    const keyStore = new LocalReportStore(mkdtempSync(join(tmpdir(), 's3scan-rescan-key-')));
    await runScan(
      {
        scanId: 'full-k',
        scanTime: new Date('2026-12-01T06:00:00Z'),
        buckets: [],
        regions: [],
        config: defaultConfig(),
      },
      { clients: clients(), store: keyStore },
    );
    const disableKey = JSON.stringify({
      version: '0',
      id: 'k-1',
      'detail-type': 'AWS API Call via CloudTrail',
      source: 'aws.kms',
      account: MOCK_ACCOUNT,
      time: '2026-12-01T10:00:00Z',
      region: 'us-east-1',
      resources: [],
      detail: {
        eventSource: 'kms.amazonaws.com',
        eventName: 'DisableKey',
        awsRegion: 'us-east-1',
        eventTime: '2026-12-01T10:00:00Z',
        requestParameters: { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab' },
        resources: [{ accountId: MOCK_ACCOUNT, type: 'AWS::KMS::Key', ARN: key }],
        userIdentity: { arn: `arn:aws:iam::${MOCK_ACCOUNT}:user/alice` },
        recipientAccountId: MOCK_ACCOUNT,
      },
    });

    // Act
    const settled = await rescan(batch([disableKey]), { ...deps(), store: () => keyStore });
    const index = await keyStore.readIndex();
    const { summary } = await keyStore.readScan(index!.scans[0]!.scanId);

    // Assess: both buckets that use the key, by ARN and through the alias; not the plain one.
    expect(settled.map((s) => s.status)).toEqual(['fulfilled']);
    expect(summary).toMatchObject({
      source: 'rescan',
      scope: { buckets: ['aliased', 'keyed'] },
      rescanOf: { scanId: 'full-k', events: ['DisableKey'] },
    });
  });

  it('refuses what is not an SQS batch', async () => {
    await expect(rescan({ hello: 1 }, deps())).rejects.toThrow(/takes an SQS batch/);
  });

  it('fixes by itself what the config names, with the remediation role, and proves it by a second rescan', async () => {
    // Prepare: automatic TLS fixes on; the remediation role's port writes into the mocked S3.
    const written: { bucket: string; policy: string }[] = [];
    const settings = {
      readPolicy: async () => undefined,
      putPolicy: async (at: { bucket: string }, policy: string) => {
        written.push({ bucket: at.bucket, policy });
        s3.on(GetBucketPolicyCommand, { Bucket: at.bucket }).resolves({ Policy: policy });
      },
    } as unknown as SettingsPort;
    const role = `arn:aws:iam::${MOCK_ACCOUNT}:role/s3scan-ci-remediation`;
    let asked = 0;
    const config = configFromDocument({
      remediation: { autoFix: { rules: ['s3-bucket-tls-enforced'], dryRun: false } },
    });

    // Act
    const settled = await rescan(batch([body('DeleteBucketPolicy', 'guarded')]), {
      ...deps(),
      config: async () => config,
      remediation: async () => {
        asked += 1;
        return { settings, by: role };
      },
    });
    const index = await store.readIndex();

    // Assess: the rescan, then the proving rescan, whose event names the fix.
    expect(settled.map((r) => r.status)).toEqual(['fulfilled']);
    expect(asked).toBe(1);
    expect(written.map((w) => w.bucket)).toEqual(['guarded']);
    const [proof, first] = index?.scans ?? [];
    const fixId = `fix-${first?.scanId}`;
    const summary = await store.readSummary(proof!.scanId);
    expect(summary.rescanOf?.events).toEqual([`s3scan auto-fix ${fixId}`]);
    const { findings } = await store.readScan(proof!.scanId);
    expect(
      findings.find((f) => f.resource.name === 'guarded' && f.ruleId === 's3-bucket-tls-enforced')
        ?.status,
    ).toBe('PASS');
    expect(await store.fixRecords().read(fixId, 'plan')).toMatchObject({ automatic: true });
    expect((await store.fixRecords().list(fixId)).filter((n) => n.startsWith('runs/')).length).toBe(
      1,
    );
  });

  it('in a dry run records the plan, says in the rescan alert what it would fix, and never asks for the remediation role', async () => {
    // Prepare: alerts to a sink that keeps each digest.
    let asked = 0;
    const config = configFromDocument({
      alerts: { sns: { topicArn: `arn:aws:sns:us-east-1:${MOCK_ACCOUNT}:alerts` } },
      remediation: { autoFix: { rules: ['s3-bucket-tls-enforced'] } },
    });
    const digests: AlertDigest[] = [];
    const sink: AlertSink = {
      name: 'capture',
      idempotent: false,
      plan: (digest) => {
        digests.push(digest);
        return [{ id: 'digest', entries: [{ id: 'digest', payload: 'x' }] }];
      },
      preview: () => 'capture',
      deliver: async (b) => ({ delivered: b.entries.map((e) => e.id), failed: [] }),
    };

    // Act
    await rescan(batch([body('DeleteBucketPolicy', 'guarded')]), {
      ...deps(),
      config: async () => config,
      alerts: { sinks: async () => [sink] },
      remediation: async () => {
        asked += 1;
        return undefined;
      },
    });
    const index = await store.readIndex();

    // Assess: one rescan, the plan recorded and alerted, no role asked for, nothing proven.
    expect(digests[0]?.cause).toMatch(
      /^rescan after DeleteBucketPolicy; automatic fix fix-\S+ \(dry run, nothing written\) would fix guarded s3-bucket-tls-enforced$/,
    );
    expect(asked).toBe(0);
    expect(index?.scans).toHaveLength(2);
    const fixId = `fix-${index?.scans[0]?.scanId}`;
    expect((await store.fixRecords().list(fixId)).some((n) => n.endsWith('-dry-run'))).toBe(true);
  });
});
