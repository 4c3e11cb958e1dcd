import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

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
