import { createHash } from 'node:crypto';
import type { BatchPort, CreateJobRequest, JobState } from '../aws/batch-jobs.js';
import type { AlertLedgerStore } from '../report-store/types.js';
import { describeError } from './apply.js';
import type { ObjectJob } from './objects.js';
import type { FixPlan } from './plan.js';

/**
 * Creating a plan's S3 Batch Operations jobs (issue 26, item 4) and following them. A job is
 * created with confirmation required (it waits, Suspended, for a person's `Ready`) and a
 * completion report of every task. Exactly once: a created job is recorded (`jobs/<id>.created`)
 * and not created again; the manifest's ETag is recorded before CreateJob; and CreateJob carries
 * a token derived from the fix and the job, which S3 answers with the same job when a run that
 * stopped before recording it sends it again.
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

/** What every result says of its job. */
export function jobBase(
  job: ObjectJob,
): Pick<JobResult, 'id' | 'bucket' | 'operation' | 'objects' | 'region' | 'account'> {
  return {
    id: job.id,
    bucket: job.bucket,
    operation: job.operation,
    objects: job.objects,
    region: job.region,
    account: job.account,
  };
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
  /** The listed manifest; none when S3 generates the list (`job.source`). */
  manifest: { key: string; etag: string; fields: ('Bucket' | 'Key' | 'VersionId')[] } | undefined,
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
  const source = job.source;
  const encryptionFilter =
    source === undefined
      ? undefined
      : source.encryption === 'SSE-S3'
        ? { SSES3: {} }
        : source.encryption === 'NOTSSE'
          ? { NOTSSE: {} }
          : { SSEKMS: { KmsKeyArn: source.encryption.kmsKeyArn } };
  const objects: Pick<CreateJobRequest, 'Manifest' | 'ManifestGenerator'> =
    source && encryptionFilter
      ? {
          ManifestGenerator: {
            S3JobManifestGenerator: {
              ExpectedBucketOwner: job.account,
              SourceBucket: arn(job.bucket),
              EnableManifestOutput: true,
              ManifestOutputLocation: {
                ExpectedManifestBucketOwner: job.account,
                Bucket: arn(settings.jobBucket),
                ManifestPrefix: `s3scan-fixes/${fixId}/generated`,
                ManifestFormat: 'S3InventoryReport_CSV_20211130',
              },
              Filter: {
                MatchAnyObjectEncryption: [encryptionFilter],
                ...(source.storageClass
                  ? {
                      MatchAnyStorageClass: [source.storageClass as never],
                      // Batch Copy copies up to 5 GB.
                      ObjectSizeLessThanBytes: 5 * 1024 ** 3 + 1,
                    }
                  : {}),
              },
            },
          },
        }
      : {
          Manifest: {
            Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: manifest?.fields ?? [] },
            Location: {
              ObjectArn: arn(`${settings.jobBucket}/${manifest?.key ?? ''}`),
              ETag: manifest?.etag ?? '',
            },
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
    ...objects,
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

/**
 * The manifest of a job from the scan's list, put in the job bucket once: its ETag is recorded
 * before CreateJob, so a rerun reuses the manifest the job may already name. A reason instead
 * when the plan's manifest record is missing or holds another count (a run stopped between
 * storing the plan and its manifests).
 */
async function listedManifest(
  fixId: string,
  job: ObjectJob,
  settings: JobSettings,
  ports: { batch: BatchPort; records: AlertLedgerStore },
): Promise<{ key: string; etag: string; fields: ('Bucket' | 'Key' | 'VersionId')[] } | string> {
  const rows = (await ports.records.read(fixId, `manifests/${job.id}`)) as
    | { key: string; versionId?: string }[]
    | undefined;
  if (!Array.isArray(rows) || rows.length !== job.objects)
    return `the manifest record of ${job.id} holds ${Array.isArray(rows) ? rows.length : 'no'} objects where the plan counts ${job.objects}: plan again`;
  const key = `s3scan-fixes/${fixId}/manifests/${job.id}.csv`;
  const { body, fields } = manifestCsv(job.bucket, rows);
  const recorded = (await ports.records.read(fixId, `jobs/${job.id}.manifest`)) as
    | { etag: string }
    | undefined;
  if (recorded) return { key, etag: recorded.etag, fields };
  const etag = await ports.batch.putManifest(
    { bucket: settings.jobBucket, account: job.account, region: job.region, key },
    body,
  );
  await ports.records.write(fixId, `jobs/${job.id}.manifest`, { etag, key, fields });
  return { key, etag, fields };
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
    const base = jobBase(job);
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
    try {
      const manifest = job.source
        ? undefined
        : await listedManifest(plan.fixId, job, settings, ports);
      if (typeof manifest === 'string') {
        results.push({ ...base, status: 'failed', reason: manifest });
        continue;
      }
      const jobId = await ports.batch.createJob(
        job.region,
        jobRequest(plan.fixId, job, manifest, settings),
      );
      const record: CreatedJob = {
        jobId,
        job,
        manifest: manifest
          ? `s3://${settings.jobBucket}/${manifest.key}`
          : `generated by S3 into s3://${settings.jobBucket}/s3scan-fixes/${plan.fixId}/generated`,
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
    const base = { ...jobBase(job), jobId: created.jobId };
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
