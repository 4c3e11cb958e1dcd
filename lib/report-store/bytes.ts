/**
 * The byte store under a report store: files by their path from the store's root
 * (`index.json`, `scans/<scanId>/summary.json`). One module above it, `scan-layout.ts`, owns
 * what those files are; the adapters only keep bytes: a local folder (`local-bytes.ts`) and an
 * S3 bucket and prefix (`s3-bytes.ts`). Tests wrap an adapter to inject faults and crashes.
 */

/** A small file read for a compare-and-swap: its bytes and the version a swap compares with. */
export interface VersionedBytes {
  body: Buffer;
  /** The local file's text, an S3 object's ETag: whatever the adapter compares. */
  version: string;
}

/** A new folder of files (a stored scan): each file created once, all published by `commit`. */
export interface FolderWriter {
  put(relative: string, body: Buffer | string, contentType: string): Promise<void>;
  /** A file written from a stream of buffers, holding about one part in memory. */
  putStream(relative: string, chunks: AsyncIterable<Buffer>, contentType: string): Promise<void>;
  /** Makes the folder visible under its path (a local folder is renamed into place). */
  commit(): Promise<void>;
  /** Removes what an unfinished folder wrote where that is allowed (never an S3 object). */
  abort(): Promise<void>;
}

/**
 * Bytes by path. Reads answer undefined for a missing file and throw a ReportStoreError that
 * names the path in the adapter's terms (a file path, an s3:// URL) for anything else.
 */
export interface ByteStore {
  /** Where `path` is (the store's root without one), for messages. */
  describe(path?: string): string;
  get(path: string): Promise<Buffer | undefined>;
  getVersioned(path: string): Promise<VersionedBytes | undefined>;
  /** Bytes `[start, end)`; a file that ends sooner is an error. */
  getRange(path: string, start: number, end: number): Promise<Buffer>;
  /** The file's bytes as they are read; a missing file is an error. */
  stream(path: string): AsyncIterable<Uint8Array>;
  /**
   * Replaces `path` with `body` if it is still at `version` (undefined: only if it does not
   * exist). False, changing nothing, when another writer got there first.
   */
  swap(path: string, body: string, version: string | undefined): Promise<boolean>;
  /**
   * Writes `path` only if it does not exist: false when it did, or when another conditional
   * write of it was under way, so exactly one of two racing writers wins.
   */
  create(path: string, body: string): Promise<boolean>;
  /** Writes or replaces `path` whole: a reader sees the old bytes or the new, never a part. */
  put(path: string, body: string | Buffer, contentType: string): Promise<void>;
  /**
   * Every path that starts with `prefix`, from the store's root, sorted; never a write still
   * in flight (a local temp file).
   */
  list(prefix: string): Promise<string[]>;
  /** A new folder at `path` for the scan `scanId` (named in errors). */
  createFolder(path: string, scanId: string): FolderWriter;
  /** An error of this adapter in a line for the user (an S3 error's code first). */
  explain(error: unknown): string;
}
