import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import {
  link,
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
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ReportStoreError } from '../errors.js';
import type { ByteStore, FolderWriter, VersionedBytes } from './bytes.js';
import { TEMP_FILE, writeFileAtomic } from './local-files.js';
import { compareAndSwap } from './local-swap.js';

/** An error's message for the user; JSON.parse's quotes the text it read, so it is left out. */
export function withoutContent(error: unknown): string {
  return error instanceof SyntaxError ? 'not valid JSON' : (error as Error).message;
}

const missing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Bytes in a local folder. Reads follow no link out of the folder and read only regular files.
 * A new folder is written under a temporary name (`.partial-<scanId>-<pid>-<random>`) and
 * renamed into place by `commit`, so a crash never leaves half a folder under its real name.
 * `index.json` is swapped under a lock file (see local-swap.ts).
 */
export class LocalBytes implements ByteStore {
  public readonly root: string;
  #realRoot: Promise<string> | undefined;

  public constructor(
    root: string,
    /** Runs while a swap holds its lock, before it writes (the crash tests' adapter uses it). */
    private readonly whileLocked?: () => void,
  ) {
    this.root = resolve(root);
  }

  public describe(path?: string): string {
    return path ? join(this.root, path) : this.root;
  }

  public explain(error: unknown): string {
    return (error as Error).message;
  }

  /**
   * The file to read, if it is a regular file inside the store: a link that leads out of it
   * (to /etc/passwd, say) or anything but a file is refused, naming the path, not the target.
   */
  async #inside(file: string): Promise<string> {
    // The root's own real path is resolved once: the dashboard reads a page per request.
    // A root that does not exist yet is asked again next time (a work area is made on its
    // first write).
    this.#realRoot ??= realpath(this.root);
    const realRoot = this.#realRoot;
    realRoot.catch(() => {
      if (this.#realRoot === realRoot) this.#realRoot = undefined;
    });
    const [real, root] = await Promise.all([realpath(file), realRoot]);
    if (real !== root && !real.startsWith(`${root}${sep}`))
      throw new ReportStoreError(
        `${file} is a link that leads out of the store; s3scan reads only files inside ${this.root}`,
      );
    if (!(await stat(real)).isFile()) throw new ReportStoreError(`${file} is not a regular file`);
    return real;
  }

  public async get(path: string): Promise<Buffer | undefined> {
    const file = this.describe(path);
    try {
      return await readFile(await this.#inside(file));
    } catch (error) {
      if (missing(error)) return undefined;
      throw new ReportStoreError(`cannot read ${file}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  public async getVersioned(path: string): Promise<VersionedBytes | undefined> {
    const body = await this.get(path);
    return body ? { body, version: body.toString('utf8') } : undefined;
  }

  public async getRange(path: string, start: number, end: number): Promise<Buffer> {
    const file = this.describe(path);
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

  public async *stream(path: string): AsyncIterable<Uint8Array> {
    yield* createReadStream(await this.#inside(this.describe(path)));
  }

  public swap(path: string, body: string, version: string | undefined): Promise<boolean> {
    return compareAndSwap(this.describe(path), version, body, this.whileLocked);
  }

  /** A temp file hard-linked into place: `link` fails when the name exists. */
  public async create(path: string, body: string): Promise<boolean> {
    const file = this.describe(path);
    await mkdir(dirname(file), { recursive: true });
    const temp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    await writeFile(temp, body);
    try {
      await link(temp, file);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw new ReportStoreError(`cannot write ${file}: ${(error as Error).message}`, {
        cause: error,
      });
    } finally {
      await rm(temp, { force: true });
    }
  }

  public put(path: string, body: string | Buffer): Promise<void> {
    return writeFileAtomic(this.describe(path), body);
  }

  public async list(prefix: string): Promise<string[]> {
    // The folder the prefix names, or the one its last segment is in.
    const folder = prefix.endsWith('/') || prefix === '' ? prefix : dirname(prefix);
    const top = this.describe(folder === '.' ? '' : folder);
    const paths: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if (missing(error)) return;
        throw error;
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else paths.push(relative(this.root, path).split(sep).join('/'));
      }
    };
    await walk(top);
    return paths.filter((path) => path.startsWith(prefix) && !TEMP_FILE.test(path)).sort();
  }

  public createFolder(path: string, scanId: string): FolderWriter {
    const finalDir = this.describe(path);
    const tempDir = join(
      dirname(finalDir),
      `.partial-${scanId}-${process.pid}-${randomBytes(4).toString('hex')}`,
    );
    const place = async (relative: string) => {
      const file = join(tempDir, relative);
      await mkdir(dirname(file), { recursive: true });
      return file;
    };
    return {
      put: async (relative, body) => {
        await writeFile(await place(relative), body);
      },
      putStream: async (relative, chunks) => {
        await pipeline(Readable.from(chunks), createWriteStream(await place(relative)));
      },
      commit: async () => {
        await mkdir(tempDir, { recursive: true });
        // Not in the index, so nothing points at it: the remains of a crash before publishing.
        await rm(finalDir, { recursive: true, force: true });
        await rename(tempDir, finalDir);
      },
      abort: () => rm(tempDir, { recursive: true, force: true }),
    };
  }
}
