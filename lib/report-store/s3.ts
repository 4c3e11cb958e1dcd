import { gunzipSync, gzipSync } from 'node:zlib';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { bodyBytes } from '../aws/body.js';
import { errorCode, httpStatus } from '../aws/errors.js';
import type { Finding } from '../engine/types.js';
import { ReportStoreError, ScanFilesTaken } from '../errors.js';
import {
  ACCOUNTS_EVIDENCE_PATH,
  accountsEvidenceFile,
  bucketEvidenceFile,
  bucketEvidencePath,
  checkedScanPath,
  objectCsvPath,
  safeSegment,
} from '../evidence/paths.js';
import { buildFindingsIndex } from '../findings-index/build.js';
import { S3AlertLedger } from './alert-ledger.js';
import { reportStoreClient } from './client.js';
import { indexWith } from './index-file.js';
import { MANIFEST_PATH, ScanDigests } from './integrity.js';
import { gunzippedLines } from './lines.js';
import type { ReportStore, ScanRecord, ScanSummaryFile, StoreIndex } from './types.js';

/**
 * IAM actions the S3 report store needs on its own bucket (not on scanned buckets); multipart
 * uploads are authorised by s3:PutObject, except their abort.
 */
export const REPORT_STORE_IAM_ACTIONS = [
  's3:GetObject',
  's3:PutObject',
  's3:AbortMultipartUpload',
] as const;

/** Per-object CSVs past this size go up in parts of about this size (S3: 5 MiB to 5 GiB). */
export const MULTIPART_PART_BYTES = 8 * 2 ** 20;

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
      s3: reportStoreClient(region, maxAttempts),
    });
  }

  private key(path: string): string {
    return this.options.prefix ? `${this.options.prefix.replace(/\/$/, '')}/${path}` : path;
  }

  public describe(scanId?: string): string {
    const base = `s3://${this.options.bucket}/${this.key('')}`;
    return scanId ? `${base}scans/${safeSegment(scanId)}` : base.replace(/\/$/, '');
  }

  public alertLedger(): S3AlertLedger {
    return new S3AlertLedger({
      s3: this.options.s3,
      bucket: this.options.bucket,
      ...(this.options.prefix ? { prefix: this.options.prefix } : {}),
      ...(this.options.expectedOwner ? { expectedOwner: this.options.expectedOwner } : {}),
      writeHeaders: this.writeHeaders,
    });
  }

  /** SSE-KMS headers (the report bucket's policy pins its key) and the expected owner. */
  private get writeHeaders() {
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

  private async get(path: string): Promise<{ body: Buffer; etag?: string } | undefined> {
    try {
      const out = await this.options.s3.send(
        new GetObjectCommand({
          Bucket: this.options.bucket,
          Key: this.key(path),
          ...this.owner,
        }),
      );
      return { body: await bodyBytes(out.Body), ...(out.ETag ? { etag: out.ETag } : {}) };
    } catch (error) {
      if (errorCode(error) === 'NoSuchKey' || httpStatus(error) === 404) return undefined;
      throw error;
    }
  }

  public async writeScan(record: ScanRecord): Promise<string> {
    const scanId = safeSegment(record.summary.scanId);
    const dir = `scans/${scanId}`;
    try {
      // Published scans are immutable audit evidence: refused before anything is written.
      const index = await this.readIndex();
      if (index?.scans.some((s) => s.scanId === record.summary.scanId)) {
        throw new ReportStoreError(
          `could not write scan ${scanId} to ${this.describe()}: it is already stored there; stored scans are immutable audit evidence, so a new scan needs a new scan id`,
        );
      }
      const { evidence } = record;
      const digests = new ScanDigests();
      // Every file of a stored scan is created, never replaced (If-None-Match: *, which the
      // stack's roles are held to): an earlier attempt's file is never overwritten, and the
      // caller writes the scan again under a new id.
      const created = async (path: string, write: () => Promise<void>) => {
        try {
          await write();
        } catch (error) {
          // 412: the key exists; 409: another conditional write of it is under way.
          const status = httpStatus(error);
          if (status === 412 || status === 409)
            throw new ScanFilesTaken(record.summary.scanId, this.key(`${dir}/${path}`), {
              cause: error,
            });
          throw error;
        }
      };
      const put = (path: string, body: string | Buffer, contentType: string) => {
        digests.add(path, body);
        return created(path, () =>
          this.put(`${dir}/${path}`, body, contentType, { IfNoneMatch: '*' }),
        );
      };
      const limit = pLimit(16);
      await Promise.all(
        evidence.buckets.map((bucket) =>
          limit(() =>
            put(
              bucketEvidencePath(bucket.accountId, bucket.region, bucket.name),
              bucketEvidenceFile(evidence, bucket),
              'application/json',
            ),
          ),
        ),
      );
      const accounts = accountsEvidenceFile(evidence);
      if (accounts) await put(ACCOUNTS_EVIDENCE_PATH, accounts, 'application/json');
      for (const file of record.objectFiles ?? []) {
        const path = objectCsvPath(file.accountId, file.bucket);
        await created(path, () =>
          this.putStream(
            `${dir}/${path}`,
            digests.through(path, file.chunks()),
            'application/gzip',
            { IfNoneMatch: '*' },
          ),
        );
      }
      const ndjson = record.findings.map((f) => JSON.stringify(f)).join('\n');
      await put('findings.ndjson.gz', gzipSync(ndjson ? `${ndjson}\n` : ''), 'application/gzip');
      // In order, index.json last: a reader that finds it finds the rest.
      for (const file of buildFindingsIndex(record))
        await put(
          file.path,
          file.body,
          file.path.endsWith('.json') ? 'application/json' : 'application/octet-stream',
        );
      await put('summary.json', `${JSON.stringify(record.summary, null, 2)}\n`, 'application/json');
      const manifest = digests.manifest(record.summary.scanId);
      await created(MANIFEST_PATH, () =>
        this.put(`${dir}/${MANIFEST_PATH}`, manifest.text, 'application/json', {
          IfNoneMatch: '*',
        }),
      );
      await this.publish(record.summary, manifest.digest);
      return this.describe(scanId);
    } catch (error) {
      if (error instanceof ReportStoreError) throw error;
      throw new ReportStoreError(
        `could not write scan ${scanId} to ${this.describe()}: ${errorCode(error)}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  private async publish(summary: ScanSummaryFile, digest: string): Promise<void> {
    for (let attempt = 1; attempt <= INDEX_ATTEMPTS; attempt++) {
      const current = await this.get('index.json');
      const existing = current
        ? (JSON.parse(current.body.toString('utf8')) as StoreIndex)
        : undefined;
      const index = indexWith(existing, summary, 'newest', digest);
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
        throw new ReportStoreError('missing latest or scans');
      return index;
    } catch (error) {
      throw new ReportStoreError(
        `${this.describe()}/index.json is corrupt: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  public async readSummary(scanId: string): Promise<ScanSummaryFile> {
    const path = `scans/${safeSegment(scanId)}/summary.json`;
    const where = `${this.describe()}/${path}`;
    const summary = await this.get(path).catch((error: unknown) => {
      throw new ReportStoreError(`cannot read ${where}: ${errorCode(error)}`, { cause: error });
    });
    if (!summary) throw new ReportStoreError(`cannot read ${where}: it does not exist`);
    try {
      return JSON.parse(summary.body.toString('utf8')) as ScanSummaryFile;
    } catch (error) {
      throw new ReportStoreError(`${where} is corrupt: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  public findingLines(scanId: string): AsyncIterable<string[]> {
    return this.#findings(scanId, gunzippedLines);
  }

  async *#findings<T>(
    scanId: string,
    read: (source: AsyncIterable<Uint8Array>) => AsyncIterable<T>,
  ): AsyncIterable<T> {
    const path = `scans/${safeSegment(scanId)}/findings.ndjson.gz`;
    try {
      const out = await this.options.s3.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: this.key(path), ...this.owner }),
      );
      if (!out.Body) throw new ReportStoreError('the object has no body');
      yield* read(out.Body as AsyncIterable<Uint8Array>);
    } catch (error) {
      throw new ReportStoreError(
        `cannot read ${this.describe()}/${path}: ${errorCode(error)}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  #scanKey(scanId: string, path: string): string {
    try {
      return `scans/${safeSegment(scanId)}/${checkedScanPath(path)}`;
    } catch (error) {
      throw new ReportStoreError((error as Error).message, { cause: error });
    }
  }

  public async readScanFile(scanId: string, path: string): Promise<Buffer | undefined> {
    const key = this.#scanKey(scanId, path);
    const file = await this.get(key).catch((error: unknown) => {
      throw new ReportStoreError(`cannot read ${this.describe()}/${key}: ${errorCode(error)}`, {
        cause: error,
      });
    });
    return file?.body;
  }

  public async readScanFileRange(
    scanId: string,
    path: string,
    start: number,
    end: number,
  ): Promise<Buffer> {
    const key = this.#scanKey(scanId, path);
    try {
      const out = await this.options.s3.send(
        new GetObjectCommand({
          Bucket: this.options.bucket,
          Key: this.key(key),
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
        `cannot read bytes ${start}-${end - 1} of ${this.describe()}/${key}: ${errorCode(error)}: ${(error as Error).message}`,
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
        throw new ReportStoreError('the scan has no summary.json or findings.ndjson.gz');
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
