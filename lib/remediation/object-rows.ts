import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';
import { EvidenceError } from '../errors.js';
import { OBJECT_CSV_COLUMNS } from '../report-store/objects-csv.js';
import type { ObjectRow } from './objects.js';

/** A key the CSV wrote with a leading `'`: the scan neutralises keys a spreadsheet would run. */
const NEUTRALISED = /^'[=+\-@\t\r]/;

/**
 * The rows of a scan's per-object CSV (`objects/<account>/<bucket>.csv.gz`), streamed: the
 * file is gunzipped and parsed as it is read, never held whole as text. A key starting with
 * `'` and a formula character is either neutralised or literally so: it is marked ambiguous.
 */
export async function* objectRows(gzipped: Buffer): AsyncGenerator<ObjectRow> {
  const parser = Readable.from([gzipped])
    .pipe(createGunzip())
    .pipe(parse({ columns: true, relax_column_count: false }));
  for await (const record of parser as AsyncIterable<Record<string, string>>) {
    const missing = OBJECT_CSV_COLUMNS.filter((c) => !(c in record));
    if (missing.length > 0)
      throw new EvidenceError(`the per-object CSV has no ${missing.join(', ')} column`);
    const raw = record.key ?? '';
    const ambiguous = NEUTRALISED.test(raw);
    yield {
      key: ambiguous ? raw.slice(1) : raw,
      versionId: record.versionId ?? '',
      isLatest: record.isLatest !== 'false',
      size: Number(record.size ?? 0),
      storageClass: record.storageClass || 'STANDARD',
      encryption: record.encryption ?? '',
      kmsKeyId: record.kmsKeyId ?? '',
      bucketKeyEnabled: record.bucketKeyEnabled === 'true',
      ...(ambiguous ? { ambiguousKey: true } : {}),
    };
  }
}
