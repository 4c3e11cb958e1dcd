import { readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { safeSegment } from '../evidence/paths.js';
import type { ByteStore } from './bytes.js';
import { LocalBytes } from './local-bytes.js';
import { TEMP_FILE } from './local-files.js';
import { alive } from './local-swap.js';
import { LocalWorkArea } from './local-work-area.js';
import { ScanLayoutStore } from './scan-layout.js';
import type { AlertLedgerStore, FixRecordStore, StoreIndex } from './types.js';

/**
 * The report store in a local folder (the embedded default `./s3scan-reports`). A scan is
 * written into a temporary folder, renamed into `scans/<scanId>`, and only then does
 * `index.json` (swapped under a lock file) point at it, so a crash never replaces the last
 * good scan. What a crashed run left behind (temp folders and files of dead processes, the
 * staging area of a published scan) is cleaned by the next write.
 */
/**
 * Adapters a test puts around a local store's parts to inject faults (a kill -9 at a chosen
 * step): production code passes none.
 */
export interface StoreAdapters {
  /** The bytes of the store at `root`; `whileLocked` runs while index.json's lock is held. */
  bytes?: (root: string) => ByteStore;
  ledger?: (ledger: AlertLedgerStore) => AlertLedgerStore;
  /** The fix records (`fixes/`), as the ledger. */
  fixes?: (records: FixRecordStore) => FixRecordStore;
}

/** The folders and files a local report store's top level holds, besides `index.json*`. */
const STORE_NAMES = new Set(['scans', 'alerts', 'fixes', 'config', 'checkpoint.json']);

export class LocalReportStore extends ScanLayoutStore {
  public readonly root: string;
  readonly #adaptLedger: ((ledger: AlertLedgerStore) => AlertLedgerStore) | undefined;
  readonly #adaptFixes: ((records: FixRecordStore) => FixRecordStore) | undefined;

  public constructor(root: string, adapters: StoreAdapters = {}) {
    super(adapters.bytes?.(root) ?? new LocalBytes(root), {
      latest: 'written',
      attempts: Number.POSITIVE_INFINITY,
    });
    this.root = resolve(root);
    this.#adaptLedger = adapters.ledger;
    this.#adaptFixes = adapters.fixes;
  }

  /**
   * The scratch space of a running scan: per-object CSV chunks, kept across interruptions
   * until the scan is published (see {@link objectFilesFromChunks}).
   */
  public stagingArea(scanId: string): LocalWorkArea {
    return new LocalWorkArea(join(this.root, 'scans', `.staging-${safeSegment(scanId)}`));
  }

  public async foreignEntries(): Promise<string[]> {
    const names = await readdir(this.root).catch(() => [] as string[]);
    return names
      .filter(
        (name) =>
          !STORE_NAMES.has(name) &&
          !name.startsWith('index.json') &&
          !name.startsWith('.') &&
          !TEMP_FILE.test(name),
      )
      .sort()
      .slice(0, 5);
  }

  public override alertLedger(): AlertLedgerStore {
    const ledger = super.alertLedger();
    return this.#adaptLedger ? this.#adaptLedger(ledger) : ledger;
  }

  public override fixRecords(): FixRecordStore {
    const records = super.fixRecords();
    return this.#adaptFixes ? this.#adaptFixes(records) : records;
  }

  protected override beforeWrite(index: StoreIndex | undefined): Promise<void> {
    return this.cleanLeftovers(index);
  }

  protected override async afterPublish(scanId: string): Promise<void> {
    await rm(join(this.root, 'scans', `.staging-${scanId}`), { recursive: true, force: true });
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
}
