import { createHash } from 'node:crypto';
import type { BatchPort, CreateJobRequest, JobState } from '../aws/batch-jobs.js';
import type { AlertLedgerStore } from '../report-store/types.js';
import { describeError } from './apply.js';
import type { ObjectJob } from './objects.js';
import type { FixPlan } from './plan.js';

/**
 * Creating a plan's S3 Batch Operations jobs (issue 26, item 4) and following them. A job is
 * created with confirmation required (it waits, Suspended, for a person's `Ready`) and a
 * completion report of every task. Exactly once: the claim record is created once per job, the
 * manifest's ETag is recorded before CreateJob, and CreateJob carries a token derived from the
 * fix and the job, which S3 answers with the same job when a retry sends it again.
 */

/** Where a job's manifest and completion report go, and the role Batch Operations runs as. */
export interface JobSettings {
  /** A bucket of the caller's account for manifests and completion reports. */
  jobBucket: string;
  /** The role S3 Batch Operations assumes (the deployment's `RemediationBatchRoleArn`). */
  batchRoleArn: string;
  partition: string;
  /** Copy jobs change what an update keeps: created only when asked. */
  copies: boolean;
}

/** What became of one job of a plan. */
export interface JobResult {
  id: string;
  bucket: string;
  operation: ObjectJob['operation'];
  objects: number;
  status: 'created' | 'already' | 'refused' | 'failed';
  reason?: string;
  jobId?: string;
  region: string;
  account: string;
  state?: JobState;
}

/** The record of a created job. */
interface CreatedJob {
  jobId: string;
  job: ObjectJob;
  manifest: string;
  createdAt: string;
  by: string;
}

/** A CSV manifest (no header row; keys URL-encoded, as Batch Operations reads them). */
export function manifestCsv(
  bucket: string,
  rows: readonly { key: string; versionId?: string }[],
): { body: string; fields: ('Bucket' | 'Key' | 'VersionId')[] } {
  const versioned = rows.length > 0 && rows.every((r) => r.versionId);
  const quote = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const lines = rows.map((r) =>
    [bucket, encodeURIComponent(r.key), ...(versioned ? [r.versionId ?? ''] : [])]
      .map(quote)
      .join(','),
  );
  return {
    body: lines.length > 0 ? `${lines.join('\n')}\n` : '',
    fields: versioned ? ['Bucket', 'Key', 'VersionId'] : ['Bucket', 'Key'],
  };
}

/** CreateJob's token: the same for every retry of one job of one fix (at most 64 characters). */
export const jobToken = (fixId: string, jobId: string) =>
  createHash('sha256').update(`${fixId}/${jobId}`).digest('hex').slice(0, 64);

/** The CreateJob request of a job. */
export function jobRequest(
  fixId: string,
  job: ObjectJob,
  manifest: { key: string; etag: string; fields: ('Bucket' | 'Key' | 'VersionId')[] },
  settings: JobSettings,
): CreateJobRequest {
  const arn = (resource: string) => `arn:${settings.partition}:s3:::${resource}`;
  const operation: CreateJobRequest['Operation'] =
    job.operation === 'S3UpdateObjectEncryption'
      ? {
          S3UpdateObjectEncryption: {
            ObjectEncryption: {
              SSEKMS: {
                KMSKeyArn: job.target.kmsKeyArn ?? '',
                BucketKeyEnabled: job.target.bucketKeyEnabled,
              },
            },
          },
        }
      : {
          S3PutObjectCopy: {
            TargetResource: arn(job.bucket),
            MetadataDirective: 'COPY',
            // A copy without it lands in STANDARD: each job copies one class onto itself.
            ...(job.storageClass ? { StorageClass: job.storageClass as never } : {}),
            NewObjectMetadata: {
              SSEAlgorithm: job.target.algorithm === 'aws:kms' ? 'KMS' : 'AES256',
            },
            ...(job.target.kmsKeyArn
              ? {
                  SSEAwsKmsKeyId: job.target.kmsKeyArn,
                  BucketKeyEnabled: job.target.bucketKeyEnabled,
                }
              : {}),
          },
        };
  return {
    AccountId: job.account,
    ConfirmationRequired: true,
    ClientRequestToken: jobToken(fixId, job.id),
    Priority: 10,
    RoleArn: settings.batchRoleArn,
    Description:
      `s3scan fix ${fixId}: ${job.operation} of ${job.objects} objects of ${job.bucket}`.slice(
        0,
        256,
      ),
    Operation: operation,
    Manifest: {
      Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: manifest.fields },
      Location: { ObjectArn: arn(`${settings.jobBucket}/${manifest.key}`), ETag: manifest.etag },
    },
    Report: {
      Enabled: true,
      Bucket: arn(settings.jobBucket),
      Format: 'Report_CSV_20180820',
      Prefix: `s3scan-fixes/${fixId}/reports`,
      ReportScope: 'AllTasks',
      ExpectedBucketOwner: job.account,
    },
  };
}

/** The IAM actions creating and following jobs need (besides what the role passed needs). */
export const JOB_IAM_ACTIONS = ['iam:PassRole', 's3:CreateJob', 's3:DescribeJob', 's3:PutObject'];

/** Creates the plan's jobs, each once; copies only with `settings.copies`. */
export async function createJobs(
  plan: FixPlan,
  settings: JobSettings,
  ports: {
    batch: BatchPort;
    records: AlertLedgerStore;
    by: string;
    account: string;
    now?: () => Date;
  },
): Promise<JobResult[]> {
  const now = ports.now ?? (() => new Date());
  const results: JobResult[] = [];
  for (const job of plan.objectJobs ?? []) {
    const base = {
      id: job.id,
      bucket: job.bucket,
      operation: job.operation,
      objects: job.objects,
      region: job.region,
      account: job.account,
    };
    if (job.account !== ports.account) {
      results.push({
        ...base,
        status: 'refused',
        reason: `the bucket is in account ${job.account} and these credentials are of account ${ports.account}`,
      });
      continue;
    }
    if (job.needsConsent && !settings.copies) {
      results.push({
        ...base,
        status: 'refused',
        reason: 'a copy changes what an update keeps (see the plan): pass --copy to create it',
      });
      continue;
    }
    const created = (await ports.records.read(plan.fixId, `jobs/${job.id}.created`)) as
      | CreatedJob
      | undefined;
    if (created) {
      results.push({ ...base, status: 'already', jobId: created.jobId });
      continue;
    }
    await ports.records.create(plan.fixId, `jobs/${job.id}.claim`, {
      at: now().toISOString(),
      by: ports.by,
    });
    try {
      const rows = (await ports.records.read(plan.fixId, `manifests/${job.id}`)) as
        | { key: string; versionId?: string }[]
        | undefined;
      // A plan stored without its manifests (its run stopped in between) makes no job.
      if (!Array.isArray(rows) || rows.length !== job.objects) {
        results.push({
          ...base,
          status: 'failed',
          reason: `the manifest record of ${job.id} holds ${Array.isArray(rows) ? rows.length : 'no'} objects where the plan counts ${job.objects}: plan again`,
        });
        continue;
      }
      const key = `s3scan-fixes/${plan.fixId}/manifests/${job.id}.csv`;
      const { body, fields } = manifestCsv(job.bucket, rows);
      // The ETag is recorded before CreateJob: a rerun reuses the manifest the job may name.
      let put = (await ports.records.read(plan.fixId, `jobs/${job.id}.manifest`)) as
        | { etag: string }
        | undefined;
      if (!put) {
        const etag = await ports.batch.putManifest(
          { bucket: settings.jobBucket, account: job.account, region: job.region, key },
          body,
        );
        put = { etag };
        await ports.records.write(plan.fixId, `jobs/${job.id}.manifest`, { etag, key, fields });
      }
      const jobId = await ports.batch.createJob(
        job.region,
        jobRequest(plan.fixId, job, { key, etag: put.etag, fields }, settings),
      );
      const record: CreatedJob = {
        jobId,
        job,
        manifest: `s3://${settings.jobBucket}/${key}`,
        createdAt: now().toISOString(),
        by: ports.by,
      };
      await ports.records.write(plan.fixId, `jobs/${job.id}.created`, record);
      results.push({ ...base, status: 'created', jobId });
    } catch (error) {
      results.push({ ...base, status: 'failed', reason: describeError(error) });
    }
  }
  return results;
}

/** Each created job of a fix as DescribeJob answers now, recorded as `jobs/<id>.status`. */
export async function jobStatus(
  fixId: string,
  ports: { batch: BatchPort; records: AlertLedgerStore },
): Promise<JobResult[]> {
  const names = (await ports.records.list(fixId))
    .filter((n) => /^jobs\/.+\.created$/.test(n))
    .sort();
  const results: JobResult[] = [];
  for (const name of names) {
    const created = (await ports.records.read(fixId, name)) as CreatedJob | undefined;
    if (!created) continue;
    const { job } = created;
    const base = {
      id: job.id,
      bucket: job.bucket,
      operation: job.operation,
      objects: job.objects,
      region: job.region,
      account: job.account,
      jobId: created.jobId,
    };
    try {
      const state = await ports.batch.describeJob(job.region, job.account, created.jobId);
      await ports.records.write(fixId, `jobs/${job.id}.status`, {
        ...state,
        at: new Date().toISOString(),
      });
      results.push({ ...base, status: 'created', state });
    } catch (error) {
      results.push({ ...base, status: 'failed', reason: describeError(error) });
    }
  }
  return results;
}
