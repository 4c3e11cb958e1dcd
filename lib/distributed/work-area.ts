/**
 * Scratch space of a running distributed scan (plan, per-bucket evidence, checkpoints), kept
 * beside the reports under `scans/<scanId>/work/`. Lifecycle rules clean it up.
 */
export interface WorkArea {
  put(path: string, value: unknown): Promise<void>;
  get<T>(path: string): Promise<T | undefined>;
  /** Paths (relative to the work area) under a prefix. */
  list(prefix: string): Promise<string[]>;
  /** The S3 key of a path, for the state machine's ItemReader. */
  keyOf(path: string): string;
}

/** A work area in memory, for tests and the single-process host. */
export class MemoryWorkArea implements WorkArea {
  public readonly files = new Map<string, string>();

  public async put(path: string, value: unknown): Promise<void> {
    this.files.set(path, JSON.stringify(value));
  }

  public async get<T>(path: string): Promise<T | undefined> {
    const text = this.files.get(path);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  public async list(prefix: string): Promise<string[]> {
    return [...this.files.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  public keyOf(path: string): string {
    return path;
  }
}
