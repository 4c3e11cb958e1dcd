import { reportStoreClient } from './client.js';
import { S3Bytes, type S3BytesOptions } from './s3-bytes.js';
import { ScanLayoutStore } from './scan-layout.js';

export { MULTIPART_PART_BYTES } from './s3-bytes.js';

/**
 * IAM actions the S3 report store needs on its own bucket (not on scanned buckets); multipart
 * uploads are authorised by s3:PutObject, except their abort.
 */
export const REPORT_STORE_IAM_ACTIONS = [
  's3:GetObject',
  's3:PutObject',
  's3:AbortMultipartUpload',
] as const;

/** Attempts at the conditional index write before giving up (another writer kept winning). */
const INDEX_ATTEMPTS = 8;

/** Where reports go in S3. */
export type S3ReportStoreOptions = S3BytesOptions;

/**
 * The report store in an S3 bucket, with the local store's layout. Every file of a scan is
 * created once (`If-None-Match: *`); `index.json` last, with a conditional write (`If-Match`
 * on the ETag read, `If-None-Match: *` when there is none yet) so two finalizers never lose
 * each other's scan: the loser re-reads, merges and tries again. `latest` is the newest scan
 * by time, which concurrent finalizers agree on.
 */
export class S3ReportStore extends ScanLayoutStore {
  public constructor(options: S3ReportStoreOptions) {
    super(new S3Bytes(options), { latest: 'newest', attempts: INDEX_ATTEMPTS });
  }

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
}
