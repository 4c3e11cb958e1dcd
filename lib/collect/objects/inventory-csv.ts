/**
 * Counting the rows of a CSV S3 Inventory data file: shared by the reader on this thread and
 * the worker threads that read a delivery's files on other cores. No AWS SDK in here.
 */
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InventoryUnavailableError } from '../../errors.js';
import type { ObjectEncryptionType } from '../../evidence/types.js';
import { INSTRUCTION_SUFFIX, type ObjectAggregator } from './aggregate.js';
import {
  CsvRecordSplitter,
  type CsvRecordView,
  FieldInterner,
  fieldDigits,
  fieldEndsWith,
  fieldEquals,
  fieldText,
} from './csv-records.js';

/** Gunzipped bytes per chunk: large enough that splitting costs little per row. */
export const GUNZIP_CHUNK = 256 * 1024;

/** Inventory `EncryptionStatus` values to s3scan's types; anything new is "encrypted, unknown type". */
export const STATUS: Record<string, ObjectEncryptionType> = {
  'SSE-S3': 'SSE-S3',
  'SSE-KMS': 'SSE-KMS',
  'DSSE-KMS': 'DSSE-KMS',
  'SSE-C': 'SSE-C',
  'NOT-SSE': 'NONE',
};

/** Inventory CSV keys are URL-encoded, with `+` for spaces. */
export function decodeInventoryKey(key: string): string {
  const spaced = key.includes('+') ? key.replaceAll('+', ' ') : key;
  return spaced.includes('%') ? decodeURIComponent(spaced) : spaced;
}

/** Column positions of one CSV inventory file (-1 where the schema lacks the column). */
interface CsvColumns {
  key: number;
  latest: number;
  deleteMarker: number;
  size: number;
  modified: number;
  storage: number;
  status: number;
}

/**
 * Counts the rows of one CSV inventory file into `aggregator`, fed its gunzipped bytes chunk
 * by chunk: records are split on the bytes, so memory holds one chunk whatever the file size,
 * and only the fields a row needs become strings. A schema without Key or EncryptionStatus is
 * an {@link InventoryUnavailableError}.
 */
export function csvRowCounter(
  columns: readonly string[],
  aggregator: ObjectAggregator,
): { push: (chunk: Buffer) => void; end: () => void } {
  const at = (name: string) => columns.indexOf(name);
  const index: CsvColumns = {
    key: at('Key'),
    latest: at('IsLatest'),
    deleteMarker: at('IsDeleteMarker'),
    size: at('Size'),
    modified: at('LastModifiedDate'),
    storage: at('StorageClass'),
    status: at('EncryptionStatus'),
  };
  if (index.key < 0 || index.status < 0) {
    throw new InventoryUnavailableError(
      'InventoryManifestInvalid',
      `fileSchema lacks Key or EncryptionStatus: ${columns.join(', ')}`,
    );
  }
  const interner = new FieldInterner();
  // One closure for every row (the record view is reused), not one allocated per row: the
  // aggregator calls it only for the few keys it keeps as examples.
  let current: CsvRecordView | undefined;
  const key = () => (current ? decodeInventoryKey(fieldText(current, index.key)) : '');
  const splitter = new CsvRecordSplitter((record) => {
    current = record;
    countCsvRecord(record, index, interner, aggregator, key);
  });
  return { push: (chunk) => splitter.push(chunk), end: () => splitter.end() };
}

/** The gzip CSV data file `compressed` counted into `aggregator`, on this thread. */
export async function countInventoryCsv(
  compressed: Readable,
  columns: readonly string[],
  aggregator: ObjectAggregator,
): Promise<void> {
  const counter = csvRowCounter(columns, aggregator);
  const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK });
  compressed.on('error', (error) => gunzip.destroy(error));
  for await (const chunk of compressed.pipe(gunzip)) counter.push(chunk as Buffer);
  counter.end();
}

function countCsvRecord(
  record: CsvRecordView,
  index: CsvColumns,
  interner: FieldInterner,
  aggregator: ObjectAggregator,
  key: () => string,
): void {
  if (fieldEquals(record, index.deleteMarker, 'true')) {
    aggregator.addDeleteMarker();
    return;
  }
  const status = interner.text(record, index.status);
  const type = STATUS[status] ?? 'UNKNOWN';
  const size = fieldDigits(record, index.size) ?? (Number(fieldText(record, index.size)) || 0);
  aggregator.addClassified(
    type,
    type === 'UNKNOWN' ? status || '(empty EncryptionStatus)' : undefined,
    size,
    interner.text(record, index.storage) || 'STANDARD',
    !fieldEquals(record, index.latest, 'false'),
    // Only SSE-C rows use the date (the newest SSE-C write).
    type === 'SSE-C' ? fieldText(record, index.modified) || undefined : undefined,
    key,
    // URL encoding leaves '.' and letters alone, so the raw field can be tested undecoded.
    fieldEndsWith(record, index.key, INSTRUCTION_SUFFIX),
  );
}
