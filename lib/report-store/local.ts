import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import {
  mkdir,
  open,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Finding } from '../engine/types.js';
import { ReportStoreError } from '../errors.js';
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
import { LocalAlertLedger } from './alert-ledger.js';
import { indexWith } from './index-file.js';
import { MANIFEST_PATH, ScanDigests } from './integrity.js';
import { gunzippedLines } from './lines.js';
import { alive, compareAndSwap, readText } from './local-swap.js';
import { LocalWorkArea, TEMP_FILE } from './local-work-area.js';
import type { ReportStore, ScanRecord, ScanSummaryFile, StoreIndex } from './types.js';

/**
 * Test-only fail points: `S3SCAN_CRASH_AT=<point>` kills the process there with SIGKILL, so
 * the tests can prove that a crash at that step never breaks the store.
 */
function crashPoint(point: string): void {
  if (process.env.S3SCAN_CRASH_AT === point) process.kill(process.pid, 'SIGKILL');
}

/** An error's message for the user; JSON.parse's quotes the text it read, so it is left out. */
function withoutContent(error: unknown): string {
  return error instanceof SyntaxError ? 'not valid JSON' : (error as Error).message;
}

/**
 * The report store in a local folder (the embedded default `./s3scan-reports`). A scan is
 * written into a temporary folder, renamed into `scans/<scanId>`, and only then does
 * `index.json` (written to a temp file and renamed) point at it, so a crash never replaces the
 * last good scan. Published scans are immutable audit evidence: writing one again is refused.
 * What a crashed run left behind (temp folders and files of dead processes, the staging area
 * of a published scan) is cleaned by the next write.
 */
export class LocalReportStore implements ReportStore {
  public readonly root: string;
  #realRoot: Promise<string> | undefined;

  public constructor(root: string) {
    this.root = resolve(root);
  }

  /**
   * The scratch space of a running scan: per-object CSV chunks, kept across interruptions
   * until the scan is published (see {@link objectFilesFromChunks}).
   */
  public stagingArea(scanId: string): LocalWorkArea {
    return new LocalWorkArea(join(this.root, 'scans', `.staging-${safeSegment(scanId)}`));
  }

  public describe(scanId?: string): string {
    return scanId ? join(this.root, 'scans', safeSegment(scanId)) : this.root;
  }

  public alertLedger(): LocalAlertLedger {
    return new LocalAlertLedger(this.root);
  }

  public async writeScan(record: ScanRecord): Promise<string> {
    const scanId = safeSegment(record.summary.scanId);
    const scansDir = join(this.root, 'scans');
    const finalDir = join(scansDir, scanId);
    const tempDir = join(
      scansDir,
      `.partial-${scanId}-${process.pid}-${randomBytes(4).toString('hex')}`,
    );
    try {
      const index = await this.readIndex();
      if (index?.scans.some((s) => s.scanId === record.summary.scanId)) {
        throw new ReportStoreError(
          'it is already stored there; stored scans are immutable audit evidence, so a new scan needs a new scan id',
        );
      }
      await this.cleanLeftovers(index);
      await mkdir(tempDir, { recursive: true });
      const digests = new ScanDigests();
      const put = async (relative: string, body: Buffer | string) => {
        const path = join(tempDir, relative);
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, body);
        digests.add(relative, body);
      };
      const { evidence } = record;
      for (const bucket of evidence.buckets) {
        await put(
          bucketEvidencePath(bucket.accountId, bucket.region, bucket.name),
          bucketEvidenceFile(evidence, bucket),
        );
      }
      const accounts = accountsEvidenceFile(evidence);
      if (accounts) await put(ACCOUNTS_EVIDENCE_PATH, accounts);
      crashPoint('store:evidence-written');
      for (const file of record.objectFiles ?? []) {
        const relative = objectCsvPath(file.accountId, file.bucket);
        const path = join(tempDir, relative);
        await mkdir(dirname(path), { recursive: true });
        await pipeline(
          Readable.from(digests.through(relative, file.chunks())),
          createWriteStream(path),
        );
      }
      const ndjson = record.findings.map((f) => JSON.stringify(f)).join('\n');
      await put('findings.ndjson.gz', gzipSync(ndjson ? `${ndjson}\n` : ''));
      for (const file of buildFindingsIndex(record)) await put(file.path, file.body);
      await put('summary.json', `${JSON.stringify(record.summary, null, 2)}\n`);
      const manifest = digests.manifest(record.summary.scanId);
      await writeFile(join(tempDir, MANIFEST_PATH), manifest.text);
      crashPoint('store:scan-written');
      // Not in the index, so nothing points at it: the remains of a crash before publishing.
      await rm(finalDir, { recursive: true, force: true });
      await rename(tempDir, finalDir);
      crashPoint('store:scan-renamed');
      await this.publish(record.summary, manifest.digest);
      await rm(join(scansDir, `.staging-${scanId}`), { recursive: true, force: true });
      return finalDir;
    } catch (error) {
      await rm(tempDir, { recursive: true, force: true }).catch(() => undefined);
      throw new ReportStoreError(
        `could not write scan ${scanId} to ${this.root}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /**
   * Removes what crashed runs left: `.partial-*` folders and `index.json` temp files of
   * processes that are gone, and the staging area of scans already published. A staging area
   * of an unpublished scan stays: `--resume` may still need its chunks.
   */
  private async cleanLeftovers(index: StoreIndex | undefined): Promise<void> {
    const published = new Set((index?.scans ?? []).map((s) => safeSegment(s.scanId)));
    const scansDir = join(this.root, 'scans');
    const names = await readdir(scansDir).catch(() => [] as string[]);
    for (const name of names) {
      const partial = /^\.partial-.+-(\d+)-[0-9a-f]{8}$/.exec(name);
      const staging = /^\.staging-(.+)$/.exec(name);
      const old = /^.+\.old-[0-9a-f]{8}$/.test(name);
      if (
        (partial && !alive(Number(partial[1]))) ||
        (staging && published.has(staging[1] ?? '')) ||
        old
      ) {
        await rm(join(scansDir, name), { recursive: true, force: true });
      }
    }
    for (const name of await readdir(this.root).catch(() => [] as string[])) {
      const temp = TEMP_FILE.exec(name);
      if (temp && name.startsWith('index.json') && !alive(Number(temp[1])))
        await rm(join(this.root, name), { force: true });
    }
  }

  /**
   * Adds the scan to index.json by compare-and-swap: a writer whose index changed since it
   * read it (another scan was published meanwhile) reads the new one and adds to that, so
   * concurrent writers, in one process or many, all keep their scans.
   */
  private async publish(summary: ScanSummaryFile, digest: string): Promise<void> {
    const path = join(this.root, 'index.json');
    for (;;) {
      const text = await readText(path);
      const current = text === undefined ? undefined : this.parseIndex(text);
      const index = indexWith(current, summary, 'written', digest);
      const swapped = await compareAndSwap(path, text, `${JSON.stringify(index, null, 2)}\n`, () =>
        crashPoint('store:index-locked'),
      );
      if (swapped) break;
    }
    crashPoint('store:index-written');
  }

  public async readIndex(): Promise<StoreIndex | undefined> {
    let text: string;
    try {
      text = await readFile(await this.#inside(join(this.root, 'index.json')), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ReportStoreError(
        `cannot read ${join(this.root, 'index.json')}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    return this.parseIndex(text);
  }

  private parseIndex(text: string): StoreIndex {
    let index: StoreIndex;
    try {
      index = JSON.parse(text) as StoreIndex;
    } catch {
      // JSON.parse's message quotes the text: a file put in the index's place must not leak.
      throw new ReportStoreError(`${join(this.root, 'index.json')} is corrupt: not valid JSON`);
    }
    if (typeof index?.latest !== 'string' || !Array.isArray(index.scans))
      throw new ReportStoreError(
        `${join(this.root, 'index.json')} is corrupt: it has no latest or scans`,
      );
    return index;
  }

  public async readSummary(scanId: string): Promise<ScanSummaryFile> {
    const path = join(this.describe(scanId), 'summary.json');
    try {
      return JSON.parse(await readFile(await this.#inside(path), 'utf8')) as ScanSummaryFile;
    } catch (error) {
      throw new ReportStoreError(`cannot read ${path}: ${withoutContent(error)}`, {
        cause: error,
      });
    }
  }

  public findingLines(scanId: string): AsyncIterable<string[]> {
    return this.#findings(scanId, gunzippedLines);
  }

  /**
   * The file to read, if it is a regular file inside the store: a link that leads out of it
   * (to /etc/passwd, say) or anything but a file is refused, naming the path, not the target.
   */
  async #inside(file: string): Promise<string> {
    // The root's own real path is resolved once: the dashboard reads a page per request.
    this.#realRoot ??= realpath(this.root);
    const [real, root] = await Promise.all([realpath(file), this.#realRoot]);
    if (real !== root && !real.startsWith(`${root}${sep}`))
      throw new ReportStoreError(
        `${file} is a link that leads out of the store; s3scan reads only files inside ${this.root}`,
      );
    if (!(await stat(real)).isFile()) throw new ReportStoreError(`${file} is not a regular file`);
    return real;
  }

  #scanFile(scanId: string, path: string): string {
    try {
      return join(this.describe(scanId), checkedScanPath(path));
    } catch (error) {
      throw new ReportStoreError((error as Error).message, { cause: error });
    }
  }

  public async readScanFile(scanId: string, path: string): Promise<Buffer | undefined> {
    const file = this.#scanFile(scanId, path);
    try {
      return await readFile(await this.#inside(file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ReportStoreError(`cannot read ${file}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  public async readScanFileRange(
    scanId: string,
    path: string,
    start: number,
    end: number,
  ): Promise<Buffer> {
    const file = this.#scanFile(scanId, path);
    try {
      const handle = await open(await this.#inside(file), 'r');
      try {
        const bytes = Buffer.alloc(end - start);
        const { bytesRead } = await handle.read(bytes, 0, bytes.length, start);
        if (bytesRead !== bytes.length)
          throw new ReportStoreError(
            `bytes ${start}-${end} asked, the file ends after ${start + bytesRead}`,
          );
        return bytes;
      } finally {
        await handle.close();
      }
    } catch (error) {
      throw new ReportStoreError(`cannot read ${file}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async *#findings<T>(
    scanId: string,
    read: (source: AsyncIterable<Uint8Array>) => AsyncIterable<T>,
  ): AsyncIterable<T> {
    const path = join(this.describe(scanId), 'findings.ndjson.gz');
    try {
      yield* read(createReadStream(await this.#inside(path)));
    } catch (error) {
      throw new ReportStoreError(`cannot read ${path}: ${withoutContent(error)}`, {
        cause: error,
      });
    }
  }

  public async readScan(
    scanId: string,
  ): Promise<{ summary: ScanSummaryFile; findings: Finding[] }> {
    const dir = this.describe(scanId);
    try {
      const summary = JSON.parse(
        await readFile(await this.#inside(join(dir, 'summary.json')), 'utf8'),
      ) as ScanSummaryFile;
      const ndjson = gunzipSync(
        await readFile(await this.#inside(join(dir, 'findings.ndjson.gz'))),
      ).toString('utf8');
      const findings = ndjson
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Finding);
      return { summary, findings };
    } catch (error) {
      throw new ReportStoreError(
        `cannot read scan ${scanId} from ${dir}: ${withoutContent(error)}`,
        {
          cause: error,
        },
      );
    }
  }
}
