import { randomBytes } from 'node:crypto';
import { link, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { bodyBytes } from '../aws/body.js';
import { errorCode, httpStatus } from '../aws/errors.js';
import { ReportStoreError } from '../errors.js';
import { safeSegment } from '../evidence/paths.js';
import { writeFileAtomic } from './local-work-area.js';
import type { AlertLedgerStore } from './types.js';

/** Record names are made by the dispatcher: sink and batch ids, dots and slashes only. */
const RECORD_NAME = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_.-]+)*$/;

function checkName(name: string): string {
  if (!RECORD_NAME.test(name) || name.includes('..'))
    throw new ReportStoreError(`invalid alert ledger record name ${JSON.stringify(name)}`);
  return name;
}

/**
 * The ledger in a local folder, `<store>/alerts/<scanId>/<name>.json`. `create` writes a temp
 * file and hard-links it into place: `link` fails when the name exists, so exactly one of two
 * racing runs wins, and a reader never sees a half-written record.
 */
export class LocalAlertLedger implements AlertLedgerStore {
  public constructor(private readonly root: string) {}

  private dir(scanId: string): string {
    return join(this.root, 'alerts', safeSegment(scanId));
  }

  private path(scanId: string, name: string): string {
    return join(this.dir(scanId), `${checkName(name)}.json`);
  }

  public describe(scanId: string): string {
    return this.dir(scanId);
  }

  public async list(scanId: string): Promise<string[]> {
    const names: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (entry.name.endsWith('.json'))
          names.push(relative(this.dir(scanId), path).split(sep).join('/').slice(0, -5));
      }
    };
    await walk(this.dir(scanId));
    return names;
  }

  public async read(scanId: string, name: string): Promise<unknown | undefined> {
    const path = this.path(scanId, name);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ReportStoreError(`cannot read ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new ReportStoreError(`${path} is corrupt: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  public async create(scanId: string, name: string, record: unknown): Promise<boolean> {
    const path = this.path(scanId, name);
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    await writeFile(temp, `${JSON.stringify(record)}\n`);
    try {
      await link(temp, path);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw new ReportStoreError(`cannot write ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    } finally {
      await rm(temp, { force: true });
    }
  }

  public async write(scanId: string, name: string, record: unknown): Promise<void> {
    await writeFileAtomic(this.path(scanId, name), `${JSON.stringify(record)}\n`);
  }
}

/**
 * The ledger in the report bucket, `<prefix>/alerts/<scanId>/<name>.json`. `create` is a
 * PutObject with `If-None-Match: *`: S3 answers 412 when the key exists, and 409 when another
 * conditional write to it is in flight; either way this run did not win.
 */
export class S3AlertLedger implements AlertLedgerStore {
  public constructor(
    private readonly options: {
      s3: S3Client;
      bucket: string;
      prefix?: string;
      expectedOwner?: string;
      writeHeaders: Record<string, unknown>;
    },
  ) {}

  private base(scanId: string): string {
    const prefix = this.options.prefix ? `${this.options.prefix.replace(/\/$/, '')}/` : '';
    return `${prefix}alerts/${safeSegment(scanId)}/`;
  }

  private key(scanId: string, name: string): string {
    return `${this.base(scanId)}${checkName(name)}.json`;
  }

  private get owner() {
    return this.options.expectedOwner ? { ExpectedBucketOwner: this.options.expectedOwner } : {};
  }

  public describe(scanId: string): string {
    return `s3://${this.options.bucket}/${this.base(scanId)}`;
  }

  public async list(scanId: string): Promise<string[]> {
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.options.s3.send(
        new ListObjectsV2Command({
          Bucket: this.options.bucket,
          Prefix: this.base(scanId),
          ...(token ? { ContinuationToken: token } : {}),
          ...this.owner,
        }),
      );
      for (const object of page.Contents ?? [])
        if (object.Key?.endsWith('.json'))
          names.push(object.Key.slice(this.base(scanId).length, -5));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return names;
  }

  public async read(scanId: string, name: string): Promise<unknown | undefined> {
    try {
      const out = await this.options.s3.send(
        new GetObjectCommand({
          Bucket: this.options.bucket,
          Key: this.key(scanId, name),
          ...this.owner,
        }),
      );
      return JSON.parse((await bodyBytes(out.Body)).toString('utf8')) as unknown;
    } catch (error) {
      if (errorCode(error) === 'NoSuchKey' || httpStatus(error) === 404) return undefined;
      throw new ReportStoreError(
        `cannot read ${this.describe(scanId)}${name}.json: ${errorCode(error) || (error as Error).message}`,
        { cause: error },
      );
    }
  }

  private async put(scanId: string, name: string, record: unknown, create: boolean) {
    await this.options.s3.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: this.key(scanId, name),
        Body: `${JSON.stringify(record)}\n`,
        ContentType: 'application/json',
        ...this.options.writeHeaders,
        ...(create ? { IfNoneMatch: '*' } : {}),
      }),
    );
  }

  public async create(scanId: string, name: string, record: unknown): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.put(scanId, name, record, true);
        return true;
      } catch (error) {
        const status = httpStatus(error);
        if (status === 412) return false;
        // 409: another conditional write to the key is in flight; it may still fail, so ask again.
        if (status === 409 && attempt < 5) {
          await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
          continue;
        }
        if (status === 409) return false;
        throw new ReportStoreError(
          `cannot write ${this.describe(scanId)}${name}.json: ${errorCode(error) || (error as Error).message}`,
          { cause: error },
        );
      }
    }
  }

  public async write(scanId: string, name: string, record: unknown): Promise<void> {
    try {
      await this.put(scanId, name, record, false);
    } catch (error) {
      throw new ReportStoreError(
        `cannot write ${this.describe(scanId)}${name}.json: ${errorCode(error) || (error as Error).message}`,
        { cause: error },
      );
    }
  }
}
