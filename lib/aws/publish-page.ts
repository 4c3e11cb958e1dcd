import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DeleteObjectsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PagePublishError } from '../errors.js';
import { withDeadline } from './call-bounds.js';
import { errorCode } from './errors.js';
import type { DeployedPageConfig } from './page-config.js';
import { BOUNDED_REQUESTS } from './timeouts.js';

export type { DeployedPageConfig };

/** IAM actions the page publisher needs on the page bucket (and kms:GenerateDataKey on its key). */
export const PAGE_PUBLISH_IAM_ACTIONS = ['s3:PutObject', 's3:DeleteObject'] as const;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
};

/** Where a page bucket lives and how its objects are encrypted (the bucket policy pins the key). */
export interface PageBucket {
  s3: S3Client;
  bucket: string;
  kmsKeyArn: string;
  expectedOwner?: string;
}

/** An S3 client for the page bucket, for hosts that do not import the SDK themselves. */
export function pageBucketClient(region: string): S3Client {
  return withDeadline(new S3Client({ region, requestHandler: BOUNDED_REQUESTS }));
}

/** The page's files in a folder (the built dist/web/), source maps left out. */
export async function pageFiles(folder: string): Promise<{ name: string; body: Buffer }[]> {
  const names = (await readdir(folder)).filter((n) => typeOf(n) !== undefined);
  return Promise.all(
    names.map(async (name) => ({ name, body: await readFile(join(folder, name)) })),
  );
}

const typeOf = (name: string): string | undefined => TYPES[name.slice(name.lastIndexOf('.'))];

/**
 * Puts the page's files and its config.json into the page bucket, each with SSE-KMS under the
 * pinned key. `no-cache`: the files keep their names across releases, so browsers revalidate
 * (CloudFront answers 304 from its cache) instead of running an old script against a new API.
 */
export async function publishPage(
  target: PageBucket,
  files: { name: string; body: Buffer }[],
  config: DeployedPageConfig,
): Promise<string[]> {
  const all = [
    ...files,
    { name: 'config.json', body: Buffer.from(`${JSON.stringify(config, null, 2)}\n`) },
  ];
  for (const file of all) {
    try {
      await target.s3.send(
        new PutObjectCommand({
          Bucket: target.bucket,
          Key: file.name,
          Body: file.body,
          ContentType: typeOf(file.name) ?? 'application/octet-stream',
          CacheControl: 'no-cache',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: target.kmsKeyArn,
          BucketKeyEnabled: true,
          ...(target.expectedOwner ? { ExpectedBucketOwner: target.expectedOwner } : {}),
        }),
      );
    } catch (error) {
      throw new PagePublishError(
        `could not put ${file.name} into s3://${target.bucket}: ${errorCode(error)}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  return all.map((f) => f.name);
}

/** Removes the page's files (stack deletion), so CloudFormation can delete the empty bucket. */
export async function unpublishPage(target: PageBucket, names: string[]): Promise<void> {
  try {
    const out = await target.s3.send(
      new DeleteObjectsCommand({
        Bucket: target.bucket,
        Delete: { Objects: names.map((Key) => ({ Key })), Quiet: true },
        ...(target.expectedOwner ? { ExpectedBucketOwner: target.expectedOwner } : {}),
      }),
    );
    // DeleteObjects answers 200 with per-key errors: a partial failure is still a failure.
    if (out.Errors && out.Errors.length > 0)
      throw new PagePublishError(
        `could not delete ${out.Errors.map((e) => `${e.Key} (${e.Code})`).join(', ')} from s3://${target.bucket}`,
      );
  } catch (error) {
    if (error instanceof PagePublishError) throw error;
    throw new PagePublishError(
      `could not delete the page from s3://${target.bucket}: ${errorCode(error)}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
