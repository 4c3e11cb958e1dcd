import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReportStoreError } from '../errors.js';
import { safeSegment } from '../evidence/paths.js';
import type { ObjectSink } from './object-sink.js';
import { lazyObjectCsv } from './objects-csv.js';
import type { ObjectFile } from './types.js';
import type { WorkArea } from './work-area.js';

const chunkDir = (accountId: string, bucket: string) =>
  `objects/${safeSegment(accountId)}/${safeSegment(bucket)}/`;

/**
 * The per-object CSV of a sweep that spans Lambda invocations: each invocation writes one gzip
 * member to /tmp and uploads it to the work area as a chunk. The chunk is named after the
 * listing page the invocation started from, so a retried invocation (same checkpoint) replaces
 * its own chunk instead of adding rows twice; only the first chunk has the header row.
 */
export function chunkedObjectSink(
  work: WorkArea,
  bucket: { accountId: string; name: string },
  startPage: number,
): ObjectSink {
  const path = join(tmpdir(), `s3scan-objects-${randomBytes(8).toString('hex')}.csv.gz`);
  const file = lazyObjectCsv(path, { header: startPage === 0 });
  let wrote = false;
  return {
    write: (observation) => {
      wrote = true;
      file.write(observation);
    },
    ready: () => file.ready(),
    close: async () => {
      await file.close();
      if (!wrote) return;
      try {
        const name = `${String(startPage).padStart(9, '0')}.csv.gz`;
        await work.putBytes(
          `${chunkDir(bucket.accountId, bucket.name)}${name}`,
          await readFile(path),
          'application/gzip',
        );
      } finally {
        await rm(path, { force: true });
      }
    },
    discard: async () => {
      wrote = false;
      await file.discard();
    },
  };
}

/**
 * The per-object CSV files of finished buckets: their chunks in listing order (gzip members
 * read back to back), fetched one at a time as the store writes them.
 */
export async function objectFilesFromChunks(
  work: WorkArea,
  buckets: { accountId: string; name: string }[],
): Promise<ObjectFile[]> {
  // One listing for the whole scan, not one per bucket: finalize may see thousands of buckets.
  const byDir = new Map<string, string[]>();
  for (const path of (await work.list('objects/')).sort()) {
    const dir = path.slice(0, path.lastIndexOf('/') + 1);
    const chunks = byDir.get(dir);
    if (chunks) chunks.push(path);
    else byDir.set(dir, [path]);
  }
  const files: ObjectFile[] = [];
  for (const bucket of buckets) {
    const chunks = byDir.get(chunkDir(bucket.accountId, bucket.name));
    if (!chunks) continue;
    files.push({
      accountId: bucket.accountId,
      bucket: bucket.name,
      chunks: async function* () {
        for (const chunk of chunks) {
          const body = await work.getBytes(chunk);
          if (!body)
            throw new ReportStoreError(`object CSV chunk ${chunk} disappeared from the work area`);
          yield body;
        }
      },
    });
  }
  return files;
}
