import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { IntegrityCheckedStore } from '../report-store/integrity.js';
import { LocalReportStore, type StoreAdapters } from '../report-store/local.js';
import { LocalWorkArea } from '../report-store/local-work-area.js';
import { S3ReportStore } from '../report-store/s3.js';
import type { ReportStore } from '../report-store/types.js';
import type { WorkArea } from '../report-store/work-area.js';
import type { CliIo } from './io.js';

/** `--store`: a folder, or `s3://bucket/prefix` (the stack's report bucket, say). */
export type StoreLocation =
  | { kind: 'local'; dir: string }
  | { kind: 's3'; bucket: string; prefix: string };

/** Reads `--store`; an `s3://` URL must name a bucket S3 would accept. */
export function parseStoreLocation(value: string): StoreLocation {
  if (!value.startsWith('s3://')) return { kind: 'local', dir: value };
  const [bucket = '', ...rest] = value.slice('s3://'.length).split('/');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw new ConfigError(`--store ${value}: ${JSON.stringify(bucket)} is not an S3 bucket name`);
  const prefix = rest.filter(Boolean).join('/');
  return { kind: 's3', bucket, prefix };
}

/**
 * Refuses a `--store` that cannot be a store before any work: a local path that exists and is
 * not a folder (a file, say), or an `s3://` URL that names no bucket.
 */
export function checkStoreLocation(value: string): StoreLocation {
  const location = parseStoreLocation(value);
  if (location.kind === 'local') {
    let folder = true;
    try {
      folder = statSync(location.dir).isDirectory();
    } catch {
      // Not there yet: the store creates it.
    }
    if (!folder)
      throw new ConfigError(
        `--store ${value} is a file, not a folder: a report store is a folder (created if missing) or s3://bucket/prefix`,
      );
  }
  return location;
}

/** A report store as the CLI uses it: the store, and where a scan keeps its local scratch. */
export interface CliStore {
  store: ReportStore;
  /** The checkpoint of an interrupted scan: beside a local store; for S3, in this machine's temp. */
  checkpointFile: string;
  /** Per-object CSV chunks of a running scan, before the report takes them. */
  staging(scanId: string): WorkArea;
}

/**
 * Opens `--store`. An S3 store is the layout the Lambdas write (index.json by a conditional
 * write, reports SSE-KMS under `--store-kms-key` when the bucket pins one); its region comes
 * from `--store-region`, else AWS_REGION, and the client follows S3's redirects to the
 * bucket's own region.
 */
export function openStore(
  value: string,
  options: { region?: string; kmsKeyArn?: string } = {},
  adapters?: StoreAdapters,
): CliStore {
  const location = checkStoreLocation(value);
  if (location.kind === 'local') {
    const store = new LocalReportStore(location.dir, adapters);
    return {
      store: new IntegrityCheckedStore(store),
      checkpointFile: join(store.root, 'checkpoint.json'),
      staging: (scanId) => store.stagingArea(scanId),
    };
  }
  const region =
    options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const store = S3ReportStore.create({
    region,
    bucket: location.bucket,
    ...(location.prefix ? { prefix: location.prefix } : {}),
    ...(options.kmsKeyArn ? { kmsKeyArn: options.kmsKeyArn } : {}),
  });
  // One scratch folder per store URL, so a --resume on this machine finds its checkpoint.
  const scratch = join(
    tmpdir(),
    's3scan',
    createHash('sha256').update(value).digest('hex').slice(0, 16),
  );
  return {
    store: new IntegrityCheckedStore(store),
    checkpointFile: join(scratch, 'checkpoint.json'),
    staging: (scanId) => new LocalWorkArea(join(scratch, `staging-${scanId}`)),
  };
}

/** The `--store` options every command that reads or writes reports shares. */
export function withStoreOptions<
  C extends { option: (flags: string, description: string, defaultValue?: string) => C },
>(command: C, defaultStore: string): C {
  return command
    .option(
      '--store <dir|s3://bucket/prefix>',
      'report store: a folder, or an S3 bucket and prefix',
      defaultStore,
    )
    .option(
      '--store-region <region>',
      'with an s3:// store: its region (default AWS_REGION; S3 redirects are followed)',
    )
    .option(
      '--store-kms-key <arn>',
      'with an s3:// store: the KMS key its bucket policy pins (written reports name it)',
    );
}

/** `openStore` from a command's parsed options. */
export const storeOf = (
  options: { store: string; storeRegion?: string; storeKmsKey?: string },
  io: Pick<CliIo, 'storeAdapters'>,
) =>
  openStore(
    options.store,
    {
      ...(options.storeRegion ? { region: options.storeRegion } : {}),
      ...(options.storeKmsKey ? { kmsKeyArn: options.storeKmsKey } : {}),
    },
    io.storeAdapters,
  );
