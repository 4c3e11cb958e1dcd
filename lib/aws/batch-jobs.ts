import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateJobCommand,
  type CreateJobRequest,
  DescribeJobCommand,
  type S3ControlClient,
} from '@aws-sdk/client-s3-control';
import { AwsResponseError } from '../errors.js';

export type { CreateJobRequest };

/** What a fix needs of S3 Batch Operations: a manifest put, a job created, a job described. */
export interface BatchPort {
  /** Puts a manifest object, replacing one already there; answers its ETag (CreateJob requires it). */
  putManifest(
    at: { bucket: string; account: string; region: string; key: string },
    body: string,
  ): Promise<string>;
  /** CreateJob in the job's region; answers the job id. */
  createJob(region: string, request: CreateJobRequest): Promise<string>;
  describeJob(region: string, account: string, jobId: string): Promise<JobState>;
}

/** A job as DescribeJob answers it, minus what s3scan does not show. */
export interface JobState {
  status: string;
  total?: number;
  succeeded?: number;
  failed?: number;
  failureReasons: string[];
  /** Where the completion report is. */
  report?: string;
}

/** The Batch port over SDK clients, per region (the CLI passes its `AwsClients`). */
export function awsBatch(clients: {
  s3(region: string): S3Client;
  s3control(region: string): Promise<S3ControlClient>;
}): BatchPort {
  return {
    putManifest: async (at, body) => {
      const answer = await clients.s3(at.region).send(
        new PutObjectCommand({
          Bucket: at.bucket,
          Key: at.key,
          Body: body,
          ContentType: 'text/csv',
          ExpectedBucketOwner: at.account,
          // Replacing is safe: a job is created only after this manifest's ETag is recorded, so
          // a run stopped between the put and the record puts the same list again, no job
          // naming it yet (refusing the second put would leave the fix stuck on a 412).
        }),
      );
      if (!answer.ETag)
        throw new AwsResponseError(`PutObject of ${at.key} answered no ETag`, {
          name: 'MissingETag',
        });
      return answer.ETag;
    },
    createJob: async (region, request) => {
      const answer = await (await clients.s3control(region)).send(new CreateJobCommand(request));
      if (!answer.JobId)
        throw new AwsResponseError('CreateJob answered no JobId', { name: 'MissingJobId' });
      return answer.JobId;
    },
    describeJob: async (region, account, jobId) => {
      const answer = await (await clients.s3control(region)).send(
        new DescribeJobCommand({ AccountId: account, JobId: jobId }),
      );
      const job = answer.Job;
      const progress = job?.ProgressSummary;
      const report = job?.Report;
      return {
        status: job?.Status ?? 'unknown',
        ...(progress?.TotalNumberOfTasks !== undefined
          ? { total: progress.TotalNumberOfTasks }
          : {}),
        ...(progress?.NumberOfTasksSucceeded !== undefined
          ? { succeeded: progress.NumberOfTasksSucceeded }
          : {}),
        ...(progress?.NumberOfTasksFailed !== undefined
          ? { failed: progress.NumberOfTasksFailed }
          : {}),
        failureReasons: (job?.FailureReasons ?? []).map((r) =>
          `${r.FailureCode ?? 'unknown'}: ${r.FailureReason ?? ''}`.trim(),
        ),
        ...(report?.Enabled && report.Bucket
          ? { report: `${report.Bucket}/${report.Prefix ?? ''}` }
          : {}),
      };
    },
  };
}
