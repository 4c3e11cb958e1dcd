import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateJobCommand, DescribeJobCommand, S3ControlClient } from '@aws-sdk/client-s3-control';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { awsBatch, type BatchPort } from '../../../lib/aws/batch-jobs.js';
import type { Finding } from '../../../lib/engine/types.js';
import type { ObjectScanEvidence } from '../../../lib/evidence/types.js';
import {
  createJobs,
  jobRequest,
  jobStatus,
  jobToken,
  manifestCsv,
} from '../../../lib/remediation/jobs.js';
import { objectRows } from '../../../lib/remediation/object-rows.js';
import {
  COPY_LIMIT_BYTES,
  type ObjectRow,
  planBucketObjects,
} from '../../../lib/remediation/objects.js';
import type { FixPlan } from '../../../lib/remediation/plan.js';
import { openObjectCsv } from '../../../lib/report-store/objects-csv.js';
import {
  ACCOUNT,
  bucketEvidence,
  KEY_ARN,
  keyEvidence,
  kmsEncryption,
} from '../../helpers/evidence.js';
import { MemoryRecords } from '../../helpers/fix-world.js';

const OTHER_KEY = KEY_ARN.replace('1234abcd', '9999abcd');

function objectsEvidence(overrides: Partial<ObjectScanEvidence> = {}): ObjectScanEvidence {
  return {
    mode: 'full',
    versions: false,
    complete: true,
    listed: 10,
    classified: 10,
    byEncryption: {},
    noncurrentByEncryption: {},
    byKmsKey: {},
    byStorageClass: {},
    unknownAlgorithms: {},
    clientSide: { v1: 0, v2: 0, v3: 0 },
    denied: { count: 0, bytes: 0, examples: [] },
    failed: { count: 0, bytes: 0, examples: [], codes: {} },
    deleteMarkers: 0,
    ...overrides,
  };
}

const finding = (ruleId: string): Finding =>
  ({
    ruleId,
    status: 'FAIL',
    severity: 'medium',
    fingerprint: `fp-${ruleId}`,
    message: '',
    resource: { type: 'AWS::S3::Bucket', name: 'data', account: ACCOUNT, region: 'us-east-1' },
  }) as unknown as Finding;

const row = (key: string, encryption: string, extra: Partial<ObjectRow> = {}): ObjectRow => ({
  key,
  versionId: '',
  isLatest: true,
  size: 100,
  storageClass: 'STANDARD',
  encryption,
  kmsKeyId: encryption === 'SSE-KMS' ? KEY_ARN : '',
  bucketKeyEnabled: false,
  ...extra,
});

async function* rowsOf(rows: ObjectRow[]) {
  yield* rows;
}

const kmsBucket = (objects = objectsEvidence()) => ({
  bucket: bucketEvidence('data', { ...kmsEncryption(KEY_ARN, { bucketKey: true }), objects }),
  kmsKeys: { [KEY_ARN]: keyEvidence(KEY_ARN) },
});

describe('s3scan fix: objects, from the scan per-object list', () => {
  it('updates SSE-S3 and other-key objects in place, offers copies per storage class for plaintext, and says why it leaves the rest', async () => {
    // Prepare
    const rows = [
      row('old/a.csv', 'SSE-S3'),
      row('old/b.csv', 'SSE-S3', { size: 300 }),
      row('moved/c.csv', 'SSE-KMS', { kmsKeyId: OTHER_KEY }),
      row('right.csv', 'SSE-KMS'),
      row('plain/d.txt', 'NONE'),
      row('plain/e.txt', 'NONE', { storageClass: 'STANDARD_IA' }),
      row('plain/huge.bin', 'NONE', { size: COPY_LIMIT_BYTES + 1 }),
      row('plain/cold.txt', 'NONE', { storageClass: 'DEEP_ARCHIVE' }),
      row('secret.bin', 'SSE-C'),
      row('=cmd', 'SSE-S3', { ambiguousKey: true }),
      row('old/a.csv', 'NONE', { isLatest: false, versionId: 'v0' }),
    ];

    // Act
    const plan = await planBucketObjects({
      findings: [
        finding('s3-objects-weaker-than-default'),
        finding('s3-objects-kms-key-mismatch'),
        finding('s3-objects-unencrypted'),
        finding('s3-objects-sse-c'),
      ],
      evidence: kmsBucket(),
      rows: rowsOf(rows),
    });

    // Assess: one update job, one copy job per storage class.
    expect(
      plan.jobs.map((j) => [j.operation, j.storageClass, j.objects, j.bytes, j.needsConsent]),
    ).toEqual([
      ['S3UpdateObjectEncryption', undefined, 3, 500, false],
      ['S3PutObjectCopy', 'STANDARD', 1, 100, true],
      ['S3PutObjectCopy', 'STANDARD_IA', 1, 100, true],
    ]);
    expect(plan.jobs[0]?.target).toEqual({
      algorithm: 'aws:kms',
      kmsKeyArn: KEY_ARN,
      bucketKeyEnabled: true,
    });
    expect(plan.jobs[0]?.rules.map((r) => r.rule).sort()).toEqual([
      's3-objects-kms-key-mismatch',
      's3-objects-weaker-than-default',
    ]);
    expect(plan.manifests.get(plan.jobs[0]?.id ?? '')).toEqual([
      { key: 'old/a.csv' },
      { key: 'old/b.csv' },
      { key: 'moved/c.csv' },
    ]);
    expect(plan.jobs[1]?.effects.join(' ')).toMatch(/ACL grants are reset to private/);
    expect(plan.left.map((l) => [l.objects, l.reason.split(':')[0]])).toEqual([
      [1, 'encrypted with a customer-provided key s3scan never has'],
      [
        1,
        "their keys start with ' and a formula character, which the scan's CSV also writes for neutralised keys",
      ],
      [1, 'over 5 GB'],
      [1, 'in GLACIER, DEEP_ARCHIVE or REDUCED_REDUNDANCY'],
    ]);
  });

  it('lets S3 list the objects by their encryption when the scan sampled: an update per source, a copy per storage class', async () => {
    // Act: 100 of 5,000 objects classified; SSE-S3, another key and plaintext among them.
    const sampled = await planBucketObjects({
      findings: [
        finding('s3-objects-weaker-than-default'),
        finding('s3-objects-kms-key-mismatch'),
        finding('s3-objects-unencrypted'),
      ],
      evidence: kmsBucket(
        objectsEvidence({
          mode: 'sample',
          listed: 5000,
          classified: 100,
          complete: false,
          byEncryption: {
            'SSE-S3': { count: 7, bytes: 70, examples: ['a'] },
            NONE: { count: 2, bytes: 20, examples: ['p'] },
          },
          byKmsKey: { [OTHER_KEY]: { count: 3, bytes: 30, examples: ['k'] } },
          byStorageClass: {
            STANDARD: { count: 90, bytes: 900 },
            GLACIER: { count: 10, bytes: 100 },
          },
        }),
      ),
      rows: rowsOf([]),
    });

    // Assess
    expect(
      sampled.jobs.map((j) => [
        j.operation,
        j.source?.encryption,
        j.source?.storageClass,
        j.objects,
      ]),
    ).toEqual([
      ['S3UpdateObjectEncryption', 'SSE-S3', undefined, 7],
      ['S3UpdateObjectEncryption', { kmsKeyArn: OTHER_KEY }, undefined, 3],
      ['S3PutObjectCopy', 'NOTSSE', 'STANDARD', 2],
    ]);
    expect(sampled.jobs[0]?.effects[0]).toBe(
      "S3 lists the bucket's SSE-S3 objects itself when the job runs (the scan classified 100 of 5000 objects; the job reaches every one, also those written since)",
    );
    expect(sampled.manifests.size).toBe(0);
    expect(sampled.left.map((l) => l.reason)).toEqual([
      'unencrypted objects in GLACIER, if any: Batch Copy cannot read archived objects nor write RRS; restore them first',
    ]);
    const request = jobRequest('fix-1', sampled.jobs[2]!, undefined, {
      jobBucket: 'ops-jobs',
      batchRoleArn: 'arn:aws:iam::111122223333:role/b',
      partition: 'aws',
      copies: true,
    });
    expect(request.Manifest).toBeUndefined();
    expect(request.ManifestGenerator).toEqual({
      S3JobManifestGenerator: {
        ExpectedBucketOwner: ACCOUNT,
        SourceBucket: 'arn:aws:s3:::data',
        EnableManifestOutput: true,
        ManifestOutputLocation: {
          ExpectedManifestBucketOwner: ACCOUNT,
          Bucket: 'arn:aws:s3:::ops-jobs',
          ManifestPrefix: 's3scan-fixes/fix-1/generated',
          ManifestFormat: 'S3InventoryReport_CSV_20211130',
        },
        Filter: {
          MatchAnyObjectEncryption: [{ NOTSSE: {} }],
          MatchAnyStorageClass: ['STANDARD'],
          ObjectSizeLessThanBytes: 5 * 1024 ** 3 + 1,
        },
      },
    });
  });

  it('refuses a failed listing, a bucket whose objects were not scanned, and an aws/s3 default, saying why', async () => {
    // Act
    const sampled = await planBucketObjects({
      findings: [finding('s3-objects-weaker-than-default')],
      evidence: kmsBucket(
        objectsEvidence({
          mode: 'sample',
          listed: 5000,
          classified: 100,
          listError: { code: 'AccessDenied', message: 'Access Denied' },
        }),
      ),
      rows: rowsOf([]),
    });
    const missing = await planBucketObjects({
      findings: [finding('s3-objects-weaker-than-default')],
      evidence: {
        bucket: bucketEvidence('data', { ...kmsEncryption(KEY_ARN, { bucketKey: true }) }),
        kmsKeys: { [KEY_ARN]: keyEvidence(KEY_ARN) },
      },
      rows: undefined,
    });
    const awsManaged = await planBucketObjects({
      findings: [finding('s3-objects-weaker-than-default')],
      evidence: {
        bucket: bucketEvidence('data', {
          ...kmsEncryption('arn:aws:kms:us-east-1:123456789012:alias/aws/s3'),
          objects: objectsEvidence(),
        }),
        kmsKeys: {},
      },
      rows: rowsOf([row('a', 'SSE-S3')]),
    });
    const versions = await planBucketObjects({
      findings: [finding('s3-object-versions-unencrypted')],
      evidence: kmsBucket(),
      rows: rowsOf([]),
    });

    // Assess
    expect(sampled.jobs).toEqual([]);
    expect(sampled.left[0]?.reason).toBe(
      "the scan's listing of the bucket failed (AccessDenied): rescan it before fixing its objects",
    );
    expect(missing.left[0]?.reason).toBe(
      'the scan did not look at the objects of this bucket: rescan it with --objects',
    );
    expect(awsManaged.left[0]?.reason).toBe(
      'the default is the AWS managed key aws/s3: UpdateObjectEncryption needs the full ARN of a customer managed key',
    );
    expect(versions.left[0]?.reason).toMatch(/^noncurrent versions cannot be re-encrypted/);
  });

  it("reads the scan's own per-object CSV back: hostile keys exact, neutralised ones marked ambiguous", async () => {
    // Prepare: the scan's writer, with keys a spreadsheet or a CSV parser would trip on.
    const path = join(mkdtempSync(join(tmpdir(), 's3scan-objects-')), 'data.csv.gz');
    const sink = await openObjectCsv(path);
    const keys = ['a,b "c"\nd.txt', 'ünï/cødé ✓.txt', '=SUM(A1)', "'quoted"];
    for (const key of keys)
      sink.write({
        key,
        isLatest: true,
        size: 7,
        storageClass: 'STANDARD',
        outcome: { kind: 'classified', type: 'SSE-S3', algorithm: 'AES256' },
      });
    await sink.close();

    // Act
    const rows: ObjectRow[] = [];
    for await (const r of objectRows(readFileSync(path))) rows.push(r);

    // Assess
    expect(rows.map((r) => [r.key, r.ambiguousKey ?? false, r.encryption])).toEqual([
      ['a,b "c"\nd.txt', false, 'SSE-S3'],
      ['ünï/cødé ✓.txt', false, 'SSE-S3'],
      ['=SUM(A1)', true, 'SSE-S3'],
      ["'quoted", false, 'SSE-S3'],
    ]);
  });
});

describe('s3scan fix: Batch Operations jobs', () => {
  const job = {
    id: `${ACCOUNT}.data.1`,
    bucket: 'data',
    account: ACCOUNT,
    region: 'eu-west-1',
    rules: [{ rule: 's3-objects-weaker-than-default', fingerprint: 'fp' }],
    operation: 'S3UpdateObjectEncryption' as const,
    target: { algorithm: 'aws:kms' as const, kmsKeyArn: KEY_ARN, bucketKeyEnabled: true },
    objects: 2,
    bytes: 10,
    examples: ['a b.txt'],
    effects: [],
    needsConsent: false,
  };
  const plan = {
    fixId: 'fix-20261207T070000Z-abcdefabcdef',
    objectJobs: [
      job,
      {
        ...job,
        id: `${ACCOUNT}.data.2`,
        operation: 'S3PutObjectCopy' as const,
        storageClass: 'STANDARD_IA',
        needsConsent: true,
      },
    ],
  } as unknown as FixPlan;
  const settings = {
    jobBucket: 'ops-jobs',
    batchRoleArn: `arn:aws:iam::${ACCOUNT}:role/s3scan-ci-remediation-batch`,
    partition: 'aws',
    copies: false,
  };

  function fakeBatch(fail?: unknown) {
    const calls: { op: string; input: unknown }[] = [];
    const batch: BatchPort = {
      putManifest: async (at, body) => {
        calls.push({ op: 'put', input: { ...at, body } });
        return '"etag-1"';
      },
      createJob: async (region, request) => {
        calls.push({ op: 'create', input: { region, request } });
        if (fail) throw fail;
        return 'job-1';
      },
      describeJob: async () => ({ status: 'Suspended', failureReasons: [] }),
    };
    return { batch, calls };
  }

  it('writes a URL-encoded manifest without a header, with versions only when every row has one', () => {
    expect(manifestCsv('data', [{ key: 'a b/ü,x.txt' }, { key: 'plain' }])).toEqual({
      body: 'data,a%20b%2F%C3%BC%2Cx.txt\ndata,plain\n',
      fields: ['Bucket', 'Key'],
    });
    expect(manifestCsv('data', [{ key: 'k', versionId: 'v1' }]).fields).toEqual([
      'Bucket',
      'Key',
      'VersionId',
    ]);
  });

  it('creates each update job once, with confirmation required, its token, the manifest ETag and a full report; copies only when asked', async () => {
    // Prepare
    const records = new MemoryRecords();
    await records.write(plan.fixId, `manifests/${job.id}`, [{ key: 'a b.txt' }, { key: 'c' }]);
    const { batch, calls } = fakeBatch();
    const ports = { batch, records, by: 'arn:aws:sts::1:assumed-role/a/b', account: ACCOUNT };

    // Act
    const first = await createJobs(plan, settings, ports);
    const again = await createJobs(plan, settings, ports);

    // Assess
    expect(first.map((r) => [r.id, r.status, r.jobId])).toEqual([
      [job.id, 'created', 'job-1'],
      [`${ACCOUNT}.data.2`, 'refused', undefined],
    ]);
    expect(first[1]?.reason).toBe(
      'a copy changes what an update keeps (see the plan): pass --copy to create it',
    );
    expect(again.map((r) => r.status)).toEqual(['already', 'refused']);
    expect(calls.map((c) => c.op)).toEqual(['put', 'create']);
    expect(calls[0]?.input).toMatchObject({
      bucket: 'ops-jobs',
      account: ACCOUNT,
      key: `s3scan-fixes/${plan.fixId}/manifests/${job.id}.csv`,
      body: 'data,a%20b.txt\ndata,c\n',
    });
    expect(calls[1]?.input).toEqual({
      region: 'eu-west-1',
      request: {
        AccountId: ACCOUNT,
        ConfirmationRequired: true,
        ClientRequestToken: jobToken(plan.fixId, job.id),
        Priority: 10,
        RoleArn: settings.batchRoleArn,
        Description: `s3scan fix ${plan.fixId}: S3UpdateObjectEncryption of 2 objects of data`,
        Operation: {
          S3UpdateObjectEncryption: {
            ObjectEncryption: { SSEKMS: { KMSKeyArn: KEY_ARN, BucketKeyEnabled: true } },
          },
        },
        Manifest: {
          Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key'] },
          Location: {
            ObjectArn: `arn:aws:s3:::ops-jobs/s3scan-fixes/${plan.fixId}/manifests/${job.id}.csv`,
            ETag: '"etag-1"',
          },
        },
        Report: {
          Enabled: true,
          Bucket: 'arn:aws:s3:::ops-jobs',
          Format: 'Report_CSV_20180820',
          Prefix: `s3scan-fixes/${plan.fixId}/reports`,
          ReportScope: 'AllTasks',
          ExpectedBucketOwner: ACCOUNT,
        },
      },
    });
    expect(jobToken(plan.fixId, job.id)).toHaveLength(64);
  });

  it('makes no job whose manifest record is missing or does not hold the objects the plan counts', async () => {
    // Prepare: the plan stored, its manifests not (a run stopped in between).
    const records = new MemoryRecords();
    const { batch, calls } = fakeBatch();

    // Act
    const results = await createJobs(plan, settings, {
      batch,
      records,
      by: 'me',
      account: ACCOUNT,
    });

    // Assess
    expect(results[0]).toMatchObject({
      status: 'failed',
      reason: `the manifest record of ${job.id} holds no objects where the plan counts 2: plan again`,
    });
    expect(calls).toEqual([]);
  });

  it('after a run stopped between the manifest put and its record, a rerun puts it again and creates the job once', async () => {
    // Prepare: the record of the manifest's ETag fails once, as a run killed there leaves it.
    const records = new MemoryRecords();
    await records.write(plan.fixId, `manifests/${job.id}`, [{ key: 'b' }, { key: 'c' }]);
    const write = records.write.bind(records);
    let stopped = false;
    records.write = async (id, name, record) => {
      if (!stopped && name.endsWith('.manifest')) {
        stopped = true;
        throw new Error('killed');
      }
      return write(id, name, record);
    };
    const { batch, calls } = fakeBatch();
    const ports = { batch, records, by: 'me', account: ACCOUNT };

    // Act
    const first = await createJobs(plan, settings, ports);
    const rerun = await createJobs(plan, settings, ports);

    // Assess
    expect(first[0]?.status).toBe('failed');
    expect(rerun[0]).toMatchObject({ status: 'created', jobId: 'job-1' });
    expect(calls.map((c) => c.op)).toEqual(['put', 'put', 'create']);
  });

  it('after a failed CreateJob, a rerun reuses the recorded manifest and the same token', async () => {
    // Prepare: the first CreateJob throttled (TooManyRequestsException), the rerun works.
    const records = new MemoryRecords();
    await records.write(plan.fixId, `manifests/${job.id}`, [{ key: 'b' }, { key: 'c' }]);
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'TooManyRequestsException',
      $metadata: { httpStatusCode: 400 },
    });
    const failing = fakeBatch(throttled);
    const working = fakeBatch();
    const ports = { records, by: 'me', account: ACCOUNT };

    // Act
    const failed = await createJobs(plan, settings, { ...ports, batch: failing.batch });
    const rerun = await createJobs(plan, settings, { ...ports, batch: working.batch });

    // Assess
    expect(failed[0]).toMatchObject({
      status: 'failed',
      reason: 'TooManyRequestsException (HTTP 400): Rate exceeded',
    });
    expect(rerun[0]).toMatchObject({ status: 'created', jobId: 'job-1' });
    expect(working.calls.map((c) => c.op)).toEqual(['create']);
    const tokens = [...failing.calls, ...working.calls]
      .filter((c) => c.op === 'create')
      .map(
        (c) => (c.input as { request: { ClientRequestToken: string } }).request.ClientRequestToken,
      );
    expect(new Set(tokens).size).toBe(1);
  });

  it('creates copy jobs with --copy: the storage class kept, KMS named as Batch names it', async () => {
    // Prepare
    const records = new MemoryRecords();
    const { batch, calls } = fakeBatch();
    for (const j of plan.objectJobs ?? [])
      await records.write(plan.fixId, `manifests/${j.id}`, [{ key: 'a' }, { key: 'b' }]);

    // Act
    await createJobs(
      plan,
      { ...settings, copies: true },
      { batch, records, by: 'me', account: ACCOUNT },
    );

    // Assess
    const copy = calls.filter((c) => c.op === 'create')[1]?.input as {
      request: { Operation: unknown };
    };
    expect(copy.request.Operation).toEqual({
      S3PutObjectCopy: {
        TargetResource: 'arn:aws:s3:::data',
        MetadataDirective: 'COPY',
        StorageClass: 'STANDARD_IA',
        NewObjectMetadata: { SSEAlgorithm: 'KMS' },
        SSEAwsKmsKeyId: KEY_ARN,
        BucketKeyEnabled: true,
      },
    });
  });

  it('follows jobs through DescribeJob as the SDK answers it, and records each state', async () => {
    // Prepare
    const control = mockClient(S3ControlClient);
    control.on(CreateJobCommand).resolves({ JobId: 'a1b2c3' });
    control.on(DescribeJobCommand).resolves({
      Job: {
        JobId: 'a1b2c3',
        Status: 'Complete',
        ProgressSummary: {
          TotalNumberOfTasks: 2,
          NumberOfTasksSucceeded: 1,
          NumberOfTasksFailed: 1,
        },
        FailureReasons: [],
        Report: { Enabled: true, Bucket: 'arn:aws:s3:::ops-jobs', Prefix: 'r' },
        CreationTime: new Date('2026-12-07T07:00:00Z'),
      },
    });
    const records = new MemoryRecords();
    await records.write(plan.fixId, `manifests/${job.id}`, [{ key: 'b' }, { key: 'c' }]);
    const batch = awsBatch({
      s3: () => ({ send: async () => ({ ETag: '"e"' }) }) as never,
      s3control: async () => new S3ControlClient({ region: 'eu-west-1' }),
    });
    const ports = { batch, records, by: 'me', account: ACCOUNT };
    await createJobs(plan, settings, ports);

    // Act
    const states = await jobStatus(plan.fixId, ports);

    // Assess
    expect(states[0]).toMatchObject({
      jobId: 'a1b2c3',
      state: {
        status: 'Complete',
        total: 2,
        succeeded: 1,
        failed: 1,
        failureReasons: [],
        report: 'arn:aws:s3:::ops-jobs/r',
      },
    });
    expect(await records.read(plan.fixId, `jobs/${job.id}.status`)).toMatchObject({
      status: 'Complete',
    });
    expect(control.commandCalls(DescribeJobCommand)[0]?.args[0].input).toEqual({
      AccountId: ACCOUNT,
      JobId: 'a1b2c3',
    });

    // Act: 90 days after it ended, S3 has deleted the job.
    control.on(DescribeJobCommand).rejects(
      Object.assign(new Error('The specified job does not exist.'), {
        name: 'NoSuchJobException',
        $metadata: { httpStatusCode: 404 },
      }),
    );
    const gone = await jobStatus(plan.fixId, ports);
    control.restore();

    // Assess
    expect(gone[0]).toMatchObject({
      status: 'failed',
      reason: 'NoSuchJobException (HTTP 404): The specified job does not exist.',
    });
  });
});
