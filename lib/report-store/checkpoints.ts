import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConfigError } from '../errors.js';
import type { WorkArea } from './work-area.js';

/**
 * Where an interrupted scan keeps its checkpoint until a resume continues it. The store keeps
 * JSON; what a usable checkpoint is, the caller says (`check`), so the store knows no collector.
 */
export interface CheckpointStore<T> {
  /** The checkpoint, or undefined when there is none. Throws when one exists but is unusable. */
  load(): Promise<T | undefined>;
  save(checkpoint: T): Promise<void>;
  /** Forgets the checkpoint once its scan is published, so it is never resumed twice. */
  clear(): Promise<void>;
  /** Where it is kept, for messages. */
  describe(): string;
}

/** Says whether a stored value is a checkpoint the caller can resume; the reason when not. */
export type CheckpointCheck<T> = (value: unknown) => value is T;

function usable<T>(value: unknown, where: string, check: CheckpointCheck<T>): T {
  if (!check(value))
    throw new ConfigError(`${where} is not a usable checkpoint: not an s3scan checkpoint`);
  return value;
}

/** A checkpoint file (the CLI keeps `checkpoint.json` at the root of its store). */
export function fileCheckpoints<T>(path: string, check: CheckpointCheck<T>): CheckpointStore<T> {
  return {
    describe: () => path,
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch {
        return undefined;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        throw new ConfigError(`${path} is not a usable checkpoint: ${(error as Error).message}`, {
          cause: error,
        });
      }
      return usable(parsed, path, check);
    },
    async save(checkpoint) {
      // The store may not exist yet: a scan interrupted before its first report.
      await mkdir(dirname(path), { recursive: true });
      const temp = `${path}.tmp-${process.pid}`;
      await writeFile(temp, `${JSON.stringify(checkpoint)}\n`);
      await rename(temp, path);
    },
    async clear() {
      await rm(path, { force: true });
    },
  };
}

const CHECKPOINT = 'checkpoint.json';

/** A scan's checkpoint in its work area (the Lambdas: beside the reports in S3). */
export function workAreaCheckpoints<T>(
  work: WorkArea,
  check: CheckpointCheck<T>,
): CheckpointStore<T> {
  return {
    describe: () => work.keyOf(CHECKPOINT),
    async load() {
      // A cleared checkpoint is a JSON null: the work area has no delete, and needs none.
      const value = await work.get<unknown>(CHECKPOINT);
      return value === undefined || value === null
        ? undefined
        : usable(value, work.keyOf(CHECKPOINT), check);
    },
    save: (checkpoint) => work.put(CHECKPOINT, checkpoint),
    clear: () => work.put(CHECKPOINT, null),
  };
}
