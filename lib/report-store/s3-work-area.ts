import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { errorCode, httpStatus } from '../aws/errors.js';
import { safeSegment } from '../evidence/paths.js';
import { reportStoreClient } from './client.js';
import type { WorkArea } from './work-area.js';

/** The work area of one scan in the report bucket: `<prefix>/scans/<scanId>/work/`. */
export class S3WorkArea implements WorkArea {
  private readonly base: string;

  public constructor(
    private readonly options: {
      s3: S3Client;
      bucket: string;
      scanId: string;
      prefix?: string;
      kmsKeyArn?: string;
      expectedOwner?: string;
    },
  ) {
    const prefix = options.prefix ? `${options.prefix.replace(/\/$/, '')}/` : '';
    this.base = `${prefix}scans/${safeSegment(options.scanId)}/work/`;
  }

  /** A work area with its own S3 client. */
  public static create(options: {
    region: string;
    bucket: string;
    scanId: string;
    prefix?: string;
    kmsKeyArn?: string;
    expectedOwner?: string;
  }): S3WorkArea {
    const { region, ...rest } = options;
    return new S3WorkArea({
      ...rest,
      s3: reportStoreClient(region),
    });
  }

  public keyOf(path: string): string {
    return `${this.base}${path}`;
  }

  private get owner() {
    return this.options.expectedOwner ? { ExpectedBucketOwner: this.options.expectedOwner } : {};
  }

  public async put(path: string, value: unknown): Promise<void> {
    await this.putBytes(path, Buffer.from(JSON.stringify(value)), 'application/json');
  }

  public async putBytes(path: string, body: Buffer, contentType: string): Promise<void> {
    await this.options.s3.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: this.keyOf(path),
        Body: body,
        ContentType: contentType,
        ...(this.options.kmsKeyArn
          ? {
              ServerSideEncryption: 'aws:kms',
              SSEKMSKeyId: this.options.kmsKeyArn,
              BucketKeyEnabled: true,
            }
          : {}),
        ...this.owner,
      }),
    );
  }

  public async get<T>(path: string): Promise<T | undefined> {
    const body = await this.getBytes(path);
    return body === undefined ? undefined : (JSON.parse(body.toString('utf8')) as T);
  }

  public async getBytes(path: string): Promise<Buffer | undefined> {
    try {
      const out = await this.options.s3.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: this.keyOf(path), ...this.owner }),
      );
      const chunks: Buffer[] = [];
      for await (const chunk of out.Body as AsyncIterable<Uint8Array>)
        chunks.push(Buffer.from(chunk));
      return Buffer.concat(chunks);
    } catch (error) {
      if (errorCode(error) === 'NoSuchKey' || httpStatus(error) === 404) return undefined;
      throw error;
    }
  }

  public async list(prefix: string): Promise<string[]> {
    const paths: string[] = [];
    let ContinuationToken: string | undefined;
    for (let page = 0; page < 100_000; page++) {
      const out = await this.options.s3.send(
        new ListObjectsV2Command({
          Bucket: this.options.bucket,
          Prefix: this.keyOf(prefix),
          ContinuationToken,
          ...this.owner,
        }),
      );
      for (const object of out.Contents ?? [])
        if (object.Key) paths.push(object.Key.slice(this.base.length));
      if (!out.IsTruncated || !out.NextContinuationToken) break;
      ContinuationToken = out.NextContinuationToken;
    }
    return paths.sort();
  }
}
