import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { finished } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { stringify } from 'csv-stringify';
import type { ObjectObservation } from '../evidence/object-observation.js';
import { neutraliseFormula } from '../export/csv.js';
import type { ObjectSink } from './object-sink.js';

/** Columns of `objects/<account>/<bucket>.csv.gz`. */
export const OBJECT_CSV_COLUMNS = [
  'key',
  'versionId',
  'isLatest',
  'size',
  'lastModified',
  'storageClass',
  'encryption',
  'serverSideEncryption',
  'kmsKeyId',
  'bucketKeyEnabled',
  'clientSide',
  'note',
] as const;

function row(o: ObjectObservation): string[] {
  const outcome = o.outcome;
  const classified = outcome.kind === 'classified' ? outcome : undefined;
  const note =
    outcome.kind === 'denied'
      ? `HEAD denied (${outcome.code})`
      : outcome.kind === 'failed'
        ? `HEAD failed (${outcome.code})`
        : outcome.kind === 'delete-marker'
          ? 'delete marker'
          : classified?.likely
            ? 'SSE-C (likely): HEAD without the customer key answered 400'
            : '';
  return [
    neutraliseFormula(o.key),
    o.versionId ?? '',
    String(o.isLatest),
    String(o.size),
    o.lastModified ?? '',
    o.storageClass,
    classified?.type ?? '',
    classified?.algorithm ?? '',
    classified?.kmsKeyId ?? '',
    classified?.bucketKeyEnabled === undefined ? '' : String(classified.bucketKeyEnabled),
    classified?.clientSide ?? '',
    note,
  ];
}

/**
 * Streams one bucket's per-object rows to a gzip CSV (RFC 4180, a header row, keys quoted and
 * formula-neutralised: object keys are chosen by whoever writes to the bucket).
 */
export async function openObjectCsv(
  path: string,
  options: { header?: boolean } = {},
): Promise<ObjectSink> {
  await mkdir(dirname(path), { recursive: true });
  // A resumed scan appends a second gzip member; gunzip reads members back to back.
  const resuming = !(options.header ?? !existsSync(path));
  const file = createWriteStream(path, { flags: 'a' });
  const gzip = createGzip();
  const csv = stringify({
    header: !resuming,
    columns: [...OBJECT_CSV_COLUMNS],
    record_delimiter: '\r\n',
  });
  csv.pipe(gzip).pipe(file);
  return {
    write: (observation) => {
      csv.write(row(observation));
    },
    ready: async () => {
      // The CSV stringifier buffers what gzip and the file have not taken yet.
      if (csv.writableNeedDrain) await once(csv, 'drain');
    },
    close: async () => {
      csv.end();
      await finished(file);
    },
    discard: async () => {
      csv.end();
      await finished(file);
      await rm(path, { force: true });
    },
  };
}

/**
 * The objects CSV of one bucket, opened on the first row (buckets without objects leave no
 * file). Rows arrive synchronously and are written in order once the file is open.
 */
export function lazyObjectCsv(path: string, options: { header?: boolean } = {}): ObjectSink {
  let opened: Promise<ObjectSink> | undefined;
  const pending: ObjectObservation[] = [];
  const drain = (sink: ObjectSink) => {
    for (const row of pending.splice(0)) sink.write(row);
  };
  return {
    write: (observation) => {
      pending.push(observation);
      if (!opened) {
        opened = openObjectCsv(path, options);
        void opened.then(drain);
      }
    },
    ready: async () => {
      if (!opened) return;
      const sink = await opened;
      drain(sink);
      await sink.ready();
    },
    close: async () => {
      if (!opened) return;
      const sink = await opened;
      drain(sink);
      await sink.close();
    },
    discard: async () => {
      pending.length = 0;
      if (!opened) return;
      const sink = await opened;
      opened = undefined;
      await sink.discard();
    },
  };
}
