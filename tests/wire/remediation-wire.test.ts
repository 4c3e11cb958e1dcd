import { afterEach, describe, expect, it } from 'vitest';
import { awsBatch } from '../../lib/aws/batch-jobs.js';
import { awsSettings } from '../../lib/aws/bucket-settings.js';
import { AwsClients } from '../../lib/collect/clients.js';
import { applyPlan } from '../../lib/remediation/apply.js';
import { createJobs, jobStatus } from '../../lib/remediation/jobs.js';
import type { FixPlan } from '../../lib/remediation/plan.js';
import { ACCOUNT as BUCKET_ACCOUNT, bucketEvidence, scanEvidence } from '../helpers/evidence.js';
import {
  type FakeAws,
  type SeenRequest,
  s3ErrorXml,
  startFakeAws,
} from '../helpers/fake-aws-server.js';
import { MemoryRecords, planOf } from '../helpers/fix-world.js';

/**
 * Remediation on the wire: the real SDK clients against a real HTTP server on 127.0.0.1 that
 * answers as S3 and S3 Control do. Throttled and reset writes are retried by the SDK, and a
 * write that never succeeds is reported for its bucket with the setting read back unchanged;
 * CreateJob and DescribeJob carry the documented XML (moto implements neither).
 */
const ACCOUNT = '123456789012';
const XML = { 'content-type': 'application/xml' };
const S3C_NS = 'http://awss3control.amazonaws.com/doc/2018-08-20/';

let server: FakeAws | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function clientsFor(endpoint: string, maxAttempts = 3): AwsClients {
  return new AwsClients(
    {
      maxAttempts,
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG' },
    },
    'us-east-1',
  );
}

/** A bucket's policy held by the fake S3, with a queue of faults for PutBucketPolicy. */
function policyServer(faults: ('throttle' | 'reset')[]) {
  const policies = new Map<string, string>();
  return (request: SeenRequest) => {
    const bucket = request.path.split('/')[1] ?? '';
    if (!request.query.has('policy'))
      return { status: 400, headers: XML, body: s3ErrorXml('InvalidRequest', 'unexpected') };
    if (request.method === 'GET') {
      const policy = policies.get(bucket);
      return policy === undefined
        ? {
            status: 404,
            headers: XML,
            body: s3ErrorXml('NoSuchBucketPolicy', 'The bucket policy does not exist'),
          }
        : { status: 200, headers: { 'content-type': 'application/json' }, body: policy };
    }
    const fault = faults.shift();
    if (fault === 'reset') return { status: 200, fault: 'reset' as const };
    if (fault === 'throttle')
      return {
        status: 503,
        headers: XML,
        body: s3ErrorXml('SlowDown', 'Please reduce your request rate.'),
      };
    policies.set(bucket, request.body);
    return { status: 204 };
  };
}

const plan = () =>
  planOf(scanEvidence([bucketEvidence('orders')]), { rules: ['s3-bucket-tls-enforced'] }).plan;

describe('s3scan fix on the wire', () => {
  it('applies through a throttled answer and a reset connection: the SDK retries, the read-back proves it', async () => {
    // Prepare
    server = await startFakeAws(policyServer(['throttle', 'reset']));
    const clients = clientsFor(server.endpoint, 4);

    // Act
    const outcome = await applyPlan(plan(), {
      settings: awsSettings(clients),
      records: new MemoryRecords(),
      by: 'me',
      account: BUCKET_ACCOUNT,
    });
    clients.destroy();

    // Assess
    expect(outcome.results[0]).toMatchObject({ status: 'applied', verified: true });
    const puts = server.requests.filter((r) => r.method === 'PUT');
    expect(puts).toHaveLength(3);
    expect(puts[2]?.headers['x-amz-expected-bucket-owner']).toBe(BUCKET_ACCOUNT);
    expect(puts[2]?.headers).not.toHaveProperty('x-amz-confirm-remove-self-bucket-access');
  });

  it('reports a write throttled past every retry for its bucket, with the setting read back unchanged', async () => {
    // Prepare: every PUT throttled.
    server = await startFakeAws(policyServer(['throttle', 'throttle', 'throttle']));
    const clients = clientsFor(server.endpoint, 3);

    // Act
    const outcome = await applyPlan(plan(), {
      settings: awsSettings(clients),
      records: new MemoryRecords(),
      by: 'me',
      account: BUCKET_ACCOUNT,
    });
    clients.destroy();

    // Assess: failed, said why, and nothing half-applied.
    expect(outcome.results[0]).toMatchObject({
      status: 'failed',
      readBack: null,
      reason:
        'the write failed (SlowDown (HTTP 503): Please reduce your request rate.); the setting is unchanged',
    });
    expect(server.requests.filter((r) => r.method === 'PUT')).toHaveLength(3);
  });

  it('creates a Batch Operations job and follows it with the documented S3 Control XML', async () => {
    // Prepare: S3 answers the manifest PUT; S3 Control CreateJob and DescribeJob.
    server = await startFakeAws((request) => {
      if (request.path === '/v20180820/jobs' && request.method === 'POST')
        return {
          status: 200,
          headers: XML,
          body: `<?xml version="1.0" encoding="UTF-8"?><CreateJobResult xmlns="${S3C_NS}"><JobId>a1b2c3d4-5678</JobId></CreateJobResult>`,
        };
      if (request.path === '/v20180820/jobs/a1b2c3d4-5678')
        return {
          status: 200,
          headers: XML,
          body: `<?xml version="1.0" encoding="UTF-8"?><DescribeJobResult xmlns="${S3C_NS}"><Job><JobId>a1b2c3d4-5678</JobId><ConfirmationRequired>true</ConfirmationRequired><Status>Suspended</Status><ProgressSummary><TotalNumberOfTasks>0</TotalNumberOfTasks><NumberOfTasksSucceeded>0</NumberOfTasksSucceeded><NumberOfTasksFailed>0</NumberOfTasksFailed></ProgressSummary><FailureReasons/><CreationTime>2026-12-07T07:00:00Z</CreationTime></Job></DescribeJobResult>`,
        };
      if (request.method === 'PUT')
        return { status: 200, headers: { etag: '"0f343b0931126a20f133d67c2b018a3b"' } };
      return { status: 400, headers: XML, body: s3ErrorXml('InvalidRequest', 'unexpected') };
    });
    const clients = clientsFor(server.endpoint);
    const fixPlan = {
      fixId: 'fix-20261207T070000Z-abcdefabcdef',
      objectJobs: [
        {
          id: `${ACCOUNT}.orders.1`,
          bucket: 'orders',
          account: ACCOUNT,
          region: 'us-east-1',
          rules: [],
          operation: 'S3UpdateObjectEncryption',
          target: {
            algorithm: 'aws:kms',
            kmsKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
            bucketKeyEnabled: true,
          },
          objects: 1,
          bytes: 5,
          examples: [],
          effects: [],
          needsConsent: false,
        },
        {
          id: `${ACCOUNT}.orders.2`,
          bucket: 'orders',
          account: ACCOUNT,
          region: 'us-east-1',
          rules: [],
          operation: 'S3UpdateObjectEncryption',
          target: {
            algorithm: 'aws:kms',
            kmsKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
            bucketKeyEnabled: true,
          },
          objects: 40,
          bytes: 400,
          examples: [],
          effects: [],
          needsConsent: false,
          source: { kind: 'generated', encryption: 'SSE-S3', seen: 100, of: 5000 },
        },
      ],
    } as unknown as FixPlan;
    const records = new MemoryRecords();
    await records.write(fixPlan.fixId, `manifests/${ACCOUNT}.orders.1`, [{ key: 'a b.txt' }]);
    const ports = { batch: awsBatch(clients), records, by: 'me', account: ACCOUNT };

    // Act
    const created = await createJobs(
      fixPlan,
      {
        jobBucket: 'ops-jobs',
        batchRoleArn: `arn:aws:iam::${ACCOUNT}:role/s3scan-ci-remediation-batch`,
        partition: 'aws',
        copies: false,
      },
      ports,
    );
    const followed = await jobStatus(fixPlan.fixId, ports);
    clients.destroy();

    // Assess: the manifest PUT, then CreateJob's XML with what S3 requires.
    expect(created[0]).toMatchObject({ status: 'created', jobId: 'a1b2c3d4-5678' });
    const manifest = server.requests.find((r) => r.method === 'PUT');
    expect(manifest?.path).toBe(
      `/ops-jobs/s3scan-fixes/${fixPlan.fixId}/manifests/${ACCOUNT}.orders.1.csv`,
    );
    expect(manifest?.body).toBe('orders,a%20b.txt\n');
    // A rerun after a stop between the put and its record puts the list again: no 412.
    expect(manifest?.headers).not.toHaveProperty('if-none-match');
    const create = server.requests.find((r) => r.path === '/v20180820/jobs');
    expect(create?.headers['x-amz-account-id']).toBe(ACCOUNT);
    expect(create?.body).toContain('<ConfirmationRequired>true</ConfirmationRequired>');
    expect(create?.body).toMatch(
      /<S3UpdateObjectEncryption><ObjectEncryption><SSE-KMS><KMSKeyArn>arn:aws:kms:us-east-1:123456789012:key\/1234abcd-12ab-34cd-56ef-1234567890ab<\/KMSKeyArn><BucketKeyEnabled>true<\/BucketKeyEnabled><\/SSE-KMS><\/ObjectEncryption><\/S3UpdateObjectEncryption>/,
    );
    expect(create?.body).toContain('<ETag>&quot;0f343b0931126a20f133d67c2b018a3b&quot;</ETag>');
    expect(create?.body).toContain('<ReportScope>AllTasks</ReportScope>');
    // A sampled bucket's job: S3 lists the SSE-S3 objects itself; no manifest is put.
    const generated = server.requests.filter((r) => r.path === '/v20180820/jobs')[1];
    expect(created[1]).toMatchObject({ status: 'created' });
    expect(generated?.body).not.toContain('<Manifest>');
    expect(generated?.body).toMatch(
      /<ManifestGenerator><S3JobManifestGenerator>.*<SourceBucket>arn:aws:s3:::orders<\/SourceBucket>.*<MatchAnyObjectEncryption><ObjectEncryption><SSE-S3\s*\/?>(<\/SSE-S3>)?<\/ObjectEncryption><\/MatchAnyObjectEncryption>/,
    );
    expect(server.requests.filter((r) => r.method === 'PUT')).toHaveLength(1);
    expect(followed[0]).toMatchObject({ state: { status: 'Suspended', total: 0 } });
  });
});
