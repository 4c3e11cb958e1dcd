import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import pLimit from 'p-limit';
import { errorCode, httpStatus } from '../../aws/errors.js';
import { InventoryUnavailableError } from '../../errors.js';
import type { ObjectObservation } from '../../evidence/object-observation.js';
import type { InventoryConfiguration, ObjectScanEvidence } from '../../evidence/types.js';
import type { Limiter } from '../buckets.js';
import { abortOption } from '../probe.js';
import { mergeAggregates, ObjectAggregator } from './aggregate.js';
import { countInventoryCsv, decodeInventoryKey, STATUS } from './inventory-csv.js';
import { InventoryWorkers } from './inventory-workers.js';

export { decodeInventoryKey };

/** `manifest.json` of an S3 Inventory delivery (aws-facts.md section 6). */
export interface InventoryManifest {
  sourceBucket: string;
  destinationBucket: string;
  version?: string;
  creationTimestamp: string;
  fileFormat: string;
  fileSchema: string;
  files: { key: string; size: number; MD5checksum: string }[];
}

/** A delivery chosen for a bucket: its configuration, manifest location and age. */
export interface InventoryChoice {
  configuration: InventoryConfiguration;
  destinationBucket: string;
  manifestKey: string;
  createdAt: string;
}

/** Why a bucket's inventory could not be used; `auto` falls back to sampling on these. */
export { InventoryUnavailableError };

const DELIVERY = /\/(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})Z\/$/;

function bucketFromArn(arn: string | undefined): string | undefined {
  return arn?.startsWith('arn:') ? arn.split(':::')[1] : arn;
}

/**
 * Finds the newest inventory delivery with `EncryptionStatus` for a bucket, no older than
 * `maxAgeDays` at `scanTime`. Throws {@link InventoryUnavailableError} naming why not.
 */
export async function findInventory(options: {
  s3ForBucket: (bucket: string) => S3Client;
  bucket: string;
  configurations: InventoryConfiguration[];
  versions: boolean;
  scanTime: Date;
  maxAgeDays: number;
  limit: Limiter;
  signal?: AbortSignal;
}): Promise<InventoryChoice> {
  const usable = options.configurations
    .filter((c) => c.IsEnabled !== false && (c.OptionalFields ?? []).includes('EncryptionStatus'))
    .filter((c) => !options.versions || c.IncludedObjectVersions === 'All')
    .sort((a, b) =>
      a.Schedule?.Frequency === 'Daily' ? -1 : b.Schedule?.Frequency === 'Daily' ? 1 : 0,
    );
  if (usable.length === 0) {
    throw new InventoryUnavailableError(
      'NoInventoryWithEncryptionStatus',
      `no enabled inventory configuration of ${options.bucket} includes EncryptionStatus${options.versions ? ' and all versions' : ''}`,
    );
  }
  const reasons: string[] = [];
  for (const configuration of usable) {
    const destination = configuration.Destination?.S3BucketDestination;
    const destinationBucket = bucketFromArn(destination?.Bucket);
    if (!destinationBucket || !configuration.Id) continue;
    const prefix = `${destination?.Prefix ? `${destination.Prefix.replace(/\/$/, '')}/` : ''}${options.bucket}/${configuration.Id}/`;
    const folders: string[] = [];
    try {
      // A daily inventory passes 1,000 deliveries in under three years, and S3 lists the
      // oldest first: every page must be read to find the newest.
      let ContinuationToken: string | undefined;
      for (let page = 0; page < 10_000; page++) {
        const out = await options.limit(() =>
          options.s3ForBucket(destinationBucket).send(
            new ListObjectsV2Command({
              Bucket: destinationBucket,
              Prefix: prefix,
              Delimiter: '/',
              MaxKeys: 1000,
              ...(ContinuationToken ? { ContinuationToken } : {}),
            }),
            abortOption(options.signal),
          ),
        );
        for (const common of out.CommonPrefixes ?? [])
          if (common.Prefix && DELIVERY.test(common.Prefix)) folders.push(common.Prefix);
        if (!out.IsTruncated || !out.NextContinuationToken) break;
        ContinuationToken = out.NextContinuationToken;
      }
    } catch (error) {
      if (options.signal?.aborted) throw error;
      // The destination may be in another account; denied is common and must be said.
      reasons.push(`listing s3://${destinationBucket}/${prefix} failed (${errorCode(error)})`);
      continue;
    }
    const newest = folders.sort().at(-1);
    if (!newest) {
      reasons.push(`no delivery under s3://${destinationBucket}/${prefix}`);
      continue;
    }
    const [, y, mo, d, h, mi] = DELIVERY.exec(newest) ?? [];
    const createdAt = new Date(`${y}-${mo}-${d}T${h}:${mi}:00Z`);
    const ageDays = (options.scanTime.getTime() - createdAt.getTime()) / 86_400_000;
    if (ageDays > options.maxAgeDays) {
      reasons.push(
        `newest delivery ${createdAt.toISOString()} is ${ageDays.toFixed(1)} days old (limit ${options.maxAgeDays})`,
      );
      continue;
    }
    return {
      configuration,
      destinationBucket,
      manifestKey: `${newest}manifest.json`,
      createdAt: createdAt.toISOString(),
    };
  }
  throw new InventoryUnavailableError(
    'NoFreshInventory',
    reasons.join('; ') || 'no usable inventory destination',
  );
}

async function getObjectStream(
  s3: S3Client,
  bucket: string,
  key: string,
  limit: Limiter,
  signal: AbortSignal | undefined,
): Promise<Readable> {
  const out = await limit(() =>
    s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), abortOption(signal)),
  );
  if (!out.Body)
    throw new InventoryUnavailableError(
      'InventoryFileUnreadable',
      `s3://${bucket}/${key} has no body`,
    );
  return out.Body as Readable;
}

async function readText(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}

/** Passes bytes through while computing their MD5. */
function md5Tap(hash: ReturnType<typeof createHash>): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
}

function observation(
  row: Record<string, string | boolean | bigint | number | undefined>,
  fields: Record<string, string>,
): ObjectObservation | undefined {
  const get = (name: string) => {
    const value = row[fields[name] ?? name];
    return value === undefined || value === null ? undefined : String(value);
  };
  const rawKey = get('Key');
  if (rawKey === undefined) return undefined;
  const key = fields.Key === 'Key' ? decodeInventoryKey(rawKey) : rawKey;
  const base = {
    key,
    ...(get('VersionId') ? { versionId: get('VersionId') } : {}),
    isLatest: get('IsLatest') === undefined ? true : get('IsLatest') === 'true',
    size: Number(get('Size') ?? 0) || 0,
    ...(get('LastModifiedDate')
      ? { lastModified: new Date(String(get('LastModifiedDate'))).toISOString() }
      : {}),
    storageClass: get('StorageClass') || 'STANDARD',
  };
  if (get('IsDeleteMarker') === 'true') return { ...base, outcome: { kind: 'delete-marker' } };
  const status = get('EncryptionStatus') ?? '';
  const type = STATUS[status] ?? 'UNKNOWN';
  return {
    ...base,
    outcome: {
      kind: 'classified',
      type,
      ...(type === 'UNKNOWN' ? { algorithm: status || '(empty EncryptionStatus)' } : {}),
      ...(get('BucketKeyStatus') ? { bucketKeyEnabled: get('BucketKeyStatus') === 'ENABLED' } : {}),
    },
  } as ObjectObservation;
}

const PARQUET_FIELDS: Record<string, string> = {
  Key: 'key',
  VersionId: 'version_id',
  IsLatest: 'is_latest',
  IsDeleteMarker: 'is_delete_marker',
  Size: 'size',
  LastModifiedDate: 'last_modified_date',
  StorageClass: 'storage_class',
  EncryptionStatus: 'encryption_status',
  BucketKeyStatus: 'bucket_key_status',
};

async function readParquetFile(
  stream: Readable,
  hash: ReturnType<typeof createHash>,
  onRow: (o: ObjectObservation) => void,
): Promise<void> {
  // Parquet needs random access: spool to a temporary file (disk, not memory), then read it
  // one row group at a time.
  const dir = await mkdtemp(join(tmpdir(), 's3scan-inventory-'));
  const path = join(dir, 'part.parquet');
  try {
    await pipeline(stream, md5Tap(hash), createWriteStream(path));
    const file = await asyncBufferFromFile(path);
    const metadata = await parquetMetadataAsync(file);
    const present = new Set(metadata.schema.map((s) => s.name));
    const columns = Object.values(PARQUET_FIELDS).filter((c) => present.has(c));
    let rowStart = 0;
    for (const group of metadata.row_groups) {
      const rowEnd = rowStart + Number(group.num_rows);
      const rows = await parquetReadObjects({ file, metadata, columns, rowStart, rowEnd });
      for (const row of rows) {
        const o = observation(row as Record<string, string>, PARQUET_FIELDS);
        if (o) onRow(o);
      }
      rowStart = rowEnd;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A delivery's manifest, checked, with what reading its data files needs. */
export interface InventoryDelivery {
  choice: InventoryChoice;
  manifest: InventoryManifest;
  /** `CSV` or `PARQUET`. */
  format: 'CSV' | 'PARQUET';
  columns: string[];
  /** The inventory lists every version (IncludedObjectVersions All). */
  versions: boolean;
}

/**
 * Reads and checks a delivery's `manifest.json`: its `manifest.checksum` (when present), its
 * JSON and its format (ORC refused with what to switch to). The data files are read apart
 * ({@link readInventoryFile}), one after another or as items of their own map.
 */
export async function readInventoryManifest(options: {
  s3: S3Client;
  choice: InventoryChoice;
  limit: Limiter;
  signal?: AbortSignal;
}): Promise<InventoryDelivery> {
  const { s3, choice, limit } = options;
  const bucket = choice.destinationBucket;
  const manifestText = await readText(
    await getObjectStream(s3, bucket, choice.manifestKey, limit, options.signal),
  );
  const checksumKey = choice.manifestKey.replace(/manifest\.json$/, 'manifest.checksum');
  let expected: string | undefined;
  try {
    expected = (
      await readText(await getObjectStream(s3, bucket, checksumKey, limit, options.signal))
    )
      .trim()
      .toLowerCase();
  } catch (error) {
    if (httpStatus(error) !== 404) throw error;
  }
  if (expected && createHash('md5').update(manifestText).digest('hex') !== expected) {
    throw new InventoryUnavailableError(
      'InventoryChecksumMismatch',
      `s3://${bucket}/${choice.manifestKey} does not match manifest.checksum`,
    );
  }
  let manifest: InventoryManifest;
  try {
    manifest = JSON.parse(manifestText) as InventoryManifest;
  } catch (error) {
    throw new InventoryUnavailableError(
      'InventoryManifestInvalid',
      `s3://${bucket}/${choice.manifestKey} is not JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const format = String(manifest.fileFormat).toUpperCase();
  if (format === 'ORC') {
    throw new InventoryUnavailableError(
      'InventoryFormatUnsupported',
      'ORC inventory reports are not supported: no maintained ORC reader exists for JavaScript. Switch the inventory configuration to Parquet or CSV',
    );
  }
  if (format !== 'CSV' && format !== 'PARQUET') {
    throw new InventoryUnavailableError(
      'InventoryFormatUnsupported',
      `unknown inventory fileFormat ${JSON.stringify(manifest.fileFormat)}`,
    );
  }
  return {
    choice,
    manifest: { ...manifest, files: manifest.files ?? [] },
    format,
    columns: String(manifest.fileSchema)
      .split(',')
      .map((c) => c.trim()),
    versions: choice.configuration.IncludedObjectVersions === 'All',
  };
}

/**
 * Reads one data file of a delivery into aggregates of its own (exact to merge with the
 * others' by `mergeAggregates(…, 'in-order')` in file order), checking its MD5 against the
 * manifest. A bad file is an {@link InventoryUnavailableError}: never half a file's rows.
 */
export async function readInventoryFile(options: {
  s3: S3Client;
  delivery: Omit<InventoryDelivery, 'manifest'>;
  file: InventoryManifest['files'][number];
  limit: Limiter;
  signal?: AbortSignal;
  /** Worker threads that gunzip and count CSV rows on other cores; else this thread does. */
  workers?: InventoryWorkers;
}): Promise<ObjectScanEvidence> {
  const { delivery, file } = options;
  const bucket = delivery.choice.destinationBucket;
  const aggregator = new ObjectAggregator('inventory', delivery.versions);
  const hash = createHash('md5');
  // The file's rows count only once its bytes match the manifest's MD5.
  const checked = (evidence: ObjectScanEvidence): ObjectScanEvidence => {
    const md5 = hash.digest('hex');
    if (file.MD5checksum && md5 !== file.MD5checksum.toLowerCase()) {
      throw new InventoryUnavailableError(
        'InventoryChecksumMismatch',
        `s3://${bucket}/${file.key} has MD5 ${md5}, the manifest says ${file.MD5checksum}`,
      );
    }
    return evidence;
  };
  try {
    const stream = await getObjectStream(
      options.s3,
      bucket,
      file.key,
      options.limit,
      options.signal,
    );
    if (delivery.format === 'CSV') {
      const tapped = stream.pipe(md5Tap(hash));
      stream.on('error', (error) => tapped.destroy(error));
      if (options.workers) return checked(await options.workers.count(tapped, delivery));
      await countInventoryCsv(tapped, delivery.columns, aggregator);
    } else
      await readParquetFile(stream, hash, (o: ObjectObservation) => {
        aggregator.listed(1);
        aggregator.add(o);
      });
  } catch (error) {
    if (error instanceof InventoryUnavailableError) throw error;
    throw new InventoryUnavailableError(
      'InventoryFileUnreadable',
      `s3://${bucket}/${file.key}: ${errorCode(error)}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return checked(aggregator.result(true));
}

/** What a delivery's evidence records about it. */
export function inventorySource(
  delivery: Pick<InventoryDelivery, 'choice' | 'format'> & { files: number },
): NonNullable<ObjectScanEvidence['inventory']> {
  return {
    configurationId: delivery.choice.configuration.Id ?? '',
    manifest: `s3://${delivery.choice.destinationBucket}/${delivery.choice.manifestKey}`,
    createdAt: delivery.choice.createdAt,
    fileFormat: delivery.format,
    files: delivery.files,
  };
}

/** Data files of one delivery read at once (one per core of this machine, at least two). */
const INVENTORY_FILES_IN_PARALLEL = Math.max(2, availableParallelism());

/**
 * Reads one inventory delivery into object aggregates: verifies `manifest.checksum` and every
 * data file's MD5, streams gzip CSV (no header row; columns from `fileSchema`; URL-encoded
 * keys) and Parquet. ORC is refused with what to switch to. Any bad file makes the whole
 * delivery unusable: a partly read inventory is never reported as the bucket's truth. The
 * per-object list is the inventory itself (its manifest is recorded), so it is not written again.
 */
export async function readInventory(options: {
  s3: S3Client;
  choice: InventoryChoice;
  limit: Limiter;
  signal?: AbortSignal;
  /** Data files read at once (default: one per core, at least two). */
  filesInParallel?: number;
}): Promise<ObjectScanEvidence> {
  const delivery = await readInventoryManifest(options);
  const parallel = options.filesInParallel ?? INVENTORY_FILES_IN_PARALLEL;
  // CSV data files are counted on worker threads, one per core: the download and MD5 stay
  // here, gunzip and the rows go there. Merged in manifest order: the sequential aggregates.
  const workers =
    delivery.format === 'CSV' && parallel > 1 && delivery.manifest.files.length > 1
      ? InventoryWorkers.start({ size: Math.min(parallel, delivery.manifest.files.length) })
      : undefined;
  const files = pLimit(parallel);
  let read: ObjectScanEvidence[];
  try {
    read = await Promise.all(
      delivery.manifest.files.map((file) =>
        files(() =>
          readInventoryFile({
            s3: options.s3,
            delivery,
            file,
            limit: options.limit,
            ...(options.signal ? { signal: options.signal } : {}),
            ...(workers ? { workers } : {}),
          }),
        ),
      ),
    );
  } finally {
    await workers?.close();
  }
  const parts: ObjectScanEvidence[] = [
    new ObjectAggregator('inventory', delivery.versions).result(true),
    ...read,
  ];
  return {
    ...mergeAggregates(parts, 'in-order'),
    inventory: inventorySource({ ...delivery, files: delivery.manifest.files.length }),
  };
}
