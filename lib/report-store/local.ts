import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Finding } from '../engine/types.js';
import { ReportStoreError } from '../errors.js';
import {
  bucketEvidenceFile,
  bucketEvidencePath,
  objectCsvPath,
  safeSegment,
} from '../evidence/paths.js';
import { indexWith } from './index-file.js';
import type { ReportStore, ScanRecord, ScanSummaryFile, StoreIndex } from './types.js';

async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(dirname(path), { recursive: true });
  await writeFile(temp, data);
  await rename(temp, path);
}

/**
 * The report store in a local folder (the embedded default `./s3scan-reports`). A scan is
 * written into a temporary folder, renamed into `scans/<scanId>`, and only then does
 * `index.json` (written to a temp file and renamed) point at it, so a crash never replaces the
 * last good scan.
 */
export class LocalReportStore implements ReportStore {
  public readonly root: string;

  public constructor(root: string) {
    this.root = resolve(root);
  }

  /** Where a scan's per-object CSV is written while the scan runs; moved in by writeScan. */
  public stagedObjectsPath(scanId: string, accountId: string, bucket: string): string {
    return join(
      this.root,
      'scans',
      `.staging-${safeSegment(scanId)}`,
      objectCsvPath(accountId, bucket),
    );
  }

  public describe(scanId?: string): string {
    return scanId ? join(this.root, 'scans', safeSegment(scanId)) : this.root;
  }

  public async writeScan(record: ScanRecord): Promise<string> {
    const scanId = safeSegment(record.summary.scanId);
    const scansDir = join(this.root, 'scans');
    const finalDir = join(scansDir, scanId);
    const tempDir = join(scansDir, `.partial-${scanId}-${randomBytes(4).toString('hex')}`);
    try {
      await mkdir(tempDir, { recursive: true });
      const { evidence } = record;
      for (const bucket of evidence.buckets) {
        const path = join(
          tempDir,
          bucketEvidencePath(bucket.accountId, bucket.region, bucket.name),
        );
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, bucketEvidenceFile(evidence, bucket));
      }
      const staging = join(scansDir, `.staging-${scanId}`);
      await rename(join(staging, 'objects'), join(tempDir, 'objects')).catch(
        (error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
        },
      );
      await rm(staging, { recursive: true, force: true });
      for (const file of record.objectFiles ?? []) {
        const path = join(tempDir, objectCsvPath(file.accountId, file.bucket));
        await mkdir(dirname(path), { recursive: true });
        await pipeline(Readable.from(file.chunks()), createWriteStream(path));
      }
      const ndjson = record.findings.map((f) => JSON.stringify(f)).join('\n');
      await writeFile(join(tempDir, 'findings.ndjson.gz'), gzipSync(ndjson ? `${ndjson}\n` : ''));
      await writeFile(
        join(tempDir, 'summary.json'),
        `${JSON.stringify(record.summary, null, 2)}\n`,
      );
      // Replace an earlier copy of the same scan (re-running the demo) only once the new one is whole.
      const previous = `${finalDir}.old-${randomBytes(4).toString('hex')}`;
      const hadPrevious = await rename(finalDir, previous).then(
        () => true,
        () => false,
      );
      await rename(tempDir, finalDir);
      if (hadPrevious) await rm(previous, { recursive: true, force: true });
      await this.publish(record.summary);
      return finalDir;
    } catch (error) {
      await rm(tempDir, { recursive: true, force: true }).catch(() => undefined);
      throw new ReportStoreError(
        `could not write scan ${scanId} to ${this.root}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  private async publish(summary: ScanSummaryFile): Promise<void> {
    const index = indexWith(await this.readIndex(), summary);
    await writeFileAtomic(join(this.root, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
  }

  public async readIndex(): Promise<StoreIndex | undefined> {
    let text: string;
    try {
      text = await readFile(join(this.root, 'index.json'), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ReportStoreError(
        `cannot read ${join(this.root, 'index.json')}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    try {
      const index = JSON.parse(text) as StoreIndex;
      if (typeof index.latest !== 'string' || !Array.isArray(index.scans))
        throw new Error('missing latest or scans');
      return index;
    } catch (error) {
      throw new ReportStoreError(
        `${join(this.root, 'index.json')} is corrupt: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  public async readScan(
    scanId: string,
  ): Promise<{ summary: ScanSummaryFile; findings: Finding[] }> {
    const dir = this.describe(scanId);
    try {
      const summary = JSON.parse(
        await readFile(join(dir, 'summary.json'), 'utf8'),
      ) as ScanSummaryFile;
      const ndjson = gunzipSync(await readFile(join(dir, 'findings.ndjson.gz'))).toString('utf8');
      const findings = ndjson
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Finding);
      return { summary, findings };
    } catch (error) {
      throw new ReportStoreError(
        `cannot read scan ${scanId} from ${dir}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }
}
