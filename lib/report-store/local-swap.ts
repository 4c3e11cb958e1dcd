/**
 * Compare-and-swap of a local file: the local analogue of S3's conditional write (`If-Match`).
 * A rename alone is atomic but unconditional, so two writers that read the same index.json
 * would each rename their own, and one scan would vanish from it. The swap runs under a
 * short-lived lock file created exclusively (`O_EXCL`); the holder compares the file with
 * what the writer read and replaces it only if it is unchanged.
 */
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { ReportStoreError } from '../errors.js';
import { writeFileAtomic } from './local-files.js';

/** A lock held longer than this by a live process is reported, not taken (ms). */
const LOCK_WAIT_MS = 30_000;

/** A lock whose holder is gone is taken over once it is at least this old (ms). */
const STALE_AFTER_MS = 1_000;

/** Whether a process of this host is still running (EPERM: it is, and not ours). */
export function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The current text of a file, or undefined when it does not exist. */
export async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Takes the lock of a stale holder (a process on this host that is gone, a kill -9 inside the
 * swap). The lock is moved aside, and moved back if it turns out to be another writer's new one.
 */
async function takeStale(lockPath: string, seen: string): Promise<void> {
  const aside = `${lockPath}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch {
    return;
  }
  const moved = await readText(aside);
  if (moved !== seen) await link(aside, lockPath).catch(() => undefined);
  await rm(aside, { force: true });
}

async function acquire(lockPath: string): Promise<string> {
  const token = `${process.pid} ${hostname()} ${randomBytes(8).toString('hex')}\n`;
  const started = Date.now();
  for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
    try {
      const handle = await open(lockPath, 'wx');
      try {
        await handle.writeFile(token);
      } finally {
        await handle.close();
      }
      return token;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readText(lockPath);
    if (holder !== undefined) {
      const [pid, host] = holder.split(' ');
      const age = await stat(lockPath).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (host === hostname() && !alive(Number(pid)) && age >= STALE_AFTER_MS) {
        await takeStale(lockPath, holder);
        continue;
      }
      if (Date.now() - started > LOCK_WAIT_MS)
        throw new ReportStoreError(
          `${lockPath} has been held for ${Math.round(age / 1000)} s by process ${pid} on ${host}; if no s3scan runs there, remove the file`,
        );
    }
    await sleep(wait + Math.random() * wait);
  }
}

/**
 * Replaces `path` with `replacement` if its text is still `expected` (undefined: the file must
 * not exist). Returns false, changing nothing, when another writer got there first: the caller
 * reads again, merges and retries.
 */
export async function compareAndSwap(
  path: string,
  expected: string | undefined,
  replacement: string,
  /** Runs while the lock is held, before the write: the crash tests' fail point. */
  whileLocked?: () => void,
): Promise<boolean> {
  const lockPath = `${path}.lock`;
  const token = await acquire(lockPath);
  try {
    if ((await readText(path)) !== expected) return false;
    whileLocked?.();
    await writeFileAtomic(path, replacement);
    return true;
  } finally {
    // Only our own lock, never one another writer holds.
    if ((await readText(lockPath)) === token) await rm(lockPath, { force: true });
  }
}
