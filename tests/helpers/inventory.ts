import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { stringify } from 'csv-stringify/sync';
import { parquetWriteBuffer } from 'hyparquet-writer';

/** One object as an inventory row describes it. */
export interface InventoryRow {
  key: string;
  versionId?: string;
  isLatest?: boolean;
  isDeleteMarker?: boolean;
  size: number;
  lastModified: string;
  storageClass: string;
  encryptionStatus: string;
  bucketKeyStatus?: string;
}

export const CSV_SCHEMA =
  'Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, StorageClass, EncryptionStatus, BucketKeyStatus';

/** Inventory CSV keys are URL-encoded with `+` for spaces (like application/x-www-form-urlencoded). */
export function encodeKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+');
}

/** A gzip CSV data file exactly as S3 Inventory writes it: no header row, URL-encoded keys. */
export function inventoryCsvGz(bucket: string, rows: InventoryRow[]): Buffer {
  const lines = rows.map((r) => [
    bucket,
    encodeKey(r.key),
    r.versionId ?? '',
    String(r.isLatest ?? true),
    String(r.isDeleteMarker ?? false),
    String(r.size),
    r.lastModified,
    r.storageClass,
    r.encryptionStatus,
    r.bucketKeyStatus ?? '',
  ]);
  return gzipSync(stringify(lines));
}

/** A Parquet data file with S3 Inventory's snake_case columns (keys not URL-encoded). */
export function inventoryParquet(bucket: string, rows: InventoryRow[]): Buffer {
  const column = (name: string, data: unknown[], type: 'STRING' | 'BOOLEAN' | 'INT64') => ({
    name,
    data,
    type,
  });
  const buffer = parquetWriteBuffer({
    columnData: [
      column(
        'bucket',
        rows.map(() => bucket),
        'STRING',
      ),
      column(
        'key',
        rows.map((r) => r.key),
        'STRING',
      ),
      column(
        'version_id',
        rows.map((r) => r.versionId ?? ''),
        'STRING',
      ),
      column(
        'is_latest',
        rows.map((r) => r.isLatest ?? true),
        'BOOLEAN',
      ),
      column(
        'is_delete_marker',
        rows.map((r) => r.isDeleteMarker ?? false),
        'BOOLEAN',
      ),
      column(
        'size',
        rows.map((r) => BigInt(r.size)),
        'INT64',
      ),
      column(
        'last_modified_date',
        rows.map((r) => r.lastModified),
        'STRING',
      ),
      column(
        'storage_class',
        rows.map((r) => r.storageClass),
        'STRING',
      ),
      column(
        'encryption_status',
        rows.map((r) => r.encryptionStatus),
        'STRING',
      ),
      column(
        'bucket_key_status',
        rows.map((r) => r.bucketKeyStatus ?? ''),
        'STRING',
      ),
    ] as never,
    rowGroupSize: 500,
  });
  return Buffer.from(buffer);
}

export const md5 = (data: Buffer | string) => createHash('md5').update(data).digest('hex');

/** A manifest.json for the given data files. */
export function manifest(
  sourceBucket: string,
  format: 'CSV' | 'Parquet' | 'ORC',
  files: { key: string; data: Buffer }[],
  schema = CSV_SCHEMA,
): string {
  return JSON.stringify({
    sourceBucket,
    destinationBucket: 'arn:aws:s3:::inventory-destination',
    version: '2016-11-30',
    creationTimestamp: '1793577600000',
    fileFormat: format,
    fileSchema: schema,
    files: files.map((f) => ({ key: f.key, size: f.data.length, MD5checksum: md5(f.data) })),
  });
}
