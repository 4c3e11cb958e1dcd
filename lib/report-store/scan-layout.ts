import { gunzipSync, gzipSync } from 'node:zlib';
import pLimit from 'p-limit';
import type { Finding } from '../engine/types.js';
import { ReportStoreError, ScanFilesTaken } from '../errors.js';
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
import { StoreAlertLedger } from './alert-ledger.js';
import type { ByteStore } from './bytes.js';
import { indexWith } from './index-file.js';
import { MANIFEST_PATH, ScanDigests } from './integrity.js';
import { gunzippedLines } from './lines.js';
import { withoutContent } from './local-bytes.js';
import type {
  AlertLedgerStore,
  FixRecordStore,
  ReportStore,
  ScanRecord,
  ScanSummaryFile,
  StoreIndex,
} from './types.js';

/** How a store adds a scan to index.json. */
export interface IndexPolicy {
  /**
   * `written`: the scan just written becomes `latest` (a re-evaluation of old evidence too);
   * `newest`: the newest by scan time, which concurrent finalizers agree on.
   */
  latest: 'written' | 'newest';
  /** Compare-and-swap attempts before giving up (another writer kept winning). */
  attempts: number;
}

/**
 * The layout of a report store, the same over every byte store:
 *
 * - `index.json`: the scan history, written last, by compare-and-swap;
 * - `scans/<scanId>/`: `evidence/…`, `objects/<account>/<bucket>.csv.gz`, `findings.ndjson.gz`,
 *   the findings index (`view/…`), `summary.json` and `manifest.json` (SHA-256 of the rest),
 *   written as one new folder before index.json names it.
 *
 * Published scans are immutable audit evidence: writing one again is refused.
 */
export class ScanLayoutStore implements ReportStore {
  public constructor(
    protected readonly bytes: ByteStore,
    private readonly indexPolicy: IndexPolicy,
  ) {}

  /** The ledger of what alerts were sent for each scan, in the same byte store. */
  public alertLedger(): AlertLedgerStore {
    return new StoreAlertLedger(this.bytes);
  }

  /** The fix records, in the same byte store. */
  public fixRecords(): FixRecordStore {
    return new StoreAlertLedger(this.bytes, 'fixes');
  }

  public describe(scanId?: string): string {
    return scanId ? this.bytes.describe(`scans/${safeSegment(scanId)}`) : this.bytes.describe();
  }

  /** Runs before a scan is written, with the index read: a local store cleans up there. */
  protected async beforeWrite(_index: StoreIndex | undefined): Promise<void> {}

  /** Runs once a scan is in index.json: a local store drops its staging area there. */
  protected async afterPublish(_scanId: string): Promise<void> {}

  public async writeScan(record: ScanRecord): Promise<string> {
    const scanId = safeSegment(record.summary.scanId);
    const path = `scans/${scanId}`;
    let folder: ReturnType<ByteStore['createFolder']> | undefined;
    try {
      const index = await this.readIndex();
      if (index?.scans.some((s) => s.scanId === record.summary.scanId))
        throw new ReportStoreError(
          'it is already stored there; stored scans are immutable audit evidence, so a new scan needs a new scan id',
        );
      await this.beforeWrite(index);
      const writer = this.bytes.createFolder(path, record.summary.scanId);
      folder = writer;
      const digests = new ScanDigests();
      const put = (relative: string, body: string | Buffer, contentType: string) => {
        digests.add(relative, body);
        return writer.put(relative, body, contentType);
      };
      const { evidence } = record;
      const limit = pLimit(16);
      await Promise.all(
        evidence.buckets.map((bucket) =>
          limit(() =>
            put(
              bucketEvidencePath(bucket.accountId, bucket.region, bucket.name),
              bucketEvidenceFile(evidence, bucket),
              'application/json',
            ),
          ),
        ),
      );
      const accounts = accountsEvidenceFile(evidence);
      if (accounts) await put(ACCOUNTS_EVIDENCE_PATH, accounts, 'application/json');
      for (const file of record.objectFiles ?? []) {
        const relative = objectCsvPath(file.accountId, file.bucket);
        await writer.putStream(
          relative,
          digests.through(relative, file.chunks()),
          'application/gzip',
        );
      }
      const ndjson = record.findings.map((f) => JSON.stringify(f)).join('\n');
      await put('findings.ndjson.gz', gzipSync(ndjson ? `${ndjson}\n` : ''), 'application/gzip');
      // In order, the findings index's own index.json last: a reader that finds it finds the rest.
      for (const file of buildFindingsIndex(record))
        await put(
          file.path,
          file.body,
          file.path.endsWith('.json') ? 'application/json' : 'application/octet-stream',
        );
      await put('summary.json', `${JSON.stringify(record.summary, null, 2)}\n`, 'application/json');
      const manifest = digests.manifest(record.summary.scanId);
      await writer.put(MANIFEST_PATH, manifest.text, 'application/json');
      await writer.commit();
      await this.publish(record.summary, manifest.digest);
      await this.afterPublish(scanId);
      return this.describe(scanId);
    } catch (error) {
      await folder?.abort().catch(() => undefined);
      // The caller answers ScanFilesTaken with a new scan id: it stays what it is.
      if (error instanceof ScanFilesTaken) throw error;
      throw new ReportStoreError(
        `could not write scan ${scanId} to ${this.bytes.describe()}: ${this.bytes.explain(error)}`,
        { cause: error },
      );
    }
  }

  /**
   * Adds the scan to index.json by compare-and-swap: a writer whose index changed since it
   * read it (another scan was published meanwhile) reads the new one and adds to that, so
   * concurrent writers, in one process or many, all keep their scans.
   */
  private async publish(summary: ScanSummaryFile, digest: string): Promise<void> {
    for (let attempt = 1; attempt <= this.indexPolicy.attempts; attempt++) {
      const current = await this.bytes.getVersioned('index.json');
      const existing = current ? this.parseIndex(current.body) : undefined;
      const index = indexWith(existing, summary, this.indexPolicy.latest, digest);
      if (
        await this.bytes.swap('index.json', `${JSON.stringify(index, null, 2)}\n`, current?.version)
      )
        return;
    }
    throw new ReportStoreError(
      `${this.bytes.describe('index.json')} changed under each of ${this.indexPolicy.attempts} attempts to add the scan: other writers kept winning`,
    );
  }

  public async readIndex(): Promise<StoreIndex | undefined> {
    const bytes = await this.bytes.get('index.json');
    return bytes ? this.parseIndex(bytes) : undefined;
  }

  private parseIndex(bytes: Buffer): StoreIndex {
    const where = this.bytes.describe('index.json');
    let index: StoreIndex;
    try {
      index = JSON.parse(bytes.toString('utf8')) as StoreIndex;
    } catch {
      // JSON.parse's message quotes the text: a file put in the index's place must not leak.
      throw new ReportStoreError(`${where} is corrupt: not valid JSON`);
    }
    if (typeof index?.latest !== 'string' || !Array.isArray(index.scans))
      throw new ReportStoreError(`${where} is corrupt: it has no latest or scans`);
    return index;
  }

  public async readSummary(scanId: string): Promise<ScanSummaryFile> {
    const path = `scans/${safeSegment(scanId)}/summary.json`;
    const where = this.bytes.describe(path);
    const bytes = await this.bytes.get(path);
    if (!bytes) throw new ReportStoreError(`cannot read ${where}: it does not exist`);
    try {
      return JSON.parse(bytes.toString('utf8')) as ScanSummaryFile;
    } catch (error) {
      throw new ReportStoreError(`cannot read ${where}: ${withoutContent(error)}`, {
        cause: error,
      });
    }
  }

  public async *findingLines(scanId: string): AsyncIterable<string[]> {
    const path = `scans/${safeSegment(scanId)}/findings.ndjson.gz`;
    try {
      yield* gunzippedLines(this.bytes.stream(path));
    } catch (error) {
      throw new ReportStoreError(
        `cannot read ${this.bytes.describe(path)}: ${error instanceof SyntaxError ? 'not valid JSON' : this.bytes.explain(error)}`,
        { cause: error },
      );
    }
  }

  #scanPath(scanId: string, path: string): string {
    try {
      return `scans/${safeSegment(scanId)}/${checkedScanPath(path)}`;
    } catch (error) {
      throw new ReportStoreError((error as Error).message, { cause: error });
    }
  }

  public async readScanFile(scanId: string, path: string): Promise<Buffer | undefined> {
    return this.bytes.get(this.#scanPath(scanId, path));
  }

  public async readScanFileRange(
    scanId: string,
    path: string,
    start: number,
    end: number,
  ): Promise<Buffer> {
    return this.bytes.getRange(this.#scanPath(scanId, path), start, end);
  }

  public async readScan(
    scanId: string,
  ): Promise<{ summary: ScanSummaryFile; findings: Finding[] }> {
    const dir = `scans/${safeSegment(scanId)}`;
    try {
      const [summary, findings] = await Promise.all([
        this.bytes.get(`${dir}/summary.json`),
        this.bytes.get(`${dir}/findings.ndjson.gz`),
      ]);
      if (!summary || !findings)
        throw new ReportStoreError('the scan has no summary.json or findings.ndjson.gz');
      return {
        summary: JSON.parse(summary.toString('utf8')) as ScanSummaryFile,
        findings: gunzipSync(findings)
          .toString('utf8')
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line) => JSON.parse(line) as Finding),
      };
    } catch (error) {
      throw new ReportStoreError(
        `cannot read scan ${scanId} from ${this.describe(scanId)}: ${withoutContent(error)}`,
        { cause: error },
      );
    }
  }
}
