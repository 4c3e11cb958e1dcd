import type { ByteStore } from './bytes.js';

/**
 * Scratch space of a running distributed scan (plan, per-bucket evidence, checkpoints), kept
 * beside the reports under `scans/<scanId>/work/`. Lifecycle rules clean it up.
 */
export interface WorkArea {
  put(path: string, value: unknown): Promise<void>;
  get<T>(path: string): Promise<T | undefined>;
  /** Raw bytes (a gzip chunk of the per-object CSV). */
  putBytes(path: string, body: Buffer, contentType: string): Promise<void>;
  getBytes(path: string): Promise<Buffer | undefined>;
  /** Paths (relative to the work area) under a prefix. */
  list(prefix: string): Promise<string[]>;
  /** The S3 key of a path, for the state machine's ItemReader. */
  keyOf(path: string): string;
}

/** A work area in memory, for tests and the single-process host. */
export class MemoryWorkArea implements WorkArea {
  public readonly files = new Map<string, string>();
  public readonly blobs = new Map<string, Buffer>();

  public async put(path: string, value: unknown): Promise<void> {
    this.files.set(path, JSON.stringify(value));
  }

  public async get<T>(path: string): Promise<T | undefined> {
    const text = this.files.get(path);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  public async putBytes(path: string, body: Buffer): Promise<void> {
    this.blobs.set(path, Buffer.from(body));
  }

  public async getBytes(path: string): Promise<Buffer | undefined> {
    return this.blobs.get(path);
  }

  public async list(prefix: string): Promise<string[]> {
    return [...this.files.keys(), ...this.blobs.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  public keyOf(path: string): string {
    return path;
  }
}

/**
 * A work area over a byte store, under `base` (a local scratch folder, or a scan's `work/`
 * prefix in the report bucket).
 */
export class BytesWorkArea implements WorkArea {
  public constructor(
    private readonly bytes: ByteStore,
    private readonly base: string,
    /** Where a path is for the byte store's own clients (the S3 key the ItemReader reads). */
    private readonly key: (path: string) => string,
  ) {}

  public put(path: string, value: unknown): Promise<void> {
    return this.bytes.put(`${this.base}${path}`, JSON.stringify(value), 'application/json');
  }

  public async get<T>(path: string): Promise<T | undefined> {
    const body = await this.getBytes(path);
    return body === undefined ? undefined : (JSON.parse(body.toString('utf8')) as T);
  }

  public putBytes(path: string, body: Buffer, contentType: string): Promise<void> {
    return this.bytes.put(`${this.base}${path}`, body, contentType);
  }

  public getBytes(path: string): Promise<Buffer | undefined> {
    return this.bytes.get(`${this.base}${path}`);
  }

  public async list(prefix: string): Promise<string[]> {
    return (await this.bytes.list(`${this.base}${prefix}`)).map((path) =>
      path.slice(this.base.length),
    );
  }

  public keyOf(path: string): string {
    return this.key(`${this.base}${path}`);
  }
}
