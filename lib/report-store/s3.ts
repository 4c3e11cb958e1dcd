import { gunzipSync, gzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { errorCode, httpStatus } from '../collect/probe.js';
import type { Finding } from '../engine/types.js';
import { ReportStoreError } from '../errors.js';
import { bucketEvidencePath, objectCsvPath, safeSegment } from '../evidence/paths.js';
import type { BucketEvidenceFile } from '../evidence/types.js';
import { indexWith } from './index-file.js';
import type { ReportStore, ScanRecord, ScanSummaryFile, StoreIndex } from './types.js';

/** IAM actions the S3 report store needs on its own bucket (not on scanned buckets). */
export const REPORT_STORE_IAM_ACTIONS = ['s3:GetObject', 's3:PutObject'] as const;

/** Attempts at the conditional index write before giving up (another writer kept winning). */
const INDEX_ATTEMPTS = 8;

/** Where reports go in S3. */
export interface S3ReportStoreOptions {
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

async function bodyText(body: unknown): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/**
 * The report store in an S3 bucket, with the local store's layout. Evidence, findings and the
 * summary are written first; `index.json` last, with a conditional write (`If-Match` on the
 * ETag read, `If-None-Match: *` when there is none yet) so two finalizers never lose each
 * other's scan: the loser re-reads, merges and tries again.
 */
export class S3ReportStore implements ReportStore {
  public constructor(private readonly options: S3ReportStoreOptions) {}

  /** A store with its own S3 client, for hosts that should not import the SDK themselves. */
  public static create(
    options: Omit<S3ReportStoreOptions, 's3'> & { region: string; maxAttempts?: number },
  ): S3ReportStore {
    const { region, maxAttempts, ...rest } = options;
    return new S3ReportStore({
      ...rest,
      s3: new S3Client({ region, maxAttempts: maxAttempts ?? 5, retryMode: 'adaptive' }),
    });
  }

  private key(path: string): string {
    return this.options.prefix ? `${this.options.prefix.replace(/\/$/, '')}/${path}` : path;
  }

  public describe(scanId?: string): string {
    const base = `s3://${this.options.bucket}/${this.key('')}`;
    return scanId ? `${base}scans/${safeSegment(scanId)}` : base.replace(/\/$/, '');
  }

  private async put(
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
        ...(this.options.kmsKeyArn
          ? {
              ServerSideEncryption: 'aws:kms',
              SSEKMSKeyId: this.options.kmsKeyArn,
              BucketKeyEnabled: true,
            }
          : {}),
        ...(this.options.expectedOwner ? { ExpectedBucketOwner: this.options.expectedOwner } : {}),
        ...condition,
      }),
    );
  }

  private async get(path: string): Promise<{ body: Buffer; etag?: string } | undefined> {
    try {
      const out = await this.options.s3.send(
        new GetObjectCommand({
          Bucket: this.options.bucket,
          Key: this.key(path),
          ...(this.options.expectedOwner
            ? { ExpectedBucketOwner: this.options.expectedOwner }
            : {}),
        }),
      );
      return { body: await bodyText(out.Body), ...(out.ETag ? { etag: out.ETag } : {}) };
    } catch (error) {
      if (errorCode(error) === 'NoSuchKey' || httpStatus(error) === 404) return undefined;
      throw error;
    }
  }

  public async writeScan(record: ScanRecord): Promise<string> {
    const scanId = safeSegment(record.summary.scanId);
    const dir = `scans/${scanId}`;
    try {
      const { evidence } = record;
      const limit = pLimit(16);
      await Promise.all(
        evidence.buckets.map((bucket) =>
          limit(() => {
            const ref = bucket.defaultKmsKeyRef;
            const file: BucketEvidenceFile = {
              schemaVersion: evidence.schemaVersion,
              tool: evidence.tool,
              scanId: evidence.scanId,
              scanTime: evidence.scanTime,
              accountId: evidence.accountId,
              partition: evidence.partition,
              bucket,
              kmsKeys: ref && evidence.kmsKeys[ref] ? { [ref]: evidence.kmsKeys[ref] } : {},
            };
            return this.put(
              `${dir}/${bucketEvidencePath(bucket.accountId, bucket.region, bucket.name)}`,
              `${JSON.stringify(file, null, 2)}\n`,
              'application/json',
            );
          }),
        ),
      );
      // One bucket's CSV in memory at a time.
      for (const file of record.objectFiles ?? []) {
        await this.put(
          `${dir}/${objectCsvPath(file.accountId, file.bucket)}`,
          await file.read(),
          'application/gzip',
        );
      }
      const ndjson = record.findings.map((f) => JSON.stringify(f)).join('\n');
      await this.put(
        `${dir}/findings.ndjson.gz`,
        gzipSync(ndjson ? `${ndjson}\n` : ''),
        'application/gzip',
      );
      await this.put(
        `${dir}/summary.json`,
        `${JSON.stringify(record.summary, null, 2)}\n`,
        'application/json',
      );
      await this.publish(record.summary);
      return this.describe(scanId);
    } catch (error) {
      if (error instanceof ReportStoreError) throw error;
      throw new ReportStoreError(
        `could not write scan ${scanId} to ${this.describe()}: ${errorCode(error)}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  private async publish(summary: ScanSummaryFile): Promise<void> {
    for (let attempt = 1; attempt <= INDEX_ATTEMPTS; attempt++) {
      const current = await this.get('index.json');
      const existing = current
        ? (JSON.parse(current.body.toString('utf8')) as StoreIndex)
        : undefined;
      const index = indexWith(existing, summary, 'newest');
      try {
        await this.put(
          'index.json',
          `${JSON.stringify(index, null, 2)}\n`,
          'application/json',
          current?.etag ? { IfMatch: current.etag } : { IfNoneMatch: '*' },
        );
        return;
      } catch (error) {
        // 412: someone else wrote index.json since we read it; 409: a concurrent conditional write.
        const status = httpStatus(error);
        if ((status === 412 || status === 409) && attempt < INDEX_ATTEMPTS) continue;
        throw error;
      }
    }
  }

  public async readIndex(): Promise<StoreIndex | undefined> {
    const current = await this.get('index.json').catch((error: unknown) => {
      throw new ReportStoreError(`cannot read ${this.describe()}/index.json: ${errorCode(error)}`, {
        cause: error,
      });
    });
    if (!current) return undefined;
    try {
      const index = JSON.parse(current.body.toString('utf8')) as StoreIndex;
      if (typeof index.latest !== 'string' || !Array.isArray(index.scans))
        throw new Error('missing latest or scans');
      return index;
    } catch (error) {
      throw new ReportStoreError(
        `${this.describe()}/index.json is corrupt: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  public async readScan(
    scanId: string,
  ): Promise<{ summary: ScanSummaryFile; findings: Finding[] }> {
    const dir = `scans/${safeSegment(scanId)}`;
    try {
      const [summary, findings] = await Promise.all([
        this.get(`${dir}/summary.json`),
        this.get(`${dir}/findings.ndjson.gz`),
      ]);
      if (!summary || !findings)
        throw new Error('the scan has no summary.json or findings.ndjson.gz');
      return {
        summary: JSON.parse(summary.body.toString('utf8')) as ScanSummaryFile,
        findings: gunzipSync(findings.body)
          .toString('utf8')
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line) => JSON.parse(line) as Finding),
      };
    } catch (error) {
      throw new ReportStoreError(
        `cannot read scan ${scanId} from ${this.describe()}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}
