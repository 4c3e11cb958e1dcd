import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { WorkArea } from './work-area.js';

/** The temp files of {@link writeFileAtomic}: `<name>.tmp-<pid>-<8 hex>`. */
export const TEMP_FILE = /\.tmp-(\d+)-[0-9a-f]{8}$/;

/**
 * Writes a file so that a reader (or the next run after a kill -9) sees either the old
 * content or the whole new content, never a part: a temp file named after this process,
 * then a rename.
 */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(temp, data);
  await rename(temp, path);
}

/**
 * A work area in a local folder: the CLI's scratch space for a scan that may be interrupted
 * and resumed (per-object CSV chunks). Every write is atomic.
 */
export class LocalWorkArea implements WorkArea {
  public constructor(public readonly root: string) {}

  public async put(path: string, value: unknown): Promise<void> {
    await writeFileAtomic(join(this.root, path), JSON.stringify(value));
  }

  public async get<T>(path: string): Promise<T | undefined> {
    const bytes = await this.getBytes(path);
    return bytes === undefined ? undefined : (JSON.parse(bytes.toString('utf8')) as T);
  }

  public async putBytes(path: string, body: Buffer): Promise<void> {
    await writeFileAtomic(join(this.root, path), body);
  }

  public async getBytes(path: string): Promise<Buffer | undefined> {
    try {
      return await readFile(join(this.root, path));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  public async list(prefix: string): Promise<string[]> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(this.root, { recursive: true, withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return (
      entries
        .filter((entry) => entry.isFile())
        .map((entry) =>
          relative(this.root, join(entry.parentPath, entry.name)).split(sep).join('/'),
        )
        // A temp file is a write still in flight, or one a crash cut short.
        .filter((path) => path.startsWith(prefix) && !TEMP_FILE.test(path))
        .sort()
    );
  }

  public keyOf(path: string): string {
    return join(this.root, path);
  }
}
