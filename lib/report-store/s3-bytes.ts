import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { bodyBytes } from '../aws/body.js';
import { errorCode, httpStatus } from '../aws/errors.js';
import { ReportStoreError, ScanFilesTaken } from '../errors.js';
import type { ByteStore, FolderWriter, VersionedBytes } from './bytes.js';

/** Per-object CSVs past this size go up in parts of about this size (S3: 5 MiB to 5 GiB). */
export const MULTIPART_PART_BYTES = 8 * 2 ** 20;

/** Where reports go in S3. */
export interface S3BytesOptions {
  s3: S3Client;
  bucket: string;
  /** Key prefix, without a trailing slash; empty for the bucket root. */
  prefix?: string;
  /** The report bucket's owner, sent as ExpectedBucketOwner on every call. */
  expectedOwner?: string;
  /**
   * The KMS key ARN to encrypt reports with, sent on every write. Needed when the bucket policy
   * pins the key: such a policy also refuses uploads that leave the key to the bucket default.
   */
  kmsKeyArn?: string;
}

const notFound = (error: unknown) => errorCode(error) === 'NoSuchKey' || httpStatus(error) === 404;

/**
 * Bytes in an S3 bucket under a prefix. A folder's files are created with `If-None-Match: *`
 * and never replaced (the stack's roles may write no other way under `scans/`), so `commit`
 * has nothing left to do; `index.json` is swapped with `If-Match` on the ETag read.
 */
export class S3Bytes implements ByteStore {
  public constructor(public readonly options: S3BytesOptions) {}

  public key(path: string): string {
    return this.options.prefix ? `${this.options.prefix.replace(/\/$/, '')}/${path}` : path;
  }

  public describe(path?: string): string {
    const base = `s3://${this.options.bucket}/${this.key('')}`;
    return path ? `${base}${path}` : base.replace(/\/$/, '');
  }

  public explain(error: unknown): string {
    return error instanceof ReportStoreError
      ? error.message
      : `${errorCode(error)}: ${(error as Error).message}`;
  }

  /** SSE-KMS headers (the report bucket's policy pins its key) and the expected owner. */
  public get writeHeaders() {
    return {
      ...(this.options.kmsKeyArn
        ? {
            ServerSideEncryption: 'aws:kms' as const,
            SSEKMSKeyId: this.options.kmsKeyArn,
            BucketKeyEnabled: true,
          }
        : {}),
      ...this.owner,
    };
  }

  private get owner() {
    return this.options.expectedOwner ? { ExpectedBucketOwner: this.options.expectedOwner } : {};
  }

  public async getVersioned(path: string): Promise<VersionedBytes | undefined> {
    try {
      const out = await this.options.s3.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: this.key(path), ...this.owner }),
      );
      return { body: await bodyBytes(out.Body), version: out.ETag ?? '' };
    } catch (error) {
      if (notFound(error)) return undefined;
      throw new ReportStoreError(`cannot read ${this.describe(path)}: ${errorCode(error)}`, {
        cause: error,
      });
    }
  }

  public async get(path: string): Promise<Buffer | undefined> {
    return (await this.getVersioned(path))?.body;
  }

  public async getRange(path: string, start: number, end: number): Promise<Buffer> {
    try {
      const out = await this.options.s3.send(
        new GetObjectCommand({
          Bucket: this.options.bucket,
          Key: this.key(path),
          Range: `bytes=${start}-${end - 1}`,
          ...this.owner,
        }),
      );
      const body = await bodyBytes(out.Body);
      if (body.length !== end - start)
        throw new ReportStoreError(`asked for ${end - start} bytes, got ${body.length}`);
      return body;
    } catch (error) {
      throw new ReportStoreError(
        `cannot read bytes ${start}-${end - 1} of ${this.describe(path)}: ${errorCode(error)}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  public async *stream(path: string): AsyncIterable<Uint8Array> {
    const out = await this.options.s3.send(
      new GetObjectCommand({ Bucket: this.options.bucket, Key: this.key(path), ...this.owner }),
    );
    if (!out.Body) throw new ReportStoreError('the object has no body');
    yield* out.Body as AsyncIterable<Uint8Array>;
  }

  public async swap(path: string, body: string, version: string | undefined): Promise<boolean> {
    try {
      await this.put(
        path,
        body,
        'application/json',
        version ? { IfMatch: version } : { IfNoneMatch: '*' },
      );
      return true;
    } catch (error) {
      // 412: someone else wrote it since we read it; 409: a concurrent conditional write.
      const status = httpStatus(error);
      if (status === 412 || status === 409) return false;
      throw error;
    }
  }

  public async put(
    path: string,
    body: string | Buffer,
    contentType: string,
    condition: { IfMatch?: string; IfNoneMatch?: string } = {},
  ): Promise<void> {
    await this.options.s3.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: this.key(path),
        Body: body,
        ContentType: contentType,
        ...this.writeHeaders,
        ...condition,
      }),
    );
  }

  /**
   * Writes a stream of buffers with one PutObject when it is small, else as a multipart upload
   * holding one part in memory at a time; a failed upload is aborted, leaving no parts behind.
   */
  private async putStream(
    path: string,
    body: AsyncIterable<Buffer>,
    contentType: string,
    condition: { IfNoneMatch?: string } = {},
  ): Promise<void> {
    const { s3, bucket } = this.options;
    const Key = this.key(path);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let uploadId: string | undefined;
    const parts: { ETag: string; PartNumber: number }[] = [];
    const uploadPart = async () => {
      if (!uploadId) {
        const created = await s3.send(
          new CreateMultipartUploadCommand({
            Bucket: bucket,
            Key,
            ContentType: contentType,
            ...this.writeHeaders,
          }),
        );
        uploadId = created.UploadId;
        if (!uploadId) throw new ReportStoreError('CreateMultipartUpload answered no UploadId');
      }
      const PartNumber = parts.length + 1;
      const out = await s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key,
          UploadId: uploadId,
          PartNumber,
          Body: Buffer.concat(pending),
          ...this.owner,
        }),
      );
      parts.push({ ETag: out.ETag ?? '', PartNumber });
      pending = [];
      pendingBytes = 0;
    };
    try {
      for await (const chunk of body) {
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= MULTIPART_PART_BYTES) await uploadPart();
      }
      if (!uploadId) {
        await this.put(path, Buffer.concat(pending), contentType, condition);
        return;
      }
      if (pendingBytes > 0) await uploadPart();
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
          ...this.owner,
          ...condition,
        }),
      );
    } catch (error) {
      if (uploadId)
        await s3
          .send(
            new AbortMultipartUploadCommand({
              Bucket: bucket,
              Key,
              UploadId: uploadId,
              ...this.owner,
            }),
          )
          .catch(() => undefined);
      throw error;
    }
  }

  public async create(path: string, body: string): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.put(path, body, 'application/json', { IfNoneMatch: '*' });
        return true;
      } catch (error) {
        const status = httpStatus(error);
        if (status === 412) return false;
        // 409: another conditional write to the key is in flight; it may still fail, so ask again.
        if (status === 409 && attempt < 5) {
          await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
          continue;
        }
        if (status === 409) return false;
        throw new ReportStoreError(
          `cannot write ${this.describe(path)}: ${errorCode(error) || (error as Error).message}`,
          { cause: error },
        );
      }
    }
  }

  public async list(prefix: string): Promise<string[]> {
    const base = this.key(prefix);
    const paths: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.options.s3.send(
        new ListObjectsV2Command({
          Bucket: this.options.bucket,
          Prefix: base,
          ...(token ? { ContinuationToken: token } : {}),
          ...this.owner,
        }),
      );
      for (const object of page.Contents ?? [])
        if (object.Key) paths.push(`${prefix}${object.Key.slice(base.length)}`);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return paths.sort();
  }

  public createFolder(path: string, scanId: string): FolderWriter {
    // Every file of a stored scan is created, never replaced (If-None-Match: *, which the
    // stack's roles are held to): an earlier attempt's file is never overwritten, and the
    // caller writes the scan again under a new id.
    const created = async (relative: string, write: () => Promise<void>) => {
      try {
        await write();
      } catch (error) {
        // 412: the key exists; 409: another conditional write of it is under way.
        const status = httpStatus(error);
        if (status === 412 || status === 409)
          throw new ScanFilesTaken(scanId, this.key(`${path}/${relative}`), { cause: error });
        throw error;
      }
    };
    const create = { IfNoneMatch: '*' };
    return {
      put: (relative, body, contentType) =>
        created(relative, () => this.put(`${path}/${relative}`, body, contentType, create)),
      putStream: (relative, chunks, contentType) =>
        created(relative, () => this.putStream(`${path}/${relative}`, chunks, contentType, create)),
      commit: async () => undefined,
      abort: async () => undefined,
    };
  }
}
