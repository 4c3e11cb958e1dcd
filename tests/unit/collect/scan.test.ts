import {
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
} from '@aws-sdk/client-kms';
import {
  GetBucketEncryptionCommand,
  type GetBucketEncryptionCommandOutput,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetBucketVersioningCommand,
  HeadObjectCommand,
  ListBucketInventoryConfigurationsCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  ListAccessPointsCommand,
  ListMultiRegionAccessPointsCommand,
  S3ControlClient,
} from '@aws-sdk/client-s3-control';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AwsClients } from '../../../lib/collect/clients.js';
import { collectEvidence } from '../../../lib/collect/scan.js';
import { CollectError, CredentialsError } from '../../../lib/errors.js';
import {
  kmsAccessDenied,
  kmsError,
  noSuchBucketPolicy,
  s3AccessDenied,
  s3Error,
  s3Redirect,
} from '../../helpers/aws-errors.js';
import { tlsPolicy } from '../../helpers/evidence.js';

const s3 = mockClient(S3Client);
const kms = mockClient(KMSClient);
const sts = mockClient(STSClient);
const control = mockClient(S3ControlClient);
const ACCOUNT = '111122223333';
const KEY_EU = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/2222bbbb-2222-4222-8222-222222222222`;

function clients(): AwsClients {
  return new AwsClients(
    { maxAttempts: 1, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } },
    'us-east-1',
  );
}

async function regionOf(getClient: () => { config: { region: unknown } }): Promise<string> {
  const region = getClient().config.region;
  return typeof region === 'function' ? await (region as () => Promise<string>)() : String(region);
}

/** A sample of objects: the mode reads versioning, not the inventory configurations. */
const SAMPLE = { mode: 'sample', versions: false, sampleSize: 1 } as const;

const run = (overrides: Partial<Parameters<typeof collectEvidence>[0]> = {}) =>
  collectEvidence({
    clients: clients(),
    concurrency: 8,
    scanId: 'scan-1',
    scanTime: new Date('2026-11-01T06:00:00Z'),
    toolVersion: 'test',
    ...overrides,
  });

function sseS3(): GetBucketEncryptionCommandOutput {
  return {
    $metadata: {},
    ServerSideEncryptionConfiguration: {
      Rules: [
        { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false },
      ],
    },
  };
}

/** A key policy as GetKeyPolicy returns it: a JSON string. */
const KEY_POLICY =
  '{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}';

describe('Function: collectEvidence', () => {
  beforeEach(() => {
    sts.on(GetCallerIdentityCommand).resolves({
      Account: ACCOUNT,
      Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/s3scan/scan`,
      UserId: 'AROA:scan',
    });
    s3.on(GetBucketEncryptionCommand).resolves(sseS3());
    s3.on(GetBucketPolicyCommand).rejects(noSuchBucketPolicy());
    s3.on(GetBucketPolicyStatusCommand).rejects(noSuchBucketPolicy());
    s3.on(GetBucketVersioningCommand).resolves({});
    s3.on(ListBucketInventoryConfigurationsCommand).resolves({ IsTruncated: false });
    control.on(ListAccessPointsCommand).resolves({ AccessPointList: [] });
    control.on(ListMultiRegionAccessPointsCommand).resolves({ AccessPoints: [] });
  });
  afterEach(() => {
    s3.reset();
    kms.reset();
    sts.reset();
    control.reset();
  });

  it('lists with MaxBuckets so BucketRegion comes back, and follows ContinuationToken', async () => {
    // Prepare
    s3.on(ListBucketsCommand, { ContinuationToken: undefined }).resolves({
      Buckets: [
        {
          Name: 'a.b.c',
          BucketRegion: 'eu-west-1',
          CreationDate: new Date('2024-01-02T03:04:05Z'),
        },
      ],
      ContinuationToken: 'page-2',
    });
    s3.on(ListBucketsCommand, { ContinuationToken: 'page-2' }).resolves({
      Buckets: [{ Name: 'second', BucketRegion: 'us-east-1' }],
    });

    // Act
    const { evidence, stats } = await run();

    // Assess
    expect(s3).toHaveReceivedCommandWith(ListBucketsCommand, { MaxBuckets: 1000 });
    expect(s3).toHaveReceivedCommandTimes(ListBucketsCommand, 2);
    expect(evidence.buckets.map((b) => [b.name, b.region, b.creationDate])).toEqual([
      ['a.b.c', 'eu-west-1', '2024-01-02T03:04:05.000Z'],
      ['second', 'us-east-1', undefined],
    ]);
    expect(evidence.accountId).toBe(ACCOUNT);
    expect(evidence.partition).toBe('aws');
    // 2 ListBuckets pages + 3 reads per bucket (no object mode: neither versioning nor the
    // inventory configurations) + one ListDirectoryBuckets and one ListAccessPoints per
    // region + one ListMultiRegionAccessPoints.
    expect(stats.s3Calls).toBe(13);
    expect(s3).not.toHaveReceivedCommand(GetBucketVersioningCommand);
    expect(s3).not.toHaveReceivedCommand(ListBucketInventoryConfigurationsCommand);
    expect(evidence.buckets[0]).not.toHaveProperty('versioning');
    expect(control).toHaveReceivedCommandWith(ListAccessPointsCommand, {
      AccountId: ACCOUNT,
      MaxResults: 1000,
    });
    expect(evidence.buckets.map((b) => b.accessPoints)).toEqual([{ ok: [] }, { ok: [] }]);
    expect(evidence.directoryListings?.map((l) => l.region)).toEqual(['eu-west-1', 'us-east-1']);
  });

  it('records ok, absent, denied and error probes distinctly, with ExpectedBucketOwner', async () => {
    // Prepare
    s3.on(ListBucketsCommand).resolves({ Buckets: [{ Name: 'b1', BucketRegion: 'us-east-1' }] });
    s3.on(GetBucketPolicyCommand).resolves({ Policy: tlsPolicy('b1') });
    s3.on(GetBucketPolicyStatusCommand).rejects(s3AccessDenied());
    s3.on(GetBucketVersioningCommand).rejects(
      s3Error('InternalError', 500, 'We encountered an internal error. Please try again.'),
    );
    s3.on(GetBucketEncryptionCommand).rejects(
      s3Error(
        'ServerSideEncryptionConfigurationNotFoundError',
        404,
        'The server side encryption configuration was not found',
      ),
    );

    // Act: an object mode, so versioning is read too.
    const { evidence } = await run({ objects: SAMPLE });

    // Assess
    const [bucket] = evidence.buckets;
    expect(bucket?.policy).toEqual({ ok: tlsPolicy('b1') });
    expect(bucket?.policyStatus).toEqual({ denied: 'AccessDenied', message: 'Access Denied' });
    expect(bucket?.versioning).toEqual({
      error: 'InternalError',
      message: 'We encountered an internal error. Please try again.',
    });
    expect(bucket?.encryption).toEqual({
      absent: 'ServerSideEncryptionConfigurationNotFoundError',
    });
    expect(s3).toHaveReceivedCommandWith(GetBucketPolicyCommand, {
      Bucket: 'b1',
      ExpectedBucketOwner: ACCOUNT,
    });
    expect(s3).toHaveReceivedCommandWith(GetBucketEncryptionCommand, {
      Bucket: 'b1',
      ExpectedBucketOwner: ACCOUNT,
    });
  });

  it('treats a 405 on GetBucketPolicy (not the owner account) as denied, and a bare 403 without a name too', async () => {
    // Prepare
    s3.on(ListBucketsCommand).resolves({ Buckets: [{ Name: 'b1', BucketRegion: 'us-east-1' }] });
    s3.on(GetBucketPolicyCommand).rejects(
      s3Error(
        'MethodNotAllowed',
        405,
        'The specified method is not allowed against this resource.',
      ),
    );
    s3.on(GetBucketVersioningCommand).rejects(s3Error('Unknown', 403, 'Unknown'));

    // Act
    const { evidence } = await run({ objects: SAMPLE });

    // Assess
    expect(evidence.buckets[0]?.policy).toMatchObject({ denied: 'MethodNotAllowed' });
    expect(evidence.buckets[0]?.versioning).toMatchObject({ denied: 'HTTP403' });
  });

  it('keeps the SSE configuration shape: BucketKeyEnabled on the rule, BlockedEncryptionTypes wrapping an array', async () => {
    // Prepare
    s3.on(ListBucketsCommand).resolves({ Buckets: [{ Name: 'b1', BucketRegion: 'eu-west-1' }] });
    s3.on(GetBucketEncryptionCommand).resolves({
      ServerSideEncryptionConfiguration: {
        Rules: [
          {
            ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KEY_EU },
            BucketKeyEnabled: true,
            BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] },
          },
        ],
      },
    });
    kms.on(DescribeKeyCommand).resolves({
      KeyMetadata: {
        KeyId: '2222bbbb-2222-4222-8222-222222222222',
        Arn: KEY_EU,
        KeyManager: 'CUSTOMER',
        KeyState: 'Enabled',
        CreationDate: new Date('2024-03-01T09:00:00Z'),
      },
    });
    kms.on(GetKeyRotationStatusCommand).resolves({
      KeyRotationEnabled: true,
      RotationPeriodInDays: 365,
      NextRotationDate: new Date('2027-03-01T09:00:00Z'),
    });
    kms.on(GetKeyPolicyCommand).resolves({ Policy: KEY_POLICY, PolicyName: 'default' });

    // Act
    const { evidence } = await run();

    // Assess
    expect(evidence.buckets[0]).toMatchObject({
      encryption: {
        ok: {
          Rules: [
            { BucketKeyEnabled: true, BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] } },
          ],
        },
      },
      defaultKmsKeyRef: KEY_EU,
    });
    expect(evidence.kmsKeys[KEY_EU]).toEqual({
      ref: KEY_EU,
      region: 'eu-west-1',
      describe: {
        ok: expect.objectContaining({
          CreationDate: '2024-03-01T09:00:00.000Z',
          KeyState: 'Enabled',
        }),
      },
      rotation: {
        ok: {
          KeyRotationEnabled: true,
          RotationPeriodInDays: 365,
          NextRotationDate: '2027-03-01T09:00:00.000Z',
        },
      },
      keyPolicy: { ok: KEY_POLICY },
    });
  });

  it('describes each distinct key once, in its own region, and never alias/aws/s3', async () => {
    // Prepare
    s3.on(ListBucketsCommand).resolves({
      Buckets: [
        { Name: 'k1', BucketRegion: 'us-east-1' },
        { Name: 'k2', BucketRegion: 'us-east-1' },
        { Name: 'aws-managed', BucketRegion: 'us-east-1' },
        { Name: 'alias-arn', BucketRegion: 'us-east-1' },
      ],
    });
    const kmsRule = (key?: string): Partial<GetBucketEncryptionCommandOutput> => ({
      ServerSideEncryptionConfiguration: {
        Rules: [
          {
            ApplyServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              ...(key ? { KMSMasterKeyID: key } : {}),
            },
            BucketKeyEnabled: true,
          },
        ],
      },
    });
    s3.on(GetBucketEncryptionCommand, { Bucket: 'k1' }).resolves(kmsRule(KEY_EU));
    s3.on(GetBucketEncryptionCommand, { Bucket: 'k2' }).resolves(kmsRule(KEY_EU));
    s3.on(GetBucketEncryptionCommand, { Bucket: 'aws-managed' }).resolves(kmsRule());
    s3.on(GetBucketEncryptionCommand, { Bucket: 'alias-arn' }).resolves(
      kmsRule(`arn:aws:kms:us-east-1:${ACCOUNT}:alias/aws/s3`),
    );
    const regions: string[] = [];
    kms.on(DescribeKeyCommand).callsFake(async (input, getClient) => {
      regions.push(await regionOf(getClient as never));
      return {
        KeyMetadata: { KeyId: 'k', Arn: input.KeyId, KeyManager: 'CUSTOMER', KeyState: 'Enabled' },
      };
    });
    kms.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: false });
    kms
      .on(GetKeyPolicyCommand)
      .resolves({ Policy: '{"Version":"2012-10-17","Statement":[]}', PolicyName: 'default' });

    // Act
    const { stats, evidence } = await run();

    // Assess
    expect(kms).toHaveReceivedCommandTimes(DescribeKeyCommand, 1);
    expect(kms).toHaveReceivedCommandWith(DescribeKeyCommand, { KeyId: KEY_EU });
    expect(kms).toHaveReceivedCommandWith(GetKeyRotationStatusCommand, { KeyId: KEY_EU });
    // The key policy: by the key ARN, always naming the one policy there is.
    expect(kms).toHaveReceivedCommandWith(GetKeyPolicyCommand, {
      KeyId: KEY_EU,
      PolicyName: 'default',
    });
    expect(evidence.kmsKeys[KEY_EU]?.keyPolicy).toEqual({
      ok: '{"Version":"2012-10-17","Statement":[]}',
    });
    expect(kms).not.toHaveReceivedCommandWith(DescribeKeyCommand, {
      KeyId: expect.stringContaining('aws/s3'),
    });
    expect(regions).toEqual(['eu-west-1']);
    expect(stats.kmsCalls).toBe(3);
  });

  it('records KMS AccessDeniedException (HTTP 400) as denied and NotFoundException as absent', async () => {
    // Prepare
    const foreign = 'arn:aws:kms:us-east-1:444455556666:key/4444dddd-4444-4444-8444-444444444444';
    s3.on(ListBucketsCommand).resolves({
      Buckets: [
        { Name: 'foreign', BucketRegion: 'us-east-1' },
        { Name: 'gone', BucketRegion: 'us-east-1' },
      ],
    });
    s3.on(GetBucketEncryptionCommand, { Bucket: 'foreign' }).resolves({
      ServerSideEncryptionConfiguration: {
        Rules: [
          {
            ApplyServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: foreign,
            },
          },
        ],
      },
    });
    s3.on(GetBucketEncryptionCommand, { Bucket: 'gone' }).resolves({
      ServerSideEncryptionConfiguration: {
        Rules: [
          {
            ApplyServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: 'mrk-1234abcd',
            },
          },
        ],
      },
    });
    kms
      .on(DescribeKeyCommand, { KeyId: foreign })
      .rejects(kmsAccessDenied('kms:DescribeKey', foreign));
    kms
      .on(DescribeKeyCommand, { KeyId: `arn:aws:kms:us-east-1:${ACCOUNT}:key/mrk-1234abcd` })
      .rejects(
        kmsError(
          'NotFoundException',
          400,
          `Key 'arn:aws:kms:us-east-1:${ACCOUNT}:key/mrk-1234abcd' does not exist`,
        ),
      );

    // Act
    const { evidence } = await run();

    // Assess
    expect(evidence.kmsKeys[foreign]?.describe).toMatchObject({ denied: 'AccessDeniedException' });
    expect(evidence.kmsKeys[foreign]?.rotation).toBeUndefined();
    expect(evidence.kmsKeys[`arn:aws:kms:us-east-1:${ACCOUNT}:key/mrk-1234abcd`]?.describe).toEqual(
      { absent: 'NotFoundException' },
    );
    expect(kms).not.toHaveReceivedCommand(GetKeyRotationStatusCommand);
  });

  it('retries a read in the region a 301 names and records the real region', async () => {
    // Prepare
    s3.on(ListBucketsCommand).resolves({ Buckets: [{ Name: 'moved', BucketRegion: 'us-east-1' }] });
    s3.on(GetBucketEncryptionCommand).callsFake(async (_input, getClient) => {
      if ((await regionOf(getClient as never)) !== 'ap-southeast-2')
        throw s3Redirect('ap-southeast-2');
      return sseS3();
    });

    // Act
    const { evidence } = await run();

    // Assess
    expect(evidence.buckets[0]).toMatchObject({
      region: 'ap-southeast-2',
      encryption: { ok: sseS3().ServerSideEncryptionConfiguration },
    });
  });

  it('keeps going when one bucket fails, and counts it', async () => {
    // Prepare
    s3.on(ListBucketsCommand).resolves({
      Buckets: [
        { Name: 'bad', BucketRegion: 'us-east-1' },
        { Name: 'good', BucketRegion: 'us-east-1' },
      ],
    });
    s3.on(GetBucketEncryptionCommand, { Bucket: 'bad' }).rejects(s3AccessDenied());

    // Act
    const { evidence, stats } = await run();

    // Assess
    expect(evidence.buckets.map((b) => [b.name, 'ok' in b.encryption])).toEqual([
      ['bad', false],
      ['good', true],
    ]);
    expect(stats.bucketsWithErrors).toBe(1);
  });

  it('filters by bucket glob and by region', async () => {
    // Prepare
    s3.on(ListBucketsCommand).resolves({
      Buckets: [
        { Name: 'prod-logs', BucketRegion: 'eu-west-1' },
        { Name: 'prod-data', BucketRegion: 'us-east-1' },
        { Name: 'dev-data', BucketRegion: 'eu-west-1' },
      ],
    });

    // Act
    const { evidence } = await run({ buckets: ['prod-*'], regions: ['eu-west-1'] });

    // Assess
    expect(evidence.buckets.map((b) => b.name)).toEqual(['prod-logs']);
  });

  it('with objects to read, a bucket is done only when its objects are; the sweep reports how far it is', async () => {
    // Prepare
    s3.on(ListBucketsCommand).resolves({ Buckets: [{ Name: 'big', BucketRegion: 'us-east-1' }] });
    s3.on(ListObjectsV2Command).callsFake((input: { ContinuationToken?: string }) => {
      const start = Number(input.ContinuationToken ?? 0);
      const next = start + 1000;
      return {
        Contents: Array.from({ length: 1000 }, (_, i) => ({ Key: `k${start + i}`, Size: 1 })),
        IsTruncated: next < 3000,
        ...(next < 3000 ? { NextContinuationToken: String(next) } : {}),
      };
    });
    s3.on(HeadObjectCommand).resolves({ ServerSideEncryption: 'AES256' });
    const seen: {
      done: number;
      sweeping: Record<string, { listed: number; classified: number }>;
    }[] = [];

    // Act
    await run({
      objects: { mode: 'full', versions: false, sampleSize: 1 },
      onProgress: (p) => seen.push({ done: p.done, sweeping: structuredClone(p.sweeping) }),
    });

    // Assess
    const sweeping = seen.filter((p) => p.sweeping.big);
    expect(sweeping.length).toBeGreaterThan(2);
    expect(sweeping.every((p) => p.done === 0)).toBe(true);
    expect(sweeping.at(-1)?.sweeping.big).toEqual({ listed: 3000, classified: 3000 });
    expect(seen.at(-1)).toEqual({ done: 1, sweeping: {} });
  });

  it('collects 10,000 buckets over 10 ListBuckets pages', async () => {
    // Prepare
    const names = Array.from({ length: 10_000 }, (_, i) => `bucket-${String(i).padStart(5, '0')}`);
    s3.on(ListBucketsCommand).callsFake((input: { ContinuationToken?: string }) => {
      const start = Number(input.ContinuationToken ?? 0);
      const page = names
        .slice(start, start + 1000)
        .map((Name) => ({ Name, BucketRegion: 'us-east-1' }));
      return {
        Buckets: page,
        ...(start + 1000 < names.length ? { ContinuationToken: String(start + 1000) } : {}),
      };
    });

    // Act
    const { evidence, stats } = await run({ concurrency: 64 });

    // Assess
    expect(evidence.buckets).toHaveLength(10_000);
    // Ten ListBuckets pages, five reads a bucket, one ListDirectoryBuckets (one region).
    expect(stats.s3Calls).toBe(10 + 3 * 10_000 + 1 + 1 + 1);
  });

  it('says there are no credentials in a CredentialsError', async () => {
    // Prepare
    sts.on(GetCallerIdentityCommand).rejects(
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
    );

    // Act & Assess
    await expect(run()).rejects.toBeInstanceOf(CredentialsError);
  });

  it('stops with a CollectError naming s3:ListAllMyBuckets when ListBuckets is denied', async () => {
    // Prepare
    s3.on(ListBucketsCommand).rejects(s3AccessDenied());

    // Act & Assess
    await expect(run()).rejects.toThrow(CollectError);
    await expect(run()).rejects.toThrow(/s3:ListAllMyBuckets/);
  });
});
