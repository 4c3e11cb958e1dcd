/**
 * A tamper-evident store. Each stored scan has `manifest.json`: the SHA-256 and size of every
 * file it wrote (summary, findings, evidence, the findings index, object CSVs). The scan's
 * digest is the SHA-256 of that manifest, and its line in `index.json` records the digest,
 * its place in the order of writing and the chain value of the line before it, so changing a
 * file, a manifest or a line of the index breaks a link that `s3scan verify` names.
 *
 * This detects changes made by anyone who does not rewrite the whole chain; it is no
 * substitute for write protection (S3 Object Lock, a bucket policy) against one who can.
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { Finding } from '../engine/types.js';
import { IntegrityError } from '../errors.js';
import type { IndexEntry, StoreIndex } from './index-types.js';
import type {
  AlertLedgerStore,
  FixRecordStore,
  ReportStore,
  ScanRecord,
  ScanSummaryFile,
} from './types.js';

/** The manifest's name inside a scan folder. */
export const MANIFEST_PATH = 'manifest.json';

/** manifest.json: every file of a stored scan, with its SHA-256 (hex) and size. */
export interface ScanManifest {
  schemaVersion: '1';
  scanId: string;
  algorithm: 'SHA-256';
  files: Record<string, { sha256: string; bytes: number }>;
}

export { IntegrityError };

/** How much of a file one ranged read takes while it is hashed for a range check. */
const HASH_RANGE_BYTES = 8 * 2 ** 20;

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/** The digests of the files a store writes for one scan, gathered as they are written. */
export class ScanDigests {
  private readonly files = new Map<string, { sha256: string; bytes: number }>();

  /** Records a file written whole. */
  public add(path: string, body: Buffer | string): void {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    this.files.set(path, { sha256: sha256(bytes), bytes: bytes.length });
  }

  /** Passes a streamed file through, recording its digest when the stream ends. */
  public async *through(path: string, chunks: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of chunks) {
      hash.update(chunk);
      bytes += chunk.length;
      yield chunk;
    }
    this.files.set(path, { sha256: hash.digest('hex'), bytes });
  }

  /** manifest.json's text, files in path order, and the scan's digest (its SHA-256). */
  public manifest(scanId: string): { text: string; digest: string } {
    const files = Object.fromEntries(
      [...this.files.entries()].sort(([a], [b]) => (a < b ? -1 : 1)),
    );
    const manifest: ScanManifest = { schemaVersion: '1', scanId, algorithm: 'SHA-256', files };
    const text = `${JSON.stringify(manifest, null, 2)}\n`;
    return { text, digest: sha256(text) };
  }
}

/** The chain value of an index line: its predecessor's, its scan id and its scan digest. */
export function chainValue(previous: string, scanId: string, digest: string): string {
  return sha256(`${previous}\n${scanId}\n${digest}`);
}

/** The integrity fields of a new index line, following the newest-written line of `current`. */
export function chainedEntry(
  current: StoreIndex | undefined,
  scanId: string,
  digest: string,
): NonNullable<IndexEntry['integrity']> {
  const last = (current?.scans ?? [])
    .map((s) => s.integrity)
    .filter((i): i is NonNullable<IndexEntry['integrity']> => i !== undefined)
    .sort((a, b) => b.seq - a.seq)[0];
  const previous = last?.chain ?? '';
  return {
    seq: (last?.seq ?? 0) + 1,
    digest,
    ...(previous ? { previous } : {}),
    chain: chainValue(previous, scanId, digest),
  };
}

function parseManifest(bytes: Buffer, where: string): ScanManifest {
  let manifest: ScanManifest;
  try {
    manifest = JSON.parse(bytes.toString('utf8')) as ScanManifest;
  } catch {
    // Never echo the content: a manifest replaced by another file must not leak it.
    throw new IntegrityError(`${where} is not valid JSON`);
  }
  if (manifest?.schemaVersion !== '1' || typeof manifest.files !== 'object' || !manifest.files)
    throw new IntegrityError(`${where} is not an s3scan manifest`);
  return manifest;
}

/** Checks a file's bytes against its manifest line; throws naming the file and what differs. */
export function checkFile(
  manifest: ScanManifest,
  scanId: string,
  path: string,
  body: Buffer | undefined,
): void {
  const expected = manifest.files[path];
  if (!expected) {
    if (body === undefined) return;
    throw new IntegrityError(
      `scan ${scanId}: ${path} is not one of the files the scan wrote (not in its manifest)`,
    );
  }
  if (body === undefined)
    throw new IntegrityError(`scan ${scanId}: ${path} is missing (the scan wrote it)`);
  if (body.length !== expected.bytes)
    throw new IntegrityError(
      `scan ${scanId}: ${path} was ${body.length < expected.bytes ? 'truncated or ' : ''}changed after the scan was stored (${expected.bytes} bytes written, ${body.length} found)`,
    );
  const found = sha256(body);
  if (found !== expected.sha256)
    throw new IntegrityError(
      `scan ${scanId}: ${path} was changed after the scan was stored (SHA-256 ${expected.sha256.slice(0, 12)}… written, ${found.slice(0, 12)}… found)`,
    );
}

/** What `verifyStore` found for one scan. */
export interface ScanVerification {
  scanId: string;
  /** `ok`: every file matches; `unprotected`: stored before manifests; else what is wrong. */
  status: 'ok' | 'unprotected' | 'failed';
  problems: string[];
  files: number;
}

/**
 * A store whose reads are checked against each scan's manifest and its line in index.json:
 * `report`, `diff`, `alert` and the dashboard read through it, so a changed, truncated or
 * missing file is an {@link IntegrityError} naming it, never a silently different report.
 * Scans stored before manifests existed (no digest in the index) are read as they are.
 */
export class IntegrityCheckedStore implements ReportStore {
  private readonly manifests = new Map<string, Promise<ScanManifest | undefined>>();
  private readonly checked = new Set<string>();

  public constructor(private readonly inner: ReportStore) {}

  /** The store underneath (its own type's extras: a local root, a staging area). */
  public get unwrapped(): ReportStore {
    return this.inner;
  }

  public alertLedger(): AlertLedgerStore {
    return this.inner.alertLedger();
  }

  public fixRecords(): FixRecordStore {
    return this.inner.fixRecords();
  }

  public writeScan(record: ScanRecord): Promise<string> {
    return this.inner.writeScan(record);
  }

  public readIndex(): Promise<StoreIndex | undefined> {
    return this.inner.readIndex();
  }

  public describe(scanId?: string): string {
    return this.inner.describe(scanId);
  }

  public foreignEntries(): Promise<string[]> {
    return this.inner.foreignEntries?.() ?? Promise.resolve([]);
  }

  /** The scan's manifest, checked against its digest in index.json; undefined if unprotected. */
  public manifestOf(scanId: string): Promise<ScanManifest | undefined> {
    let pending = this.manifests.get(scanId);
    if (!pending) {
      pending = this.loadManifest(scanId);
      pending.catch(() => this.manifests.delete(scanId));
      this.manifests.set(scanId, pending);
    }
    return pending;
  }

  private async loadManifest(scanId: string): Promise<ScanManifest | undefined> {
    const index = await this.inner.readIndex();
    const entry = index?.scans.find((s) => s.scanId === scanId);
    const bytes = await this.inner.readScanFile(scanId, MANIFEST_PATH);
    if (!entry?.integrity) {
      // Not listed (a scan being written, or trimmed from the history) or stored before
      // manifests: a manifest, if there is one, still checks the files against each other.
      return bytes ? parseManifest(bytes, `scan ${scanId}: ${MANIFEST_PATH}`) : undefined;
    }
    if (!bytes)
      throw new IntegrityError(
        `scan ${scanId}: ${MANIFEST_PATH} is missing (index.json records the scan's digest)`,
      );
    if (sha256(bytes) !== entry.integrity.digest)
      throw new IntegrityError(
        `scan ${scanId}: ${MANIFEST_PATH} was changed after the scan was stored (its SHA-256 differs from the digest index.json records)`,
      );
    return parseManifest(bytes, `scan ${scanId}: ${MANIFEST_PATH}`);
  }

  private async checkedRead(scanId: string, path: string, body: Buffer | undefined) {
    const manifest = await this.manifestOf(scanId);
    if (manifest) checkFile(manifest, scanId, path, body);
    return body;
  }

  public async readScanFile(scanId: string, path: string): Promise<Buffer | undefined> {
    return this.checkedRead(scanId, path, await this.inner.readScanFile(scanId, path));
  }

  public async readScanFileRange(
    scanId: string,
    path: string,
    start: number,
    end: number,
  ): Promise<Buffer> {
    // A range cannot be checked alone: the whole file is hashed once, range by range (memory
    // stays one range whatever its size), then ranges are served.
    const key = `${scanId}\n${path}`;
    const manifest = this.checked.has(key) ? undefined : await this.manifestOf(scanId);
    if (manifest) {
      await this.checkByRanges(manifest, scanId, path);
      this.checked.add(key);
    }
    return this.inner.readScanFileRange(scanId, path, start, end);
  }

  private async checkByRanges(manifest: ScanManifest, scanId: string, path: string) {
    const expected = manifest.files[path];
    if (!expected) {
      checkFile(manifest, scanId, path, await this.inner.readScanFile(scanId, path));
      return;
    }
    const hash = createHash('sha256');
    for (let at = 0; at < expected.bytes; at += HASH_RANGE_BYTES) {
      const until = Math.min(expected.bytes, at + HASH_RANGE_BYTES);
      let part: Buffer;
      try {
        part = await this.inner.readScanFileRange(scanId, path, at, until);
      } catch (error) {
        throw new IntegrityError(
          `scan ${scanId}: ${path} was truncated or changed after the scan was stored (${expected.bytes} bytes written; ${(error as Error).message})`,
          { cause: error },
        );
      }
      hash.update(part);
    }
    // A file that grew past what was written differs too: one byte beyond must not exist.
    const grown = await this.inner
      .readScanFileRange(scanId, path, expected.bytes, expected.bytes + 1)
      .then(
        () => true,
        () => false,
      );
    const found = hash.digest('hex');
    if (grown || found !== expected.sha256)
      throw new IntegrityError(
        `scan ${scanId}: ${path} was changed after the scan was stored (SHA-256 ${expected.sha256.slice(0, 12)}… written${grown ? ', and it is longer' : `, ${found.slice(0, 12)}… found`})`,
      );
  }

  public async readSummary(scanId: string): Promise<ScanSummaryFile> {
    if (!(await this.manifestOf(scanId))) return this.inner.readSummary(scanId);
    const bytes = await this.readScanFile(scanId, 'summary.json');
    if (!bytes) throw new IntegrityError(`scan ${scanId}: summary.json is missing`);
    return parseJson<ScanSummaryFile>(bytes, `scan ${scanId}: summary.json`);
  }

  public async readScan(
    scanId: string,
  ): Promise<{ summary: ScanSummaryFile; findings: Finding[] }> {
    if (!(await this.manifestOf(scanId))) return this.inner.readScan(scanId);
    // Checked whole before anything is parsed, so nothing of a changed scan is printed; the
    // checked bytes are the ones parsed, each file read once.
    const [summary, findings] = await Promise.all([
      this.readSummary(scanId),
      this.readScanFile(scanId, 'findings.ndjson.gz'),
    ]);
    if (!findings) throw new IntegrityError(`scan ${scanId}: findings.ndjson.gz is missing`);
    const where = `scan ${scanId}: findings.ndjson.gz`;
    let text: string;
    try {
      text = gunzipSync(findings).toString('utf8');
    } catch {
      throw new IntegrityError(`${where} is not gzip`);
    }
    try {
      const lines = text.split('\n').filter((line) => line.trim() !== '');
      return { summary, findings: lines.map((line) => JSON.parse(line) as Finding) };
    } catch {
      throw new IntegrityError(`${where} holds a line that is not valid JSON`);
    }
  }

  public async *findingLines(scanId: string): AsyncIterable<string[]> {
    // Drift streams a million findings: their file is hashed first, range by range (never
    // whole in memory), then streamed.
    const key = `${scanId}\nfindings.ndjson.gz`;
    const manifest = this.checked.has(key) ? undefined : await this.manifestOf(scanId);
    if (manifest) {
      await this.checkByRanges(manifest, scanId, 'findings.ndjson.gz');
      this.checked.add(key);
    }
    yield* this.inner.findingLines(scanId);
  }

  /**
   * Checks a whole scan: its manifest against index.json, and every file it lists (summary,
   * findings, evidence, index pages, object CSVs).
   */
  public async verifyScan(scanId: string): Promise<ScanVerification> {
    let manifest: ScanManifest | undefined;
    try {
      manifest = await this.manifestOf(scanId);
    } catch (error) {
      return { scanId, status: 'failed', problems: [(error as Error).message], files: 0 };
    }
    if (!manifest)
      return {
        scanId,
        status: 'unprotected',
        problems: ['stored before s3scan recorded file digests: nothing to check it against'],
        files: 0,
      };
    const problems: string[] = [];
    for (const path of Object.keys(manifest.files)) {
      try {
        checkFile(manifest, scanId, path, await this.inner.readScanFile(scanId, path));
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
    return {
      scanId,
      status: problems.length ? 'failed' : 'ok',
      problems,
      files: Object.keys(manifest.files).length,
    };
  }
}

/** Checks the chain of index.json's lines; each problem names the scan whose link broke. */
export function verifyChain(index: StoreIndex): string[] {
  const problems: string[] = [];
  const lines = index.scans
    .filter((s) => s.integrity)
    .sort((a, b) => (a.integrity?.seq ?? 0) - (b.integrity?.seq ?? 0));
  const seen = new Set<number>();
  for (const [i, line] of lines.entries()) {
    const integrity = line.integrity as NonNullable<IndexEntry['integrity']>;
    if (seen.has(integrity.seq))
      problems.push(
        `index.json: scans ${line.scanId} and another both claim place ${integrity.seq}`,
      );
    seen.add(integrity.seq);
    if (chainValue(integrity.previous ?? '', line.scanId, integrity.digest) !== integrity.chain)
      problems.push(
        `index.json: the line of scan ${line.scanId} was changed (its chain value does not follow from its digest)`,
      );
    const before = lines[i - 1]?.integrity;
    // Lines trimmed from the history leave a gap; where the places are consecutive, they link.
    if (before && before.seq === integrity.seq - 1 && integrity.previous !== before.chain)
      problems.push(
        `index.json: the line of scan ${line.scanId} does not follow the line of scan ${lines[i - 1]?.scanId} (a line was changed, removed or inserted)`,
      );
  }
  return problems;
}

/** Parses a checked JSON file; the error names the file and never echoes its content. */
export function parseJson<T>(bytes: Buffer, where: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch {
    throw new IntegrityError(`${where} is not valid JSON`);
  }
}
