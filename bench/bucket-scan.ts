import { Readable } from 'node:stream';
import { DescribeKeyCommand, GetKeyRotationStatusCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetBucketVersioningCommand,
  ListBucketInventoryConfigurationsCommand,
  ListBucketsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  ListAccessPointsCommand,
  ListMultiRegionAccessPointsCommand,
  S3ControlClient,
} from '@aws-sdk/client-s3-control';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsClients } from '../lib/collect/clients.js';
import { collectEvidence } from '../lib/collect/scan.js';
import { report, timeIt } from './common.js';

const ACCOUNT = '111122223333';
const KEYS = Array.from(
  { length: 10 },
  (_, i) => `arn:aws:kms:us-east-1:${ACCOUNT}:key/0000000${i}-0000-4000-8000-000000000000`,
);

/**
 * A mocked account whose every S3 and KMS call answers after `latencyMs`: `buckets` buckets,
 * half SSE-S3, half SSE-KMS under 10 distinct keys.
 */
function mockAccount(buckets: number, latencyMs: number) {
  const s3 = mockClient(S3Client);
  const kms = mockClient(KMSClient);
  const sts = mockClient(STSClient);
  const control = mockClient(S3ControlClient);
  const later = <T>(value: T) =>
    new Promise<T>((resolve) => setTimeout(() => resolve(value), latencyMs));
  const names = Array.from(
    { length: buckets },
    (_, i) => `bench-bucket-${String(i).padStart(5, '0')}`,
  );
  sts
    .on(GetCallerIdentityCommand)
    .resolves({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/s3scan/bench` });
  s3.on(ListBucketsCommand).callsFake((input: { ContinuationToken?: string }) => {
    const start = Number(input.ContinuationToken ?? 0);
    return later({
      Buckets: names.slice(start, start + 1000).map((Name) => ({
        Name,
        BucketRegion: 'us-east-1',
        CreationDate: new Date('2024-01-01T00:00:00Z'),
      })),
      ...(start + 1000 < names.length ? { ContinuationToken: String(start + 1000) } : {}),
    });
  });
  s3.on(GetBucketEncryptionCommand).callsFake((input: { Bucket: string }) => {
    const i = Number(input.Bucket.slice(-5));
    const rule =
      i % 2 === 0
        ? {
            ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
            BucketKeyEnabled: false,
          }
        : {
            ApplyServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: KEYS[i % KEYS.length],
            },
            BucketKeyEnabled: true,
          };
    return later({ ServerSideEncryptionConfiguration: { Rules: [rule] } });
  });
  s3.on(GetBucketPolicyCommand).callsFake((input: { Bucket: string }) =>
    later({
      Policy: JSON.stringify({
        Statement: [
          {
            Effect: 'Deny',
            Principal: '*',
            Action: 's3:*',
            Resource: [`arn:aws:s3:::${input.Bucket}`, `arn:aws:s3:::${input.Bucket}/*`],
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        ],
      }),
    }),
  );
  s3.on(GetBucketPolicyStatusCommand).callsFake(() => later({ PolicyStatus: { IsPublic: false } }));
  s3.on(GetBucketVersioningCommand).callsFake(() => later({ Status: 'Enabled' }));
  s3.on(ListBucketInventoryConfigurationsCommand).callsFake(() => later({ IsTruncated: false }));
  kms.on(DescribeKeyCommand).callsFake((input: { KeyId: string }) =>
    later({
      KeyMetadata: {
        KeyId: input.KeyId.split('/')[1],
        Arn: input.KeyId,
        KeyManager: 'CUSTOMER',
        KeyState: 'Enabled',
      },
    }),
  );
  kms.on(GetKeyRotationStatusCommand).callsFake(() => later({ KeyRotationEnabled: true }));
  control.on(ListAccessPointsCommand).callsFake(() => later({ AccessPointList: [] }));
  control.on(ListMultiRegionAccessPointsCommand).callsFake(() => later({ AccessPoints: [] }));
  return {
    restore: () => {
      control.restore();
      s3.restore();
      kms.restore();
      sts.restore();
    },
  };
}

async function scan(buckets: number, latencyMs: number, concurrency: number) {
  const account = mockAccount(buckets, latencyMs);
  const clients = new AwsClients(
    { maxAttempts: 3, credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' } },
    'us-east-1',
  );
  try {
    return await timeIt(() =>
      collectEvidence({
        clients,
        concurrency,
        scanId: 'bench',
        scanTime: new Date('2026-11-01T00:00:00Z'),
        toolVersion: 'bench',
      }),
    );
  } finally {
    clients.destroy();
    account.restore();
  }
}

/** Bucket-level collection against a mocked account with a fixed per-call latency. */
export async function benchBucketScan(quick: boolean): Promise<void> {
  const L = 20;
  const C = 32;
  const buckets = quick ? 500 : 2000;
  const { result, ms } = await scan(buckets, L, C);
  const { stats } = result;
  const calls = stats.s3Calls + stats.kmsCalls;
  const achieved = calls / (ms / 1000);
  const limit = C / (L / 1000);
  report({
    bench: 'bucket-scan',
    metric: 'efficiency',
    value: achieved / limit,
    unit: 'ratio',
    note: `achieved calls/s ${achieved.toFixed(0)} / (C/L) ${limit}, C=${C}, L=${L}ms, ${buckets} buckets, ${calls} calls in ${ms.toFixed(0)}ms`,
  });
  report({
    bench: 'bucket-scan',
    metric: 's3-calls-per-bucket',
    value: stats.s3Calls / buckets,
    unit: 'calls',
    note: `${stats.s3Calls} S3 calls for ${buckets} buckets (target <= 6), ListBuckets pages included`,
  });
  report({
    bench: 'bucket-scan',
    metric: 'kms-calls-per-key',
    value: stats.kmsCalls / stats.kmsKeys,
    unit: 'calls',
    note: `${stats.kmsCalls} KMS calls for ${stats.kmsKeys} distinct keys (target <= 2)`,
  });

  const naiveBuckets = quick ? 20 : 50;
  const naive = await scan(naiveBuckets, L, 1);
  const naiveCalls = naive.result.stats.s3Calls + naive.result.stats.kmsCalls;
  const naiveRate = naiveCalls / (naive.ms / 1000);
  report({
    bench: 'bucket-scan',
    metric: 'speedup-vs-sequential',
    value: achieved / naiveRate,
    unit: 'ratio',
    note: `bounded concurrency ${achieved.toFixed(0)} calls/s vs the naive one-call-at-a-time loop ${naiveRate.toFixed(1)} calls/s (${naiveBuckets} buckets, floor 1/L = ${1000 / L})`,
  });
}

/**
 * CPU the real SDK v3 stack spends per call (serialise, sign, deserialise the XML), with a
 * transport that answers at once. It bounds calls/s per core whatever the concurrency.
 */
export async function benchSdkCallCost(quick: boolean): Promise<void> {
  const body = Buffer.from(
    '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>',
  );
  const requestHandler = {
    handle: async () => ({
      response: {
        statusCode: 200,
        headers: { 'content-type': 'application/xml' },
        body: Readable.from([body]),
      },
    }),
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
  };
  const s3 = new S3Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' },
    requestHandler: requestHandler as never,
  });
  const calls = quick ? 1000 : 4000;
  for (let i = 0; i < 200; i++)
    await s3.send(new GetBucketVersioningCommand({ Bucket: `warm-${i}` }));
  const { ms } = await timeIt(async () => {
    for (let i = 0; i < calls; i++)
      await s3.send(new GetBucketVersioningCommand({ Bucket: `bucket-${i}` }));
  });
  const perCall = (ms / calls) * 1000;
  report({
    bench: 'sdk-call',
    metric: 'cpu-per-call',
    value: perCall,
    unit: 'us',
    note: `real SDK middleware stack, stub transport; one core tops out near ${(1e6 / perCall).toFixed(0)} calls/s (C/L at C=32, L=20ms is 1600)`,
  });
  s3.destroy();
}
