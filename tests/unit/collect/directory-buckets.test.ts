import { DescribeKeyCommand, GetKeyRotationStatusCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetBucketVersioningCommand,
  ListBucketInventoryConfigurationsCommand,
  ListBucketsCommand,
  ListDirectoryBucketsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AwsClients } from '../../../lib/collect/clients.js';
import { isDirectoryBucketName } from '../../../lib/collect/directory-buckets.js';
import { collectEvidence } from '../../../lib/collect/scan.js';
import { evaluateScan } from '../../../lib/scan/evaluate-scan.js';
import { noSuchBucketPolicy, s3AccessDenied, s3Error } from '../../helpers/aws-errors.js';
import { DEFAULT_BUCKET_RULES } from '../../helpers/rules.js';

/**
 * S3 Express One Zone directory buckets, as the SDK answers them: ListDirectoryBuckets per
 * region (paged by ContinuationToken, no BucketRegion), GetBucketEncryption and GetBucketPolicy
 * on the regional s3express-control endpoint; no policy status, versioning or inventory.
 */
const s3 = mockClient(S3Client);
const kms = mockClient(KMSClient);
const sts = mockClient(STSClient);
const ACCOUNT = '111122223333';
const FAST = 'fast-data--use1-az4--x-s3';
const LOGS = 'logs--usw2-az1--x-s3';
const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/3333cccc-3333-4333-8333-333333333333`;

async function regionOf(getClient: () => { config: { region: unknown } }): Promise<string> {
  const region = getClient().config.region;
  return typeof region === 'function' ? await (region as () => Promise<string>)() : String(region);
}

const run = (overrides: Partial<Parameters<typeof collectEvidence>[0]> = {}) =>
  collectEvidence({
    clients: new AwsClients(
      { maxAttempts: 1, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } },
      'us-east-1',
    ),
    concurrency: 8,
    scanId: 'scan-1',
    scanTime: new Date('2026-11-01T06:00:00Z'),
    toolVersion: 'test',
    ...overrides,
  });

describe('Directory buckets (S3 Express One Zone)', () => {
  beforeEach(() => {
    sts.on(GetCallerIdentityCommand).resolves({
      Account: ACCOUNT,
      Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/s3scan/scan`,
    });
    s3.on(ListBucketsCommand).resolves({
      Buckets: [
        { Name: 'general', BucketRegion: 'us-east-1' },
        { Name: 'west', BucketRegion: 'us-west-2' },
      ],
    });
    s3.on(GetBucketEncryptionCommand).resolves({
      ServerSideEncryptionConfiguration: {
        Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    });
    s3.on(GetBucketPolicyCommand).rejects(noSuchBucketPolicy());
    s3.on(GetBucketPolicyStatusCommand).rejects(noSuchBucketPolicy());
    s3.on(GetBucketVersioningCommand).resolves({});
    s3.on(ListBucketInventoryConfigurationsCommand).resolves({ IsTruncated: false });
    kms.on(DescribeKeyCommand).resolves({
      KeyMetadata: {
        KeyId: KEY.split('/')[1]!,
        Arn: KEY,
        AWSAccountId: ACCOUNT,
        KeyManager: 'CUSTOMER',
        KeyState: 'Enabled',
        Enabled: true,
      },
    });
    kms.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: true });
  });
  afterEach(() => {
    s3.reset();
    kms.reset();
    sts.reset();
  });

  it('lists them per region (every page), reads their encryption and policy, and judges only the rules that apply', async () => {
    // Prepare: us-east-1 has two pages, us-west-2 one bucket.
    s3.on(ListDirectoryBucketsCommand).callsFake(async (input, getClient) => {
      const region = await regionOf(getClient as never);
      if (region === 'us-west-2')
        return { Buckets: [{ Name: LOGS, CreationDate: new Date('2025-01-01T00:00:00Z') }] };
      return input.ContinuationToken
        ? { Buckets: [{ Name: FAST }] }
        : { Buckets: [], ContinuationToken: 'next' };
    });
    s3.on(GetBucketEncryptionCommand, { Bucket: FAST }).resolves({
      ServerSideEncryptionConfiguration: {
        Rules: [
          {
            ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KEY },
            BucketKeyEnabled: true,
          },
        ],
      },
    });
    s3.on(GetBucketPolicyCommand, { Bucket: LOGS }).rejects(s3AccessDenied());

    // Act
    const { evidence } = await run();
    const { findings } = evaluateScan(evidence);

    // Assess: listed in both regions holding buckets, with their region and s3express ARN.
    expect(s3).toHaveReceivedCommandWith(ListDirectoryBucketsCommand, {
      MaxDirectoryBuckets: 1000,
    });
    expect(s3).toHaveReceivedCommandWith(ListDirectoryBucketsCommand, {
      ContinuationToken: 'next',
    });
    const fast = evidence.buckets.find((b) => b.name === FAST)!;
    expect(fast).toMatchObject({
      kind: 'directory',
      region: 'us-east-1',
      arn: `arn:aws:s3express:us-east-1:${ACCOUNT}:bucket/${FAST}`,
      defaultKmsKeyRef: KEY,
      versioning: { absent: 'not supported for directory buckets' },
      policyStatus: { absent: 'not supported for directory buckets' },
    });
    expect(evidence.buckets.find((b) => b.name === LOGS)).toMatchObject({
      kind: 'directory',
      region: 'us-west-2',
      policy: { denied: 'AccessDenied' },
    });
    // Never asked what does not exist for directory buckets.
    expect(s3).not.toHaveReceivedCommandWith(GetBucketVersioningCommand, { Bucket: FAST });
    expect(s3).not.toHaveReceivedCommandWith(GetBucketPolicyStatusCommand, { Bucket: FAST });
    expect(evidence.directoryListings).toEqual([
      { accountId: ACCOUNT, region: 'us-east-1', result: { ok: { buckets: 1 } } },
      { accountId: ACCOUNT, region: 'us-west-2', result: { ok: { buckets: 1 } } },
    ]);
    // The rules: KMS rules judge the directory bucket; the rest say SKIPPED, with why.
    const ofFast = new Map(
      findings.filter((f) => f.resource.name === FAST).map((f) => [f.ruleId, f]),
    );
    expect(ofFast.size).toBe(DEFAULT_BUCKET_RULES.length);
    expect(ofFast.get('s3-bucket-default-encryption-kms')?.status).toBe('PASS');
    expect(ofFast.get('s3-bucket-kms-key-rotation')?.status).toBe('PASS');
    expect(ofFast.get('s3-bucket-sse-c-blocked')).toMatchObject({
      status: 'SKIPPED',
      message: expect.stringMatching(/directory buckets do not support SSE-C/),
    });
    expect(ofFast.get('s3-bucket-tls-enforced')).toMatchObject({
      status: 'SKIPPED',
      message: expect.stringMatching(/s3express actions/),
    });
    expect(ofFast.get('s3-bucket-key-enabled')?.message).toMatch(/always enabled/);
    for (const rule of DEFAULT_BUCKET_RULES)
      if (rule.directoryBuckets !== 'applies') expect(ofFast.get(rule.id)?.status).toBe('SKIPPED');
    // The listing rule: one PASS per region listed.
    expect(
      findings
        .filter((f) => f.ruleId === 's3-account-directory-buckets-listed')
        .map((f) => [f.resource.region, f.status]),
    ).toEqual([
      ['us-east-1', 'PASS'],
      ['us-west-2', 'PASS'],
    ]);
  });

  it('makes a denied or failed listing an ERROR for its region, and a non-AWS endpoint SKIPPED', async () => {
    // Prepare
    s3.on(ListDirectoryBucketsCommand).callsFake(async (_input, getClient) => {
      const region = await regionOf(getClient as never);
      if (region === 'us-east-1') throw s3AccessDenied();
      if (region === 'eu-west-1') throw s3Error('NotImplemented', 501, 'not implemented');
      if (region === 'ap-south-1')
        throw s3Error('SlowDown', 503, 'Please reduce your request rate.');
      // An S3-compatible store answering with its general purpose listing.
      return { Buckets: [{ Name: 'general' }] };
    });

    // Act
    const { evidence } = await run({ directoryBucketRegions: ['eu-west-1', 'ap-south-1'] });
    const listed = evaluateScan(evidence).findings.filter(
      (f) => f.ruleId === 's3-account-directory-buckets-listed',
    );

    // Assess
    expect(listed.map((f) => [f.resource.region, f.status])).toEqual([
      ['ap-south-1', 'ERROR'],
      ['eu-west-1', 'SKIPPED'],
      ['us-east-1', 'ERROR'],
      ['us-west-2', 'SKIPPED'],
    ]);
    expect(listed[2]?.message).toMatch(/access denied.*identity policies only/);
    expect(listed[0]?.message).toMatch(/SlowDown/);
    expect(listed[3]?.message).toMatch(/general purpose bucket names \(general\)/);
    expect(listed[2]?.resource).toMatchObject({
      arn: `arn:aws:s3express:us-east-1:${ACCOUNT}:bucket/*`,
      type: 'AWS::::Account',
    });
    // General purpose buckets are untouched by the directory listing's failures.
    expect(evidence.buckets.map((b) => b.name)).toEqual(['general', 'west']);
  });

  it('keeps a --bucket filter that names only a directory bucket, and lists nothing when told not to', async () => {
    // Prepare: FAST lives in us-east-1; the glob names no general purpose bucket.
    s3.on(ListDirectoryBucketsCommand).callsFake(async (_input, getClient) =>
      (await regionOf(getClient as never)) === 'us-east-1' ? { Buckets: [{ Name: FAST }] } : {},
    );

    // Act
    const filtered = await run({ buckets: ['fast-*'] });
    const without = await run({ directoryBuckets: false });

    // Assess
    expect(filtered.evidence.buckets.map((b) => b.name)).toEqual([FAST]);
    expect(without.evidence.buckets.every((b) => b.kind === undefined)).toBe(true);
    expect(without.evidence.directoryListings).toBeUndefined();
    // Listed in both regions the account's buckets are in, though the glob kept none of them.
    expect(s3).toHaveReceivedCommandTimes(ListDirectoryBucketsCommand, 2);
  });

  it('knows a directory bucket name by its zone suffix', () => {
    expect(isDirectoryBucketName('amzn-s3-demo-bucket--usw2-az1--x-s3')).toBe(true);
    expect(isDirectoryBucketName('local--usw2-lax1-az1--x-s3')).toBe(true);
    expect(isDirectoryBucketName('general-purpose')).toBe(false);
    expect(isDirectoryBucketName('tricky--x-s3-not')).toBe(false);
  });
});
